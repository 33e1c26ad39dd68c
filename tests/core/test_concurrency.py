"""The write bulkhead: at most WRITE_CONCURRENCY public writes per process, pages never wait."""

import threading
import time

import pytest
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse

from rallypoint.actions import spam
from rallypoint.actions.models import Submission
from rallypoint.core.concurrency import (
    Busy,
    FairSlots,
    Together,
    write_slot,
    write_slots,
    write_turn,
)
from rallypoint.events.models import Rsvp
from rallypoint.people.models import Person
from tests.actions.factories import ActionFactory
from tests.events.factories import EventFactory
from tests.groups.factories import GroupFactory


class Occupancy:
    """Counts how many threads are inside `busy()` at once, and the most there ever were."""

    def __init__(self):
        self.now = self.peak = 0
        self._guard = threading.Lock()

    def busy(self, seconds: float) -> None:
        with self._guard:
            self.now += 1
            self.peak = max(self.peak, self.now)
        time.sleep(seconds)
        with self._guard:
            self.now -= 1


def run_threads(target, count: int) -> None:
    threads = [threading.Thread(target=target) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


@pytest.fixture
def one_slot(settings):
    settings.WRITE_CONCURRENCY = 1
    settings.WRITE_WAIT_SECONDS = 0.05
    return write_slots()


def test_bound_holds_and_every_write_finishes(settings):
    settings.WRITE_CONCURRENCY = 3
    settings.WRITE_WAIT_SECONDS = 30
    occupancy = Occupancy()

    @write_slot
    def slow_view(request):
        occupancy.busy(0.02)
        return HttpResponse("ok")

    factory = RequestFactory()
    statuses = []
    run_threads(lambda: statuses.append(slow_view(factory.post("/x/")).status_code), 12)
    assert statuses == [200] * 12
    assert occupancy.peak == 3


def test_get_is_never_held_back(one_slot):
    calls = []

    @write_slot
    def view(request):
        calls.append(request.method)
        return HttpResponse("page")

    factory = RequestFactory()
    with one_slot:  # every write slot taken
        assert view(factory.get("/x/")).status_code == 200
        assert view(factory.head("/x/")).status_code == 200
    assert calls == ["GET", "HEAD"]


def test_waiting_write_runs_when_a_slot_frees(settings):
    settings.WRITE_CONCURRENCY = 1
    settings.WRITE_WAIT_SECONDS = 10
    slots = write_slots()

    @write_slot
    def view(request):
        return HttpResponse("saved")

    result = {}
    slots.acquire()
    waiter = threading.Thread(
        target=lambda: result.update(status=view(RequestFactory().post("/x/")).status_code)
    )
    waiter.start()
    time.sleep(0.1)
    assert "status" not in result  # still waiting its turn
    slots.release()
    waiter.join(timeout=5)
    assert result == {"status": 200}


@pytest.mark.django_db
def test_setting_change_resizes_the_slots(settings):
    settings.WRITE_CONCURRENCY = 2
    first = write_slots()
    settings.WRITE_CONCURRENCY = 5
    second = write_slots()
    assert first is not second
    assert all(second.acquire(timeout=0) for _ in range(5))
    assert not second.acquire(timeout=0)
    for _ in range(5):
        second.release()


@pytest.mark.django_db
def test_busy_petition_gets_a_polite_503_and_stores_nothing(client, one_slot):
    action = ActionFactory()
    url = reverse("actions:detail", args=[action.slug])
    data = {
        "given_name": "Ana",
        "family_name": "Ruiz",
        "email": "ana@example.org",
        "postal_code": "80202",
    }
    with one_slot:
        page = client.get(url)
        busy = client.post(url, data)
    assert page.status_code == 200
    assert busy.status_code == 503
    assert busy["Retry-After"] == "10"
    html = busy.content.decode()
    assert "very busy" in html and "Nothing was stored" in html
    assert Submission.objects.count() == 0 and Person.objects.count() == 0
    # With the slot free again the same POST goes through.
    assert client.post(url, data).status_code == 302
    assert Submission.objects.count() == 1


@pytest.mark.django_db
def test_busy_join_embed_and_rsvp_are_bounded_too(client, one_slot):
    action = ActionFactory()
    event = EventFactory()
    with one_slot:
        join = client.post(reverse("people:join"), {"email": "b@example.org"})
        embed = client.post(
            reverse("actions:embed", args=[action.slug]),
            {
                "given_name": "Cy",
                "family_name": "Ruiz",
                "email": "c@example.org",
                "postal_code": "80202",
                "form_token": spam.embed_token(action.pk),
            },
        )
        rsvp = client.post(
            f"{event.get_absolute_url()}rsvp/", {"given_name": "Di", "email": "d@example.org"}
        )
    assert [join.status_code, embed.status_code, rsvp.status_code] == [503, 503, 503]
    # The embedded form answers inside the host site's iframe: no site header, framing allowed.
    assert "very busy" in embed.content.decode() and "site-header" not in embed.content.decode()
    assert "X-Frame-Options" not in embed and "X-Frame-Options" in join
    assert Person.objects.count() == 0 and Rsvp.objects.count() == 0
    # A form with a mistake is answered at once, without waiting for a write slot.
    with one_slot:
        mistake = client.post(reverse("actions:detail", args=[action.slug]), {"email": "c@x.org"})
    assert mistake.status_code == 200 and "very busy" not in mistake.content.decode()


@pytest.mark.django_db
def test_busy_group_join_signup_and_api_helpers_are_bounded_too(client, one_slot):
    """The same write policy for every public write: a group join, an account sign-up and
    the API's record helpers wait for a slot too, and say so when none came."""
    group, action, event = GroupFactory(), ActionFactory(), EventFactory()
    person = {"person": {"email_addresses": [{"address": "e@example.org"}]}}
    with one_slot:
        join = client.post(
            reverse("groups:join", args=[group.slug]), {"given_name": "A", "email": "a@x.org"}
        )
        signup = client.post(reverse("accounts:signup"), {"email": "s@example.org"})
        helpers = [
            client.post(path, person, content_type="application/json")
            for path in (
                f"/api/v1/petitions/{action.uuid}/signatures",
                f"/api/v1/events/{event.uuid}/attendances",
            )
        ]
    assert [join.status_code, signup.status_code] == [503, 503]
    assert "very busy" in join.content.decode()
    assert [r.status_code for r in helpers] == [503, 503]
    assert [r["Retry-After"] for r in helpers] == ["10", "10"]
    assert helpers[0].json()["osdi:error"]["response_code"] == 503
    assert Person.objects.count() == 0 and Submission.objects.count() == 0
    assert Rsvp.objects.count() == 0
    # With the slot free again the same helper post goes through.
    again = client.post(
        f"/api/v1/petitions/{action.uuid}/signatures", person, content_type="application/json"
    )
    assert again.status_code == 200 and Submission.objects.count() == 1


def test_write_turn_holds_a_slot_and_says_busy_when_none_frees(one_slot):
    with write_turn(), pytest.raises(Busy), write_turn():
        pass  # pragma: no cover
    with write_turn():  # given back
        pass


def test_grouped_view_answers_busy_with_the_page_and_takes_no_slot_itself(one_slot):
    @write_slot(grouped=True, bare=True)
    def view(request):
        assert one_slot.acquire(timeout=0)  # the view itself holds none
        one_slot.release()
        raise Busy()

    response = view(RequestFactory().post("/x/"))
    assert response.status_code == 503 and response["Retry-After"] == "10"
    assert "site-header" not in response.content.decode()


def test_slots_are_served_in_order_of_arrival():
    slots = FairSlots(1)
    slots.acquire()
    order = []

    def wait(name):
        slots.acquire(timeout=5)
        order.append(name)
        slots.release()

    threads = []
    for name in "abcde":
        thread = threading.Thread(target=wait, args=(name,))
        thread.start()
        threads.append(thread)
        while slots.waiting < len(threads):  # queued before the next one arrives
            time.sleep(0.001)
    slots.release()
    for thread in threads:
        thread.join(timeout=5)
    assert order == list("abcde")


def test_a_timed_out_waiter_leaves_the_queue_and_the_count_stays_right():
    slots = FairSlots(2)
    assert slots.acquire(timeout=0) and slots.acquire(timeout=0)
    assert not slots.acquire(timeout=0.01)
    assert slots.waiting == 0
    slots.release()
    slots.release()
    assert slots.acquire(timeout=0) and slots.acquire(timeout=0)
    assert not slots.acquire(timeout=0)
    slots.release()
    slots.release()
    with pytest.raises(ValueError):
        slots.release()


def test_many_threads_never_exceed_the_bound():
    slots, occupancy = FairSlots(3), Occupancy()

    def work():
        for _ in range(20):
            assert slots.acquire(timeout=10)
            occupancy.busy(0.0005)
            slots.release()

    run_threads(work, 10)
    assert occupancy.peak == 3 and occupancy.now == 0
    # Every slot came back: three can be held at once again, and not a fourth.
    assert all(slots.acquire(timeout=0) for _ in range(3))
    assert not slots.acquire(timeout=0)


class Recorder:
    """A write_many that records its batches; the first call waits for `gate`."""

    def __init__(self):
        self.batches = []
        self.gate = threading.Event()
        self.fail = set()

    def __call__(self, items):
        self.batches.append(list(items))
        if len(self.batches) == 1:
            self.gate.wait(timeout=5)
        return [ValueError(i) if i in self.fail else f"done {i}" for i in items]


def _start(together, recorder, items, results):
    def run(item):
        try:
            results[item] = together.run(item)
        except Exception as exc:
            results[item] = exc

    def arrived() -> int:
        return sum(len(batch) for batch in recorder.batches) + together.waiting

    threads = []
    for item in items:
        before = arrived()
        thread = threading.Thread(target=run, args=(item,))
        thread.start()
        threads.append(thread)
        while arrived() == before:  # queued (or being written) before the next one arrives
            time.sleep(0.001)
    return threads


def _idle(together, recorder) -> bool:
    """Nothing waits, and the next item is written at once, alone, in its caller's thread."""
    batches = len(recorder.batches)
    recorder.gate.set()
    return (
        together.waiting == 0
        and together.run("next") == "done next"
        and recorder.batches[batches:] == [["next"]]
    )


def test_together_alone_writes_at_once_in_its_own_thread(settings):
    settings.WRITE_CONCURRENCY = 1
    recorder = Recorder()
    recorder.gate.set()
    together = Together(recorder, max_batch=4)
    assert together.run("a") == "done a"
    assert recorder.batches == [["a"]]


def test_together_queued_items_are_written_in_batches_in_order(settings):
    settings.WRITE_CONCURRENCY = 1
    recorder = Recorder()
    together = Together(recorder, max_batch=3)
    results = {}
    recorder.fail = {"c"}
    threads = _start(together, recorder, ["a", "b", "c", "d", "e", "f"], results)
    recorder.gate.set()
    for thread in threads:
        thread.join(timeout=5)
    # The first writer took its own item; the rest queued behind it and went in order, three
    # at a time at most.
    assert recorder.batches == [["a"], ["b", "c", "d"], ["e", "f"]]
    assert results["b"] == "done b" and results["f"] == "done f"
    assert isinstance(results["c"], ValueError)  # only that item's request sees its error
    assert _idle(together, recorder)


def test_together_an_error_of_the_writer_reaches_its_batch_and_the_next_batch_runs(settings):
    settings.WRITE_CONCURRENCY = 1
    calls = []

    def write_many(items):
        calls.append(list(items))
        if len(calls) == 1:
            raise RuntimeError("bug")
        return items

    together = Together(write_many)
    with pytest.raises(RuntimeError):
        together.run("a")
    assert together.run("b") == "b"


def test_together_waiting_too_long_is_busy_and_writes_nothing(settings):
    settings.WRITE_CONCURRENCY = 1
    settings.WRITE_WAIT_SECONDS = 0.05
    recorder = Recorder()
    together = Together(recorder, max_batch=4)
    results = {}
    threads = _start(together, recorder, ["a", "b"], results)
    threads[1].join(timeout=5)  # "b" gives up while "a" is being written
    assert isinstance(results["b"], Busy)
    recorder.gate.set()
    threads[0].join(timeout=5)
    assert results["a"] == "done a"
    assert recorder.batches == [["a"]]
    assert _idle(together, recorder)


def test_together_takes_a_write_slot_for_each_batch(one_slot):
    together = Together(lambda items: items)
    with one_slot, pytest.raises(Busy):
        together.run("a")
    assert together.run("b") == "b"
    # The lead was handed back: a later item is written at once, alone.
    assert together.waiting == 0 and together.run("c") == "c"
