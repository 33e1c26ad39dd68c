"""Sending a mailing: checks, the snapshot, claiming, suppression just before sending, pause,
resume, cancel, schedule, the rate limit, refusals and the test send."""

import time
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.db.models import F
from django.utils import timezone

from rallypoint.core.models import AuditEntry
from rallypoint.messaging.models import (
    Delivery,
    DeliveryStatus,
    Mailing,
    MailingStatus,
    MailKind,
)
from rallypoint.messaging.services.delivery import (
    SEND_ATTEMPTS_MAX,
    deliveries_claim,
    mailing_cancel,
    mailing_pause,
    mailing_resume,
    mailing_schedule,
    mailing_send,
    mailing_send_run,
    mailing_snapshot,
    mailing_stalled,
    mailing_test_send,
    mailing_unschedule,
    mailings_process,
)
from rallypoint.people.models import EmailAddress, EmailStatus
from tests.factories import TaggingFactory
from tests.messaging.factories import (
    MailingFactory,
    MailPreferenceFactory,
    audience_of,
    segment_tag,
    subscriber,
)

pytestmark = pytest.mark.django_db


def send_all(mailing, capture):
    with capture(execute=True):
        return mailing_send(mailing)


def taken(mailing):
    """Send asked for and the audience taken, nothing sent yet (the tasks queued on commit
    never run inside a test's transaction)."""
    mailing_send(mailing)
    assert mailing_snapshot(mailing.pk).taken
    mailing.refresh_from_db()
    return mailing


def statuses(mailing) -> dict[str, int]:
    found: dict[str, int] = {}
    for status in Delivery.objects.filter(mailing=mailing).values_list("status", flat=True):
        found[status] = found.get(status, 0) + 1
    return found


def expire_leases(mailing) -> None:
    """As if MAILING_LEASE_SECONDS had passed since every claim."""
    from django.conf import settings

    Delivery.objects.filter(mailing=mailing, claimed_at__isnull=False).update(
        claimed_at=F("claimed_at") - timedelta(seconds=settings.MAILING_LEASE_SECONDS + 1)
    )


# --- the whole way ------------------------------------------------------------------------------


def test_send_reaches_each_recipient_once_and_finishes(django_capture_on_commit_callbacks):
    segment, people = audience_of(3)
    mailing = MailingFactory(include=[segment])
    result = send_all(mailing, django_capture_on_commit_callbacks)
    assert (result.audience, result.status) == (3, MailingStatus.CALCULATING)
    mailing.refresh_from_db()
    assert mailing.status == MailingStatus.SENT
    assert mailing.total_targeted == 3
    assert mailing.started_at <= mailing.finished_at
    addresses = sorted(p.email_addresses.get().address for p in people)
    assert sorted(m.to[0] for m in mail.outbox) == addresses
    assert statuses(mailing) == {"sent": 3}
    assert AuditEntry.objects.filter(action="mailing.send", object_id=str(mailing.pk)).count() == 1


def test_message_id_is_the_same_for_every_attempt_at_one_recipient(
    django_capture_on_commit_callbacks,
):
    segment, _ = audience_of(2)
    mailing = MailingFactory(include=[segment])
    send_all(mailing, django_capture_on_commit_callbacks)
    for message in mail.outbox:
        delivery = Delivery.objects.get(mailing=mailing, address=message.to[0])
        assert message.extra_headers["Message-ID"] == (
            f"<delivery-{delivery.token.hex}.mailing-{mailing.uuid.hex}@127.0.0.1>"
        )
    assert len({m.extra_headers["Message-ID"] for m in mail.outbox}) == 2


def test_snapshot_twice_takes_the_audience_once(django_capture_on_commit_callbacks):
    segment, _ = audience_of(3)
    mailing = taken(MailingFactory(include=[segment]))
    assert mailing_snapshot(mailing.pk).taken is False
    assert Delivery.objects.filter(mailing=mailing).count() == 3


