"""The outbox: written with the rows it describes, read after commit, in order, once per
consumer, and nothing lost when a consumer fails."""

from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from rallypoint.core.models import AuditEntry, OutboxCursor, OutboxEvent
from rallypoint.core.outbox import (
    outbox_consumer_register,
    outbox_consumer_unregister,
    outbox_process,
    outbox_prune,
    outbox_record,
    outbox_record_many,
    subject_render,
)

pytestmark = pytest.mark.django_db


class Recorder:
    """A consumer that writes a row per event (so its writes can be seen to roll back) and can
    be told to fail."""

    def __init__(self, name: str):
        self.name = name
        self.seen: list[tuple[int, str]] = []
        self.fail = False

    def __call__(self, events: list[OutboxEvent]) -> None:
        for event in events:
            AuditEntry.objects.create(
                action=f"{self.name}:{event.kind}", object_type="outbox", object_id=str(event.pk)
            )
        if self.fail:
            raise RuntimeError("the consumer failed")
        self.seen += [(event.pk, event.kind) for event in events]


@pytest.fixture
def consumer():
    recorder = Recorder("test-consumer")
    outbox_consumer_register(recorder.name, recorder)
    yield recorder
    outbox_consumer_unregister(recorder.name)


@pytest.fixture
def second_consumer():
    recorder = Recorder("test-second")
    outbox_consumer_register(recorder.name, recorder)
    yield recorder
    outbox_consumer_unregister(recorder.name)


def kinds(recorder: Recorder) -> list[str]:
    return [kind for _, kind in recorder.seen]


def test_outbox_events_reach_a_consumer_in_order_after_commit(
    consumer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        outbox_record("test.one", payload={"n": 1})
        outbox_record_many([("test.two", None, {"n": 2}), ("test.three", None, None)])
        assert consumer.seen == []  # nothing is read before commit
    assert kinds(consumer) == ["test.one", "test.two", "test.three"]
    ids = [pk for pk, _ in consumer.seen]
    assert ids == sorted(ids)
    assert OutboxEvent.objects.get(kind="test.two").payload == {"n": 2}


def test_outbox_process_run_again_hands_out_nothing_twice(
    consumer, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        outbox_record("test.one")
    assert outbox_process() == 0
    assert outbox_process(consumer=consumer.name) == 0
    with django_capture_on_commit_callbacks(execute=True):
        outbox_record("test.two")
    assert kinds(consumer) == ["test.one", "test.two"]
    assert AuditEntry.objects.filter(object_type="outbox").count() == 2
    assert OutboxCursor.objects.get(consumer=consumer.name).position == max(
        pk for pk, _ in consumer.seen
    )


def test_rolled_back_write_leaves_no_outbox_event_and_wakes_nobody(
    consumer, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        outbox_record("test.one")
        raise RuntimeError("the service failed")
    assert callbacks == []
    assert OutboxEvent.objects.count() == 0
    assert consumer.seen == []


def test_failing_consumer_loses_nothing_and_holds_back_no_other(
    consumer, second_consumer, django_capture_on_commit_callbacks
):
    consumer.fail = True
    with django_capture_on_commit_callbacks(execute=True):
        outbox_record("test.one")
        outbox_record("test.two")
    assert consumer.seen == []
    assert kinds(second_consumer) == ["test.one", "test.two"]
    # What the failing consumer wrote rolled back with its cursor.
    assert AuditEntry.objects.filter(action__startswith="test-consumer:").count() == 0
    assert OutboxEvent.objects.count() == 2
    consumer.fail = False
    assert outbox_process() == 2
    assert kinds(consumer) == ["test.one", "test.two"]
    assert kinds(second_consumer) == ["test.one", "test.two"]
    assert AuditEntry.objects.filter(action__startswith="test-consumer:").count() == 2


def test_event_committed_after_a_later_one_is_still_handled_once(consumer):
    # On PostgreSQL an id is drawn before commit, so a later id can be visible first: here the
    # event with the lower id appears only after the consumer has read past it.
    first = outbox_record("test.first")
    later = OutboxEvent.objects.create(pk=first.pk + 2, kind="test.later")
    outbox_process()
    assert OutboxCursor.objects.get(consumer=consumer.name).position == later.pk
    OutboxEvent.objects.create(pk=first.pk + 1, kind="test.late")
    outbox_process()
    outbox_process()
    assert kinds(consumer) == ["test.first", "test.later", "test.late"]
    assert OutboxCursor.objects.get(consumer=consumer.name).gaps == []


def test_missing_id_is_forgotten_after_the_gap_window(consumer, settings):
    settings.OUTBOX_GAP_SECONDS = 0
    first = outbox_record("test.first")
    OutboxEvent.objects.create(pk=first.pk + 2, kind="test.later")
    outbox_process()
    outbox_process()
    assert OutboxCursor.objects.get(consumer=consumer.name).gaps == []


def test_consumer_that_does_not_want_a_kind_is_not_woken(
    settings, django_capture_on_commit_callbacks
):
    from django_tasks import task_backends

    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend", "QUEUES": []}
    }
    backend = task_backends["default"]
    backend.clear()
    handled: list[str] = []
    outbox_consumer_register(
        "test-picky", lambda events: handled.extend(e.kind for e in events), wants="test.b".__eq__
    )
    try:
        with django_capture_on_commit_callbacks(execute=True):
            outbox_record("test.a")
        assert backend.results == []
        with django_capture_on_commit_callbacks(execute=True):
            outbox_record("test.b")
        (wake,) = backend.results
        wake.task.call()
        # Read in order with the next event it wants: the consumer sees everything.
        assert handled == ["test.a", "test.b"]
    finally:
        outbox_consumer_unregister("test-picky")
        backend.clear()


def test_outbox_prune_keeps_what_a_consumer_has_not_read(consumer):
    old = outbox_record("test.old")
    OutboxEvent.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=8))
    assert outbox_prune() == 0  # not read yet
    outbox_process()
    assert outbox_prune() == 1
    assert outbox_prune(older_than=timedelta(0)) == 0
    assert list(OutboxEvent.objects.all()) == []


def test_subject_is_rendered_by_the_app_that_owns_it():
    from tests.factories import PersonFactory

    person = PersonFactory(given_name="Ana")
    record = subject_render("people.person", str(person.pk))
    assert record is not None
    assert record["given_name"] == "Ana"
    assert record["identifiers"][0] == f"rallypoint:{person.uuid}"
    person_pk = person.pk
    person.delete()
    assert subject_render("people.person", person_pk) is None
    with pytest.raises(LookupError):
        subject_render("core.auditentry", 1)


@pytest.mark.django_db(transaction=True)
def test_two_workers_at_once_hand_each_event_out_once(settings):
    import threading

    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("SQLite takes the write lock at BEGIN: two workers cannot overlap there")
    settings.OUTBOX_BATCH = 7
    outbox_record_many([(f"test.{n}", None, None) for n in range(100)])
    recorder = Recorder("test-racing")
    outbox_consumer_register(recorder.name, recorder)  # after the writes: nothing ran yet
    start = threading.Barrier(2)

    def worker() -> None:
        start.wait()
        try:
            outbox_process(consumer=recorder.name)
        finally:
            connections.close_all()

    try:
        threads = [threading.Thread(target=worker) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    finally:
        outbox_consumer_unregister(recorder.name)
    assert kinds(recorder) == [f"test.{n}" for n in range(100)]
    assert AuditEntry.objects.filter(object_type="outbox").count() == 100
