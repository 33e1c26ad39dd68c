"""core.cache: what a cached value answers, for how long, and how forgetting it works."""

import time
import warnings

import pytest

from rallypoint.core.cache import STALE_SECONDS, CachedValue

VALUE = CachedValue("tests.value", fresh_for=5)
OTHER = CachedValue("tests.other", fresh_for=5)


@pytest.fixture
def clock(monkeypatch):
    now = [time.time()]
    monkeypatch.setattr(time, "time", lambda: now[0])
    return now


def counter():
    calls = []

    def compute():
        calls.append(1)
        return len(calls)

    return compute, calls


def test_value_computed_once_while_fresh(clock):
    compute, calls = counter()
    assert VALUE.get(compute) == 1
    clock[0] += 4.9
    assert VALUE.get(compute) == 1
    assert calls == [1]


def test_value_recomputed_once_its_freshness_has_passed(clock):
    compute, _ = counter()
    VALUE.get(compute)
    clock[0] += 5.1
    assert VALUE.get(compute) == 2
    assert VALUE.get(compute) == 2


def test_stale_value_served_while_another_caller_refreshes(clock):
    VALUE.get(lambda: "old")
    clock[0] += 6
    seen_meanwhile = []

    def slow_refresh():
        # Another request arrives while this one recomputes: it gets the previous value.
        seen_meanwhile.append(VALUE.get(lambda: "computed twice"))
        return "new"

    assert VALUE.get(slow_refresh) == "new"
    assert seen_meanwhile == ["old"]
    assert VALUE.get(lambda: "computed again") == "new"


def test_stale_value_is_not_kept_forever(clock):
    VALUE.get(lambda: "old")
    clock[0] += 5 + STALE_SECONDS + 1
    assert VALUE.get(lambda: "new") == "new"


def test_failed_refresh_lets_the_next_caller_try(clock):
    VALUE.get(lambda: "old")
    clock[0] += 6

    def broken():
        raise RuntimeError("database went away")

    with pytest.raises(RuntimeError):
        VALUE.get(broken)
    assert VALUE.get(lambda: "new") == "new"


def test_forget_drops_the_scope_at_once_and_only_that_scope():
    VALUE.get(lambda: "a1", scope=1)
    VALUE.get(lambda: "b1", scope=2)
    OTHER.get(lambda: "o1", scope=1)
    VALUE.forget(1)
    assert VALUE.get(lambda: "a2", scope=1) == "a2"
    assert VALUE.get(lambda: "b2", scope=2) == "b1"
    assert OTHER.get(lambda: "o2", scope=1) == "o1"


def test_forget_reaches_every_key_of_the_scope():
    VALUE.get(lambda: "short", scope=7, key=5)
    VALUE.get(lambda: "long", scope=7, key=50)
    VALUE.forget(7)
    assert VALUE.get(lambda: "short again", scope=7, key=5) == "short again"
    assert VALUE.get(lambda: "long again", scope=7, key=50) == "long again"


def test_forgotten_value_is_never_served_stale(clock):
    VALUE.get(lambda: "old")
    clock[0] += 6
    VALUE.forget()
    seen_meanwhile = []

    def refresh():
        seen_meanwhile.append(VALUE.get(lambda: "fresh too"))
        return "new"

    assert VALUE.get(refresh) == "new"
    assert seen_meanwhile == ["fresh too"]


def test_answer_computed_before_a_write_is_not_kept_after_it():
    def read_then_write_happens():
        answer = "before the write"
        VALUE.forget()  # the write commits while this read is still running
        return answer

    assert VALUE.get(read_then_write_happens) == "before the write"
    assert VALUE.get(lambda: "after the write") == "after the write"


def test_nothing_found_is_not_kept():
    assert VALUE.get(lambda: None, scope="new-slug") is None
    assert VALUE.get(lambda: "now it exists", scope="new-slug") == "now it exists"


def test_use_cache_false_computes_and_keeps_nothing():
    VALUE.get(lambda: "kept")
    assert VALUE.get(lambda: "live", use_cache=False) == "live"
    assert VALUE.get(lambda: "other") == "kept"


def test_nothing_is_kept_outside_the_cache(settings):
    VALUE.get(lambda: "old", scope=3)
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "an-empty-cache",
        }
    }
    assert VALUE.get(lambda: "new", scope=3) == "new"


def test_put_and_peek(clock):
    assert VALUE.peek(key="/page/") is None
    VALUE.put("copy", key="/page/")
    assert VALUE.peek(key="/page/") == "copy"
    clock[0] += 5.1
    assert VALUE.peek(key="/page/") is None
    VALUE.put("copy", key="/page/")
    VALUE.forget()
    assert VALUE.peek(key="/page/") is None


@pytest.mark.parametrize(
    "part", ["with space", "ünïcödé", "x" * 400, "tab\there", "nul\x00", "\ud800", ("a", 1)]
)
def test_any_scope_or_key_makes_a_valid_cache_key(part):
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert VALUE.get(lambda: "v", scope=part, key=part) == "v"
        assert VALUE.get(lambda: "w", scope=part, key=part) == "v"
        VALUE.forget(part)
        assert VALUE.get(lambda: "w", scope=part, key=part) == "w"
