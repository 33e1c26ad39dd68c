import hashlib
import hmac
import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from rallypoint.core.outbox import outbox_record
from rallypoint.core.tasks import process_outbox
from rallypoint.webhooks.models import Delivery, Hook, PendingEvent
from rallypoint.webhooks.services import (
    delivery_attempt,
    hook_create,
    hook_set_active,
    hook_update,
    signature_valid,
)
from rallypoint.webhooks.tasks import attempt_delivery, flush_hook

pytestmark = pytest.mark.django_db


@pytest.fixture
def hook(receiver, organizer):
    return hook_create(
        name="Warehouse",
        url=receiver.url,
        event_types=["person.created", "signature"],
        actor=organizer,
    )


def run(result):
    """What a worker does with an enqueued task."""
    return result.task.call(*result.args, **result.kwargs)


def run_outbox(dummy_tasks, capture) -> None:
    """What a worker does with the outbox task the services' commit enqueued."""
    outbox_tasks = [r for r in dummy_tasks.results if r.task.name == process_outbox.name]
    assert outbox_tasks
    with capture(execute=True):
        for result in outbox_tasks:
            run(result)


def test_events_of_one_second_travel_in_one_signed_batch(
    hook, receiver, dummy_tasks, django_capture_on_commit_callbacks, monkeypatch
):
    from types import SimpleNamespace

    from rallypoint.webhooks.services import emit

    # The batch window is the clock's second: the clock is held inside one second, or on a slow
    # machine the five events can fall in two windows (and rightly make two flushes).
    now = time.time()
    monkeypatch.setattr(emit, "time", SimpleNamespace(time=lambda: now))
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(5):
            outbox_record("signature", payload={"n": n})
    assert PendingEvent.objects.count() == 0  # the worker reads the outbox after commit
    run_outbox(dummy_tasks, django_capture_on_commit_callbacks)
    assert PendingEvent.objects.count() == 5
    flushes = [r for r in dummy_tasks.results if r.task.name == flush_hook.name]
    assert len(flushes) == 1
    assert flushes[0].args == [hook.pk]
    run_after = flushes[0].task.run_after
    assert run_after.microsecond == 0
    assert run_after == datetime.fromtimestamp(int(now) + 1, UTC)
    assert run(flushes[0]) == 1
    assert len(receiver.requests) == 1
    request = receiver.requests[0]
    body = json.loads(request["body"])
    assert [item["osdi:signature"] for item in body] == [{"n": n} for n in range(5)]
    assert {item["event_type"] for item in body} == {"signature"}
    timestamp = request["headers"]["Rallypoint-Webhook-Timestamp"]
    expected = hmac.new(
        hook.secret.encode(), f"{timestamp}.".encode() + request["body"], hashlib.sha256
    ).hexdigest()
    assert request["headers"]["Rallypoint-Webhook-Signature"] == f"sha256={expected}"
    assert abs(int(timestamp) - time.time()) < 5
    delivery = Delivery.objects.get()
    assert request["headers"]["Rallypoint-Webhook-Id"] == str(delivery.uuid)
    assert (delivery.status, delivery.response_code, delivery.attempts) == ("delivered", 200, 1)
    assert delivery.event_count == 5
    assert PendingEvent.objects.count() == 0


def test_signature_check_refuses_tampering_and_old_timestamps():
    now = str(int(time.time()))
    good = "sha256=" + hmac.new(b"s3cret", f"{now}.".encode() + b"[]", hashlib.sha256).hexdigest()
    assert signature_valid("s3cret", now, b"[]", good) is True
    assert signature_valid("s3cret", now, b"[1]", good) is False
    assert signature_valid("other", now, b"[]", good) is False
    old = str(int(time.time()) - 600)
    old_sig = "sha256=" + hmac.new(b"s3cret", f"{old}.[]".encode(), hashlib.sha256).hexdigest()
    assert signature_valid("s3cret", old, b"[]", old_sig) is False


def test_events_are_batched_up_to_the_maximum(
    hook, receiver, dummy_tasks, settings, django_capture_on_commit_callbacks
):
    settings.WEBHOOK_BATCH_MAX = 2
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(5):
            outbox_record("signature", payload={"n": n})
    run_outbox(dummy_tasks, django_capture_on_commit_callbacks)
    flush = next(r for r in dummy_tasks.results if r.task.name == flush_hook.name)
    assert run(flush) == 3
    assert [len(body) for body in receiver.bodies()] == [2, 2, 1]


def test_rolled_back_write_emits_nothing(hook, django_capture_on_commit_callbacks):
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        outbox_record("signature", payload={"n": 1})
        raise RuntimeError("the service failed")
    assert PendingEvent.objects.count() == 0