def test_snapshot_is_fixed_people_who_join_later_are_not_added():
    segment, _ = audience_of(2)
    mailing = taken(MailingFactory(include=[segment]))
    subscriber(segment)
    assert mailing_send_run(mailing.pk).sent == 2
    mailing.refresh_from_db()
    assert (mailing.status, mailing.total_targeted) == (MailingStatus.SENT, 2)


def test_snapshot_in_two_steps_sends_the_first_part_at_once():
    segment, _ = audience_of(5)
    mailing = MailingFactory(include=[segment])
    mailing_send(mailing)
    first = mailing_snapshot(mailing.pk, first_part=2)
    assert (first.taken, first.done) == (True, False)
    mailing.refresh_from_db()
    assert (mailing.status, mailing.total_targeted) == (MailingStatus.SENDING, None)
    # The first part goes out; the mailing is not done while its audience is being taken.
    assert mailing_send_run(mailing.pk).sent == 2
    mailing.refresh_from_db()
    assert mailing.status == MailingStatus.SENDING
    rest = mailing_snapshot(mailing.pk, first_part=2)
    assert (rest.taken, rest.done, rest.targeted) == (True, True, 5)
    assert mailing_snapshot(mailing.pk).taken is False
    assert mailing_send_run(mailing.pk).sent == 3
    mailing.refresh_from_db()
    assert (mailing.status, mailing.total_targeted) == (MailingStatus.SENT, 5)
    assert len({m.to[0] for m in mail.outbox}) == 5


def test_snapshot_in_two_steps_through_the_tasks_sends_everyone(
    django_capture_on_commit_callbacks,
):
    segment, _ = audience_of(4)
    mailing = MailingFactory(include=[segment])
    mailing_send(mailing)
    with django_capture_on_commit_callbacks(execute=True):
        # The first part, its send task (which runs out of work), the rest, sending again.
        mailing_snapshot(mailing.pk, first_part=1)
    mailing.refresh_from_db()
    assert (mailing.status, mailing.total_targeted) == (MailingStatus.SENT, 4)
    assert len(mail.outbox) == 4


def test_mailings_process_takes_the_rest_of_a_lost_snapshot(settings):
    segment, _ = audience_of(4)
    mailing = MailingFactory(include=[segment])
    mailing_send(mailing)
    mailing_snapshot(mailing.pk, first_part=1)  # its continuation task never runs
    assert mailings_process().snapshots == 0  # not lost yet: it may be waiting in the queue
    later = timezone.now() + timedelta(seconds=settings.MAILING_LEASE_SECONDS + 1)
    assert mailings_process(now=later).snapshots == 1
    mailing.refresh_from_db()
    assert mailing.total_targeted == 4
    assert Delivery.objects.filter(mailing=mailing).count() == 4


# --- what stops a mailing from going out ------------------------------------------------------


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"subject": ""}, "Write a subject."),
        ({"body_html": ""}, "Write the message."),
        ({"from_address": "someone@elsewhere.example"}, "Send from one of the verified"),
    ],
)
def test_send_refuses_an_incomplete_mailing(fields, message):
    segment, _ = audience_of(1)
    mailing = MailingFactory(include=[segment], **fields)
    with pytest.raises(ValidationError) as error:
        mailing_send(mailing)
    assert any(m.startswith(message) for m in error.value.messages)
    mailing.refresh_from_db()
    assert mailing.status == MailingStatus.DRAFT
    assert not Delivery.objects.exists()


def test_send_refuses_a_mailing_without_an_audience():
    mailing = MailingFactory()
    with pytest.raises(ValidationError, match="Choose at least one segment"):
        mailing_send(mailing)
    segment, _ = audience_of(1, given_name="Ana")
    EmailAddress.objects.update(status=EmailStatus.UNSUBSCRIBED)
    mailing = MailingFactory(include=[segment])
    with pytest.raises(ValidationError, match="Nobody in this audience"):
        mailing_send(mailing)
    assert Mailing.objects.filter(status=MailingStatus.DRAFT).count() == 2


