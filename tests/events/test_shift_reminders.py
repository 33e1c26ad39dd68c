"""Reminders per shift: someone in shifts is reminded before each shift they have a place in
(its own start, the event's offsets), once per shift, however often the worker or the sweep
runs; anyone else before the event."""

from datetime import timedelta

import pytest
from django.core import mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from rallypoint.events.models import ReminderSent, Shift, ShiftSignup
from rallypoint.events.services import events_sweep, reminders_send_due, rsvp_shifts_change
from rallypoint.events.services.schedule import event_schedule
from tests.events.factories import EventFactory, ShiftFactory
from tests.events.test_schedule import deferring_backend, enqueued  # noqa: F401 (a fixture)
from tests.events.test_shifts import rsvp

pytestmark = pytest.mark.django_db(transaction=True)


def canvass_day():
    """A canvass 9 AM – 3 PM in three days, shifts 9–11 and 1–3 PM. Cho RSVP'd before it had
    shifts; Ana is in both shifts, Ben in the second, Dee waits for the first (and is in the
    second)."""
    start = (timezone.now() + timedelta(days=3)).replace(microsecond=0)
    event = EventFactory(title="Canvass", starts_at=start, ends_at=start + timedelta(hours=6))
    cho = rsvp(event, "cho@example.org", [])
    first = ShiftFactory(event=event, ends_at=start + timedelta(hours=2), capacity=1)
    second = ShiftFactory(
        event=event, starts_at=start + timedelta(hours=4), ends_at=start + timedelta(hours=6)
    )
    ana = rsvp(event, "ana@example.org", [first.pk, second.pk])
    ben = rsvp(event, "ben@example.org", [second.pk])
    dee = rsvp(event, "dee@example.org", [first.pk, second.pk])
    mail.outbox.clear()
    return event, first, second, {"ana": ana, "ben": ben, "cho": cho, "dee": dee}


def before(moment, minutes):
    return moment - timedelta(minutes=minutes) + timedelta(minutes=1)


def sent():
    return sorted((m.to[0], m.subject) for m in mail.outbox)


def test_people_in_shifts_are_reminded_before_each_of_their_shifts_once():
    event, first, second, people = canvass_day()
    # A day before the first shift (and the event): Ana for it, Cho for the event.
    now = before(first.starts_at, 24 * 60)
    assert reminders_send_due(event=event, now=now) == 2
    assert sent() == [
        ("ana@example.org", "Reminder: your shift at Canvass starts tomorrow"),
        ("cho@example.org", "Reminder: Canvass starts tomorrow"),
    ]
    ana_mail = next(m for m in mail.outbox if m.to[0] == "ana@example.org")
    assert "Your shift at Canvass starts tomorrow: " in ana_mail.body
    # The worker runs again, and so does the sweep: nothing more.
    assert reminders_send_due(event=event, now=now) == 0
    assert events_sweep(now=now)["reminders"] == 0
    # A day before the second shift: Ana, Ben and Dee for it.
    mail.outbox.clear()
    now = before(second.starts_at, 24 * 60)
    assert events_sweep(now=now)["reminders"] == 3
    assert reminders_send_due(event=event, now=now) == 0
    assert sent() == [
        ("ana@example.org", "Reminder: your shift at Canvass starts tomorrow"),
        ("ben@example.org", "Reminder: your shift at Canvass starts tomorrow"),
        ("dee@example.org", "Reminder: your shift at Canvass starts tomorrow"),
    ]
    rows = ReminderSent.objects.filter(minutes_before=24 * 60, skipped=False)
    assert sorted((r.rsvp.person.email_addresses.get().address, r.shift_id) for r in rows) == [
        ("ana@example.org", first.pk),
        ("ana@example.org", second.pk),
        ("ben@example.org", second.pk),
        ("cho@example.org", None),
        ("dee@example.org", second.pk),
    ]
    # Dee waits for the first shift: no reminder for it.
    assert not rows.filter(rsvp=people["dee"], shift=first).exists()


def test_a_shift_after_the_event_has_started_is_still_reminded_by_the_sweep():
    event, first, second, people = canvass_day()
    now = before(second.starts_at, 2 * 60)  # the event started two hours ago
    assert now > event.starts_at
    assert events_sweep(now=now)["reminders"] == 3
    assert sent() == [
        ("ana@example.org", "Reminder: your shift at Canvass starts in 2 hours"),
        ("ben@example.org", "Reminder: your shift at Canvass starts in 2 hours"),
        ("dee@example.org", "Reminder: your shift at Canvass starts in 2 hours"),
    ]
    # The 24-hour one was passed over (recorded, not sent), once.
    assert ReminderSent.objects.filter(shift=second, skipped=True).count() == 3
    assert events_sweep(now=now)["reminders"] == 0


def test_a_place_taken_after_a_reminders_time_is_not_reminded_for_it():
    event, first, second, people = canvass_day()
    now = before(second.starts_at, 24 * 60)
    rsvp_shifts_change(rsvp=people["cho"], shifts=[second.pk])
    ShiftSignup.objects.filter(rsvp=people["cho"]).update(created_at=now)
    mail.outbox.clear()
    reminders_send_due(event=event, now=now)
    assert "cho@example.org" not in [to for to, _ in sent()]
    mail.outbox.clear()
    reminders_send_due(event=event, now=before(second.starts_at, 2 * 60))
    assert ("cho@example.org", "Reminder: your shift at Canvass starts in 2 hours") in sent()


def test_a_shift_moved_is_reminded_again_for_its_new_time():
    event, first, second, people = canvass_day()
    reminders_send_due(event=event, now=before(second.starts_at, 2 * 60))
    assert len(mail.outbox) == 3
    Shift.objects.filter(pk=second.pk).update(
        starts_at=second.starts_at + timedelta(minutes=30), ends_at=event.ends_at
    )
    second.refresh_from_db()
    mail.outbox.clear()
    assert reminders_send_due(event=event, now=before(second.starts_at, 2 * 60)) == 3


def test_one_reminder_per_shift_and_person_is_enforced_by_the_database():
    event, first, second, people = canvass_day()
    row = {
        "rsvp": people["ana"],
        "minutes_before": 120,
        "channel": "email",
        "starts_at": second.starts_at,
    }
    ReminderSent.objects.create(shift=second, **row)
    ReminderSent.objects.create(shift=first, **row)  # another shift: its own reminder
    ReminderSent.objects.create(**row)  # the event's own
    with pytest.raises(IntegrityError), transaction.atomic():
        ReminderSent.objects.create(shift=second, **row)
    with pytest.raises(IntegrityError), transaction.atomic():
        ReminderSent.objects.create(**row)


def test_schedule_runs_the_reminders_before_each_shift_too(deferring_backend):  # noqa: F811
    event, first, second, people = canvass_day()
    deferring_backend.results.clear()
    event_schedule(event.pk)
    runs = sorted(
        run_after
        for name, run_after, _ in enqueued(deferring_backend)
        if name == "send_event_reminders"
    )
    # The first shift starts with the event: its moments are the event's, counted once.
    assert runs == sorted(
        {
            event.starts_at - timedelta(hours=24),
            event.starts_at - timedelta(hours=2),
            second.starts_at - timedelta(hours=24),
            second.starts_at - timedelta(hours=2),
        }
    )