@pytest.fixture
def webhooks_only():
    """Only the webhooks consumer listens (goal milestones also want attendances)."""
    from rallypoint.core.outbox import outbox_consumer_register, outbox_consumer_unregister
    from rallypoint.mission.milestones import (
        OUTBOX_CONSUMER,
        milestones_from_outbox,
        milestones_want,
    )

    outbox_consumer_unregister(OUTBOX_CONSUMER)
    yield
    outbox_consumer_register(OUTBOX_CONSUMER, milestones_from_outbox, wants=milestones_want)


def test_events_nobody_wants_do_not_wake_the_worker(
    hook, dummy_tasks, django_capture_on_commit_callbacks, webhooks_only
):
    with django_capture_on_commit_callbacks(execute=True):
        outbox_record("attendance", payload={"n": 1})
    assert [r for r in dummy_tasks.results if r.task.name == process_outbox.name] == []


def test_hook_change_is_seen_by_the_next_write(
    hook, organizer, dummy_tasks, django_capture_on_commit_callbacks, webhooks_only
):
    with django_capture_on_commit_callbacks(execute=True):
        outbox_record("attendance", payload={"n": 1})  # the active hooks are now cached
    hook_update(
        hook=hook, name=hook.name, url=hook.url, event_types=["attendance"], actor=organizer
    )
    with django_capture_on_commit_callbacks(execute=True):
        outbox_record("attendance", payload={"n": 2})
    assert len([r for r in dummy_tasks.results if r.task.name == process_outbox.name]) == 1


def test_failing_receiver_is_retried_with_backoff_until_it_accepts(
    hook, receiver, dummy_tasks, django_capture_on_commit_callbacks
):
    receiver.fail_first = 2
    with django_capture_on_commit_callbacks(execute=True):
        outbox_record("signature", payload={"n": 1})
    run_outbox(dummy_tasks, django_capture_on_commit_callbacks)
    run(next(r for r in dummy_tasks.results if r.task.name == flush_hook.name))
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("pending", 1, 503)
    assert delivery.response_excerpt == "nope"
    first_retry = delivery.next_attempt_at - delivery.last_attempt_at
    assert first_retry == timedelta(seconds=30)
    retries = [r for r in dummy_tasks.results if r.task.name == attempt_delivery.name]
    assert [(r.args, r.task.run_after) for r in retries] == [
        ([delivery.pk], delivery.next_attempt_at)
    ]
    # Too early: nothing is sent.
    assert delivery_attempt(delivery_id=delivery.pk) == ""
    assert delivery_attempt(delivery_id=delivery.pk, now=delivery.next_attempt_at) == "pending"
    delivery.refresh_from_db()
    assert delivery.next_attempt_at - delivery.last_attempt_at == timedelta(seconds=60)
    assert delivery_attempt(delivery_id=delivery.pk, now=delivery.next_attempt_at) == "delivered"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts, delivery.response_code) == ("delivered", 3, 200)
    assert len(receiver.requests) == 3
    assert len({r["body"] for r in receiver.requests}) == 1
    assert [r["headers"]["Rallypoint-Webhook-Attempt"] for r in receiver.requests] == [
        "1",
        "2",
        "3",
    ]
    hook.refresh_from_db()
    assert hook.failing_since is None
    # A second run of the same task sends nothing more.
    assert delivery_attempt(delivery_id=delivery.pk, now=timezone.now() + timedelta(days=1)) == ""
    assert len(receiver.requests) == 3


def test_delivery_gives_up_after_the_retry_window(hook, receiver, dummy_tasks):
    receiver.fail_first = 99
    now = timezone.now()
    delivery = Delivery.objects.create(
        hook=hook, body="[]", next_attempt_at=now, give_up_at=now - timedelta(seconds=1)
    )
    assert delivery_attempt(delivery_id=delivery.pk) == "failed"
    delivery.refresh_from_db()
    assert (delivery.status, delivery.next_attempt_at) == ("failed", None)


def test_hook_failing_for_a_day_is_disabled_and_owner_emailed(
    hook, receiver, organizer, django_capture_on_commit_callbacks
):
    receiver.fail_first = 1
    now = timezone.now()
    Hook.objects.filter(pk=hook.pk).update(failing_since=now - timedelta(hours=25))
    delivery = Delivery.objects.create(
        hook=hook, body="[]", next_attempt_at=now, give_up_at=now + timedelta(hours=1)
    )
    with django_capture_on_commit_callbacks(execute=True):
        assert delivery_attempt(delivery_id=delivery.pk) == "pending"
    hook.refresh_from_db()
    assert hook.is_active is False
    assert "Every delivery failed since" in hook.disabled_reason
    assert [m.to for m in mail.outbox] == [[organizer.email]]
    assert mail.outbox[0].subject == "Webhook “Warehouse” was switched off"
    assert f"/webhooks/{hook.pk}/" in mail.outbox[0].body
    # Switched back on, the kept delivery goes out.
    with django_capture_on_commit_callbacks(execute=True):
        hook_set_active(hook=hook, active=True, actor=organizer)
    delivery.refresh_from_db()
    assert delivery.status == "delivered"
    assert len(receiver.requests) == 2


