import time
from unittest import mock

from django.core.cache import cache

from rallypoint.ledger.caching import cached


def test_cached_computes_once_while_fresh():
    calls = []
    assert cached("k", 5, lambda: calls.append(1) or len(calls)) == 1
    assert cached("k", 5, lambda: calls.append(1) or len(calls)) == 1
    assert calls == [1]


def test_cached_stale_value_served_while_another_caller_refreshes():
    cached("k", 5, lambda: "old")
    later = time.time() + 6
    with mock.patch("time.time", return_value=later):
        cache.add("k:lock", 1)  # someone else is recomputing right now
        assert cached("k", 5, lambda: "new") == "old"
        cache.delete("k:lock")
        assert cached("k", 5, lambda: "new") == "new"
    assert cache.get("k:lock") is None


def test_cached_without_cache_always_computes():
    cached("k", 5, lambda: "old")
    assert cached("k", 5, lambda: "new", use_cache=False) == "new"