def test_send_refuses_a_mailing_already_sent(django_capture_on_commit_callbacks):
    segment, _ = audience_of(1)
    mailing = MailingFactory(include=[segment])
    send_all(mailing, django_capture_on_commit_callbacks)
    with pytest.raises(ValidationError, match="This mailing is sent: it can't be sent again"):
        mailing_send(mailing)
    assert len(mail.outbox) == 1


# --- suppression just before sending ----------------------------------------------------------


@pytest.mark.parametrize(
    "status", [EmailStatus.UNSUBSCRIBED, EmailStatus.BOUNCING, EmailStatus.SPAM_COMPLAINT]
)
def test_address_suppressed_after_the_snapshot_is_skipped(status):
    segment, (ana, ben) = audience_of(2)
    mailing = taken(MailingFactory(include=[segment]))
    EmailAddress.objects.filter(person=ben).update(status=status)
    result = mailing_send_run(mailing.pk)
    assert (result.sent, result.skipped) == (1, 1)
    assert [m.to[0] for m in mail.outbox] == [ana.email_addresses.get().address]
    assert Delivery.objects.get(person=ben).status == DeliveryStatus.SKIPPED
    mailing.refresh_from_db()
    assert mailing.status == MailingStatus.SENT


def test_kind_stopped_after_the_snapshot_is_skipped():
    segment, (ana, ben) = audience_of(2)
    mailing = taken(MailingFactory(include=[segment], kind=MailKind.EVENTS))
    MailPreferenceFactory(person=ben, kind=MailKind.NEWS)  # another kind: still sent
    MailPreferenceFactory(person=ana, kind=MailKind.EVENTS)
    assert mailing_send_run(mailing.pk).skipped == 1
    assert [m.to[0] for m in mail.outbox] == [ben.email_addresses.get().address]


def test_address_removed_after_the_snapshot_is_skipped():
    segment, (ana,) = audience_of(1)
    mailing = taken(MailingFactory(include=[segment]))
    EmailAddress.objects.filter(person=ana).delete()
    assert mailing_send_run(mailing.pk).skipped == 1
    assert mail.outbox == []


# --- claims -----------------------------------------------------------------------------------


def test_claims_never_overlap_and_expire_after_the_lease(settings):
    segment, _ = audience_of(5)
    mailing = taken(MailingFactory(include=[segment]))
    first = deliveries_claim(mailing.pk, limit=3)
    second = deliveries_claim(mailing.pk, limit=3)
    assert (len(first.ids), len(second.ids)) == (3, 2)
    assert not set(first.ids) & set(second.ids)
    assert deliveries_claim(mailing.pk, limit=3).ids == []
    later = timezone.now() + timedelta(seconds=settings.MAILING_LEASE_SECONDS + 1)
    assert sorted(deliveries_claim(mailing.pk, limit=10, now=later).ids) == sorted(
        first.ids + second.ids
    )


def test_a_crashed_worker_is_noticed_and_its_deliveries_sent_after_the_lease():
    segment, _ = audience_of(4)
    mailing = taken(MailingFactory(include=[segment]))
    deliveries_claim(mailing.pk, limit=4)  # a worker that died right after claiming
    assert mailing_stalled(mailing.pk) is False  # its lease still runs
    assert mailing_send_run(mailing.pk).sent == 0
    expire_leases(mailing)
    assert mailing_stalled(mailing.pk) is True
    assert mailing_send_run(mailing.pk).sent == 4
    assert statuses(mailing) == {"sent": 4}


def test_mailings_process_restarts_a_stalled_mailing(django_capture_on_commit_callbacks):
    segment, _ = audience_of(3)
    mailing = taken(MailingFactory(include=[segment]))
    deliveries_claim(mailing.pk, limit=2)
    expire_leases(mailing)
    with django_capture_on_commit_callbacks(execute=True):
        done = mailings_process()
    assert (done.restarted, len(mail.outbox)) == (1, 3)
    mailing.refresh_from_db()
    assert mailing.status == MailingStatus.SENT


