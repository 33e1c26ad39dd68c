from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from rallypoint.core.models import OutboundEmail
from rallypoint.events.models import ReminderSent
from rallypoint.events.services import (
    event_host_credit,
    events_sweep,
    reminders_send_due,
    rsvp_create,
)
from rallypoint.events.tasks import credit_event_hosts, send_event_reminders
from rallypoint.ledger.models import Activity
from rallypoint.people.services import PersonData
from tests.events.factories import EventFactory, EventHostFactory

pytestmark = pytest.mark.django_db(transaction=True)


def event_with_attendees(n=2, **kwargs):
    event = EventFactory(**kwargs)
    for i in range(n):
        rsvp_create(
            event=event, person_data=PersonData(email=f"a{i}@example.org", given_name=f"A{i}")
        )
    # The RSVPs were made well before any reminder time.
    event.rsvps.update(created_at=timezone.now() - timedelta(days=10))
    event.refresh_from_db()
    mail.outbox.clear()
    return event


def at(event, minutes_before):
    return event.starts_at - timedelta(minutes=minutes_before)


def test_reminders_send_due_nothing_before_first_offset():
    event = event_with_attendees()
    assert reminders_send_due(event=event, now=at(event, 24 * 60 + 1)) == 0
    assert mail.outbox == []
    assert ReminderSent.objects.count() == 0


def test_reminder_task_twice_sends_exactly_once_per_attendee():
    event = event_with_attendees(2)
    now = at(event, 24 * 60 - 1)
    assert reminders_send_due(event=event, now=now) == 2
    # The worker restarts and runs the same job again, and the sweep runs too.
    assert reminders_send_due(event=event, now=now) == 0
    assert events_sweep(now=now)["reminders"] == 0
    assert sorted(m.to[0] for m in mail.outbox) == ["a0@example.org", "a1@example.org"]
    assert {m.subject for m in mail.outbox} == {f"Reminder: {event.title} starts tomorrow"}
    assert OutboundEmail.objects.filter(dedupe_key__startswith="event-reminder:").count() == 2
    assert ReminderSent.objects.filter(minutes_before=1440, skipped=False).count() == 2


def test_reminders_each_offset_once_then_next_offset():
    event = event_with_attendees(1)
    reminders_send_due(event=event, now=at(event, 24 * 60 - 1))
    reminders_send_due(event=event, now=at(event, 119))
    reminders_send_due(event=event, now=at(event, 60))
    assert [m.subject for m in mail.outbox] == [
        f"Reminder: {event.title} starts tomorrow",
        f"Reminder: {event.title} starts in 2 hours",
    ]


def test_reminders_after_outage_send_only_nearest():
    event = event_with_attendees(1)
    assert events_sweep(now=at(event, 30))["reminders"] == 1
    assert [m.subject for m in mail.outbox] == [f"Reminder: {event.title} starts in 2 hours"]
    assert sorted(ReminderSent.objects.values_list("minutes_before", "skipped")) == [
        (120, False),
        (1440, True),
    ]


def test_reminders_skip_people_who_rsvpd_after_reminder_time():
    event = event_with_attendees(0)
    now = at(event, 600)
    rsvp_create(event=event, person_data=PersonData(email="late@example.org"))
    event.rsvps.update(created_at=now - timedelta(minutes=1))
    mail.outbox.clear()
    assert reminders_send_due(event=event, now=now) == 0
    assert reminders_send_due(event=event, now=at(event, 119)) == 1


def test_reminders_follow_organizer_offsets():
    event = event_with_attendees(1, reminder_minutes=[30])
    assert reminders_send_due(event=event, now=at(event, 60)) == 0
    assert reminders_send_due(event=event, now=at(event, 29)) == 1
    assert mail.outbox[0].subject == f"Reminder: {event.title} starts in 30 minutes"


def test_reminders_cancelled_event_sends_nothing():
    event = event_with_attendees(1)
    event.status = "cancelled"
    event.save()
    assert reminders_send_due(event=event, now=at(event, 60)) == 0
    assert mail.outbox == []


def test_reminder_task_for_old_start_time_does_nothing():
    event = event_with_attendees(1)
    old_start = (event.starts_at - timedelta(days=1)).isoformat()
    assert send_event_reminders.call(event.pk, old_start) == 0
    assert mail.outbox == []


def test_reminder_moved_event_reminds_again_for_new_time():
    event = event_with_attendees(1)
    reminders_send_due(event=event, now=at(event, 100))
    event.starts_at += timedelta(days=1)
    event.ends_at += timedelta(days=1)
    event.save()
    reminders_send_due(event=event, now=at(event, 100))
    assert len(mail.outbox) == 2
    assert ReminderSent.objects.filter(skipped=False).count() == 2


def test_event_host_credit_after_end_once():
    host = EventHostFactory(
        event__starts_at=timezone.now() - timedelta(hours=3),
        event__ends_at=timezone.now() - timedelta(hours=1),
    )
    assert credit_event_hosts.call(host.event_id) is True
    assert credit_event_hosts.call(host.event_id) is False
    assert events_sweep()["hosts_credited"] == 0
    act = Activity.objects.get(kind="host")
    assert (act.person_id, act.points, act.target_id) == (host.person_id, 10, str(host.event_id))


def test_event_host_credit_not_before_end_nor_when_cancelled():
    upcoming = EventHostFactory()
    cancelled = EventHostFactory(
        event__status="cancelled",
        event__starts_at=timezone.now() - timedelta(hours=3),
        event__ends_at=timezone.now() - timedelta(hours=1),
    )
    assert event_host_credit(event_id=upcoming.event_id) is False
    assert event_host_credit(event_id=cancelled.event_id) is False
    assert Activity.objects.filter(kind="host").count() == 0