def test_unreachable_receiver_is_recorded(hook, settings):
    Hook.objects.filter(pk=hook.pk).update(url="http://127.0.0.1:9/closed")
    now = timezone.now()
    delivery = Delivery.objects.create(
        hook=hook, body="[]", next_attempt_at=now, give_up_at=now + timedelta(hours=1)
    )
    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend", "QUEUES": []}
    }
    assert delivery_attempt(delivery_id=delivery.pk) == "pending"
    delivery.refresh_from_db()
    assert delivery.response_code is None
    assert delivery.error == "Could not connect to the receiver."


@pytest.mark.parametrize(
    "url, allow_http, field",
    [
        ("http://example.org/hook", False, "url"),
        ("not a url", True, "url"),
        ("ftp://example.org/hook", True, "url"),
    ],
)
def test_hook_create_refuses_bad_urls(settings, organizer, url, allow_http, field):
    settings.WEBHOOK_ALLOW_HTTP = allow_http
    with pytest.raises(ValidationError) as info:
        hook_create(name="x", url=url, event_types=["signature"], actor=organizer)
    assert list(info.value.message_dict) == [field]
    assert Hook.objects.count() == 0


def test_hook_create_needs_known_event_types(organizer):
    with pytest.raises(ValidationError) as info:
        hook_create(name="x", url="https://example.org/h", event_types=[], actor=organizer)
    assert info.value.message_dict == {"event_types": ["Choose at least one kind of event."]}
    with pytest.raises(ValidationError) as info:
        hook_create(name="x", url="https://example.org/h", event_types=["nope"], actor=organizer)
    assert info.value.message_dict == {"event_types": ["Unknown event types: nope."]}


def test_flush_also_sends_retries_that_are_due(hook, receiver):
    now = timezone.now()
    due = Delivery.objects.create(
        hook=hook, body="[1]", next_attempt_at=now, give_up_at=now + timedelta(hours=1)
    )
    later = Delivery.objects.create(
        hook=hook,
        body="[2]",
        next_attempt_at=now + timedelta(minutes=5),
        give_up_at=now + timedelta(hours=1),
    )
    assert flush_hook.call(hook.pk) == 0
    assert [r["body"] for r in receiver.requests] == [b"[1]"]
    due.refresh_from_db(), later.refresh_from_db()
    assert (due.status, later.status) == ("delivered", "pending")


def test_records_are_rendered_when_the_batch_is_made(
    hook, receiver, dummy_tasks, organizer, django_capture_on_commit_callbacks
):
    from tests.factories import PersonFactory

    kept, gone = PersonFactory(given_name="Kept"), PersonFactory(given_name="Gone")
    with django_capture_on_commit_callbacks(execute=True):
        outbox_record("person.created", subject=kept)
        outbox_record("person.created", subject=gone)
    run_outbox(dummy_tasks, django_capture_on_commit_callbacks)
    assert PendingEvent.objects.first().payload["osdi:person"] == {
        "_record": ["people.person", str(kept.pk)]
    }
    kept.given_name = "Renamed"
    kept.save()
    gone.delete()
    run(next(r for r in dummy_tasks.results if r.task.name == flush_hook.name))
    first, second = receiver.bodies()[0]
    assert first["osdi:person"]["given_name"] == "Renamed"
    assert (second["osdi:person"], second["deleted"]) == (None, True)


def test_hook_hears_only_what_happened_after_it_was_created(
    receiver, organizer, dummy_tasks, django_capture_on_commit_callbacks
):
    from rallypoint.core.models import OutboxEvent

    with django_capture_on_commit_callbacks(execute=True):
        outbox_record("signature", payload={"n": "before"})
    hook = hook_create(name="Late", url=receiver.url, event_types=["signature"], actor=organizer)
    with django_capture_on_commit_callbacks(execute=True):
        outbox_record("signature", payload={"n": "after"})
    assert OutboxEvent.objects.count() == 2
    run_outbox(dummy_tasks, django_capture_on_commit_callbacks)
    assert [e.payload["osdi:signature"] for e in PendingEvent.objects.filter(hook=hook)] == [
        {"n": "after"}
    ]


def test_outbox_read_twice_queues_each_event_once(
    hook, dummy_tasks, django_capture_on_commit_callbacks
):
    from rallypoint.core.models import OutboxEvent
    from rallypoint.core.outbox import outbox_process

    with django_capture_on_commit_callbacks(execute=True):
        outbox_record("signature", payload={"n": 1})
    run_outbox(dummy_tasks, django_capture_on_commit_callbacks)
    run_outbox(dummy_tasks, django_capture_on_commit_callbacks)
    assert outbox_process() == 0
    (event,) = PendingEvent.objects.all()
    assert event.payload["osdi:signature"] == {"n": 1}
    assert event.payload["id"] == str(OutboxEvent.objects.get().uuid)