# --- pause, resume, cancel --------------------------------------------------------------------


class PausingBackend(LocmemBackend):
    """Delivers like locmem; after the second message an organizer presses Pause."""

    def send_messages(self, messages):
        sent = super().send_messages(messages)
        if len(mail.outbox) == 2:
            mailing = Mailing.objects.get(status=MailingStatus.SENDING)
            mailing_pause(mailing)
        return sent


def test_pause_stops_sending_and_resume_goes_on_where_it_stopped(
    settings, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "tests.messaging.test_delivery.PausingBackend"
    segment, people = audience_of(6)
    mailing = taken(MailingFactory(include=[segment]))
    ticks = iter(range(0, 10_000, 2))  # every look at the clock is 2 s later
    result = mailing_send_run(mailing.pk, seconds=1e9, clock=lambda: next(ticks))
    mailing.refresh_from_db()
    assert mailing.status == MailingStatus.PAUSED
    assert result.sent == 2  # the pause is seen before the next message
    assert statuses(mailing) == {"sent": 2, "pending": 4}
    # The unsent claims were given back: nothing waits for a lease.
    assert not Delivery.objects.filter(status="pending", claimed_at__isnull=False).exists()
    assert mailing_send_run(mailing.pk).sent == 0  # paused: nothing goes out
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with django_capture_on_commit_callbacks(execute=True):
        mailing_resume(mailing)
    mailing.refresh_from_db()
    assert mailing.status == MailingStatus.SENT
    assert len(mail.outbox) == 6
    assert len({m.to[0] for m in mail.outbox}) == 6


def test_pause_and_resume_only_from_the_right_status():
    segment, _ = audience_of(1)
    mailing = MailingFactory(include=[segment])
    with pytest.raises(ValidationError, match="This mailing is draft: it can't be paused"):
        mailing_pause(mailing)
    with pytest.raises(ValidationError, match="it can't be resumed"):
        mailing_resume(mailing)
    with pytest.raises(ValidationError, match="it can't be cancelled"):
        mailing_cancel(mailing)
    mailing.refresh_from_db()
    assert mailing.status == MailingStatus.DRAFT


def test_cancel_stops_for_good():
    segment, _ = audience_of(3)
    mailing = taken(MailingFactory(include=[segment]))
    mailing_cancel(mailing)
    assert mailing.status == MailingStatus.CANCELLED
    assert mailing_send_run(mailing.pk).sent == 0
    assert deliveries_claim(mailing.pk, limit=10).ids == []
    assert mail.outbox == []
    with pytest.raises(ValidationError, match="it can't be resumed"):
        mailing_resume(mailing)


def test_cancel_a_paused_mailing(django_capture_on_commit_callbacks):
    segment, _ = audience_of(2)
    mailing = taken(MailingFactory(include=[segment]))
    mailing_pause(mailing)
    mailing_cancel(mailing)
    mailing.refresh_from_db()
    assert (mailing.status, mailing.finished_at is not None) == (MailingStatus.CANCELLED, True)


# --- schedule ---------------------------------------------------------------------------------


def test_schedule_starts_when_due(django_capture_on_commit_callbacks):
    segment, _ = audience_of(2)
    mailing = MailingFactory(include=[segment])
    at = timezone.now() + timedelta(hours=2)
    mailing_schedule(mailing, at=at)
    assert (mailing.status, mailing.scheduled_at) == (MailingStatus.SCHEDULED, at)
    with django_capture_on_commit_callbacks(execute=True):
        assert mailings_process().started == 0
        assert mailings_process(now=at + timedelta(seconds=1)).started == 1
    mailing.refresh_from_db()
    assert mailing.status == MailingStatus.SENT
    assert len(mail.outbox) == 2
    with django_capture_on_commit_callbacks(execute=True):
        assert mailings_process(now=at + timedelta(seconds=2)).started == 0
    assert len(mail.outbox) == 2


def test_schedule_needs_a_future_time_and_a_draft():
    segment, _ = audience_of(1)
    mailing = MailingFactory(include=[segment])
    with pytest.raises(ValidationError, match="Pick a time in the future"):
        mailing_schedule(mailing, at=timezone.now() - timedelta(minutes=1))
    with pytest.raises(ValidationError, match="with its time zone"):
        mailing_schedule(mailing, at=timezone.now().replace(tzinfo=None) + timedelta(days=1))
    mailing_schedule(mailing, at=timezone.now() + timedelta(days=1))
    moved = timezone.now() + timedelta(days=2)
    mailing_schedule(mailing, at=moved)  # moved to another time
    assert mailing.scheduled_at == moved
    mailing_unschedule(mailing)
    assert (mailing.status, mailing.scheduled_at) == (MailingStatus.DRAFT, None)


def test_scheduled_mailing_whose_audience_emptied_goes_back_to_draft():
    segment, _ = audience_of(1)
    mailing = MailingFactory(include=[segment])
    at = timezone.now() + timedelta(minutes=5)
    mailing_schedule(mailing, at=at)
    EmailAddress.objects.update(status=EmailStatus.UNSUBSCRIBED)
    assert mailings_process(now=at).started == 0
    mailing.refresh_from_db()
    assert mailing.status == MailingStatus.DRAFT
    entry = AuditEntry.objects.get(action="mailing.schedule_failed")
    assert entry.data["reasons"][0].startswith("Nobody in this audience")


def test_cancel_a_scheduled_mailing():
    segment, _ = audience_of(1)
    mailing = MailingFactory(include=[segment])
    at = timezone.now() + timedelta(minutes=5)
    mailing_schedule(mailing, at=at)
    mailing_cancel(mailing)
    assert mailings_process(now=at).started == 0
    assert not Delivery.objects.exists()


# --- rate limit -------------------------------------------------------------------------------


def test_rate_per_second_spreads_the_sending(settings):
    settings.MAILING_RATE_PER_SECOND = 3
    segment, _ = audience_of(7)
    mailing = taken(MailingFactory(include=[segment]))
    started = time.monotonic()
    assert mailing_send_run(mailing.pk).sent == 7
    # 3 in the first second's window, 3 in the next, 1 in the third: two window changes.
    assert time.monotonic() - started >= 1.0


def test_rate_per_hour_stops_and_waits_until_the_hour_has_room(settings):
    settings.MAILING_RATE_PER_HOUR = 3
    segment, _ = audience_of(5)
    mailing = taken(MailingFactory(include=[segment]))
    result = mailing_send_run(mailing.pk)
    # The next one may go an hour after the first three were sent.
    assert (result.sent, result.more) == (3, False)
    assert 3590 < result.wait <= 3600
    assert statuses(mailing) == {"sent": 3, "pending": 2}
    # Nothing more may be claimed now; the two waiting are not held by a claim, and an hour
    # later a run takes them at once.
    assert deliveries_claim(mailing.pk, limit=10).ids == []
    later = timezone.now() + timedelta(hours=1, seconds=1)
    assert len(deliveries_claim(mailing.pk, limit=10, now=later).ids) == 2
    mailing.refresh_from_db()
    assert mailing.status == MailingStatus.SENDING


def test_the_hour_slides_it_is_not_a_clock_hour(settings):
    """Three sent 50 minutes ago fill a limit of 3 until they are an hour old, whatever the
    clock hour: a limit of N is never 2N across the top of an hour."""
    settings.MAILING_RATE_PER_HOUR = 3
    segment, _ = audience_of(5)
    mailing = taken(MailingFactory(include=[segment]))
    now = timezone.now()
    earlier = deliveries_claim(mailing.pk, limit=3, now=now - timedelta(minutes=50))
    Delivery.objects.filter(pk__in=earlier.ids).update(
        status=DeliveryStatus.SENT, sent_at=now - timedelta(minutes=50)
    )
    claim = deliveries_claim(mailing.pk, limit=10, now=now)
    assert claim.ids == []
    assert claim.wait == pytest.approx(600, abs=1)
    # At 10 minutes and one second, the three are out of the hour.
    later = now + timedelta(minutes=10, seconds=1)
    assert len(deliveries_claim(mailing.pk, limit=10, now=later).ids) == 2


def test_the_hour_counts_every_mailing_and_the_claims_in_flight(settings):
    settings.MAILING_RATE_PER_HOUR = 4
    first_segment, _ = audience_of(3)
    first = taken(MailingFactory(include=[first_segment]))
    second_segment, _ = audience_of(3)
    second = taken(MailingFactory(include=[second_segment]))
    assert mailing_send_run(first.pk).sent == 3
    # One place left in the hour: a claim takes it; while it is held, nobody else gets one.
    assert len(deliveries_claim(second.pk, limit=10).ids) == 1
    held = deliveries_claim(second.pk, limit=10)
    assert (held.ids, held.wait > 0) == ([], True)


# --- refusals ---------------------------------------------------------------------------------


def test_a_refused_recipient_fails_and_the_others_go_out(smtp_sink, smtp_settings):
    segment, (ana, ben, cy) = audience_of(3)
    refused = ben.email_addresses.get().address
    smtp_sink.refuse.add(refused)
    mailing = taken(MailingFactory(include=[segment]))
    result = mailing_send_run(mailing.pk)
    assert (result.sent, result.failed) == (2, 1)
    failed = Delivery.objects.get(person=ben)
    assert failed.status == DeliveryStatus.FAILED
    assert "550" in failed.last_error
    assert sorted(smtp_sink.by_recipient()) == sorted(
        p.email_addresses.get().address for p in (ana, cy)
    )
    assert smtp_sink.connections == 1  # one connection for the whole run
    mailing.refresh_from_db()
    assert mailing.status == MailingStatus.SENT


def test_a_mail_server_that_is_down_is_retried_after_the_lease_then_given_up(
    smtp_settings, settings
):
    settings.EMAIL_PORT = 9  # nothing listens there
    settings.EMAIL_TIMEOUT = 1
    segment, _ = audience_of(5)
    mailing = taken(MailingFactory(include=[segment]))
    for attempt in range(1, SEND_ATTEMPTS_MAX + 1):
        result = mailing_send_run(mailing.pk)
        # Three failures in a row stop the batch; nobody is tried again before the lease.
        assert (result.sent, result.retry, result.more) == (0, 3, False)
        assert mailing_send_run(mailing.pk).retry == 0
        if attempt < SEND_ATTEMPTS_MAX:
            expire_leases(mailing)
            Delivery.objects.filter(mailing=mailing, status="pending").exclude(
                attempts=attempt
            ).update(attempts=attempt)
    assert statuses(mailing) == {"failed": 3, "pending": 2}
    assert (
        Delivery.objects.filter(status="failed").first().last_error.startswith("could not connect")
    )


def test_provider_message_id_is_recorded(settings):
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    settings.EMAIL_PROVIDER = "test"
    segment, _ = audience_of(2)
    mailing = taken(MailingFactory(include=[segment]))
    assert mailing_send_run(mailing.pk).sent == 2
    recorded = sorted(Delivery.objects.values_list("provider_message_id", flat=True))
    assert recorded == ["0", "1"]
    delivery = Delivery.objects.get(provider_message_id="0")
    assert mail.outbox[0].anymail_test_params["metadata"] == {"delivery": str(delivery.token)}


# --- the test send ----------------------------------------------------------------------------


def test_test_send_goes_to_the_organizer_only_marked_and_uncounted(organizer):
    segment, _ = audience_of(2)
    mailing = MailingFactory(include=[segment], subject="Hello {{ first_name | friend }}")
    result = mailing_test_send(mailing, to="me@example.org", by=organizer)
    assert result.subject == "[Test] Hello friend"
    (message,) = mail.outbox
    assert (message.to, message.subject) == (["me@example.org"], "[Test] Hello friend")
    assert "List-Unsubscribe" not in message.extra_headers
    assert "/mail/m/c/" not in message.alternatives[0][0]  # nothing tracked
    assert not Delivery.objects.exists()
    mailing.refresh_from_db()
    assert mailing.status == MailingStatus.DRAFT


def test_test_send_uses_a_chosen_persons_merge_fields():
    segment, (ana,) = audience_of(1, given_name="Ana")
    mailing = MailingFactory(include=[segment], subject="Hi {{ first_name }}")
    mailing_test_send(mailing, to="me@example.org", person=ana)
    assert mail.outbox[0].subject == "[Test] Hi Ana"


@pytest.mark.parametrize("to", ["", "not an address", "a@b\nBcc: x@y.org"])
def test_test_send_needs_an_address(to):
    mailing = MailingFactory()
    with pytest.raises(ValidationError, match="Enter the email address"):
        mailing_test_send(mailing, to=to)
    assert mail.outbox == []


def test_test_send_reports_a_refusing_server(smtp_sink, smtp_settings):
    smtp_sink.refuse.add("me@example.org")
    mailing = MailingFactory()
    with pytest.raises(ValidationError, match="The test could not be sent"):
        mailing_test_send(mailing, to="me@example.org")


def test_person_in_two_included_segments_gets_one_message(django_capture_on_commit_callbacks):
    first, (ana,) = audience_of(1)
    second, _ = audience_of(1)
    TaggingFactory(person=ana, tag=segment_tag(second))
    mailing = MailingFactory(include=[first, second])
    send_all(mailing, django_capture_on_commit_callbacks)
    assert len(mail.outbox) == 2


# --- the tasks --------------------------------------------------------------------------------


def test_watch_restarts_a_stalled_mailing_and_leaves_a_live_one(django_capture_on_commit_callbacks):
    from rallypoint.messaging.services.delivery import mailing_watch

    segment, _ = audience_of(3)
    mailing = taken(MailingFactory(include=[segment]))
    deliveries_claim(mailing.pk, limit=3)
    with django_capture_on_commit_callbacks(execute=True):
        assert mailing_watch(mailing.pk) is False  # a live claim: someone is sending
    expire_leases(mailing)
    with django_capture_on_commit_callbacks(execute=True):
        assert mailing_watch(mailing.pk) is True
    assert len(mail.outbox) == 3
    assert mailing_watch(mailing.pk) is False  # sent: nothing left to watch


def test_start_task_for_an_older_time_does_nothing(django_capture_on_commit_callbacks):
    from rallypoint.messaging.tasks import mailing_start_task

    segment, _ = audience_of(1)
    mailing = MailingFactory(include=[segment])
    first = timezone.now() + timedelta(minutes=5)
    mailing_schedule(mailing, at=first)
    mailing_schedule(mailing, at=first + timedelta(days=1))
    assert mailing_start_task.call(mailing.pk, first.isoformat()) is False
    mailing.refresh_from_db()
    assert mailing.status == MailingStatus.SCHEDULED


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_claimers_at_the_same_moment_share_the_hour_and_never_exceed_it(settings):
    """Eight workers claim at once with 5 places left in the hour: 5 deliveries are claimed
    in all (PostgreSQL: claimers take SKIP LOCKED rows in parallel, the hour is counted under
    an advisory lock)."""
    import threading

    from django.db import connections

    settings.MAILING_RATE_PER_HOUR = 5
    # Tasks are queued, not run: the claims below are the only sending.
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
    segment, _ = audience_of(20)
    mailing = taken(MailingFactory(include=[segment]))
    barrier = threading.Barrier(8)
    claimed: list[int] = []
    errors: list[str] = []

    def claim():
        try:
            barrier.wait()
            claimed.extend(deliveries_claim(mailing.pk, limit=3).ids)
        except Exception as exc:  # collected and asserted empty below
            errors.append(repr(exc))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=claim) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert len(claimed) == len(set(claimed)) == 5
