"""Reminders before an event (or before each shift, for people in shifts) and host credit
after it, each exactly once.

A scheduled task per event and reminder does the work on time; a sweep every few minutes
(a self-renewing task chain, and `rallypoint events_sweep` for cron) catches anything whose
schedule was lost. Both call the same functions; the ReminderSent unique constraint and the
email dedupe key make a second run send nothing."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from rallypoint.ledger.services import activity_record

from ..channels import reminder_channels
from ..models import (
    Approval,
    Event,
    EventStatus,
    ReminderSent,
    Rsvp,
    RsvpStatus,
    Shift,
    SweepState,
)
from .notify import rsvp_shift_signups, signups_prefetch
from .schedule import can_defer

SWEEP_NAME = "events"
CREDIT_LOOKBACK = timedelta(days=30)


def sweep_interval() -> timedelta:
    return timedelta(minutes=int(getattr(settings, "EVENTS_SWEEP_MINUTES", 5)))


def _due(starts_at: datetime, offsets: list[int], now: datetime) -> list[int]:
    """The reminder offsets (minutes before `starts_at`) whose time has come, nearest first;
    none once it has started."""
    if starts_at <= now:
        return []
    return sorted(m for m in offsets if starts_at - timedelta(minutes=m) <= now)


@dataclass(frozen=True)
class _Reminder:
    """What one attendee is reminded of: the event (shift None) or one of their shifts."""

    rsvp: Rsvp
    shift: Shift | None
    starts_at: datetime
    joined: datetime  # when they got this place: no reminder whose time was before
    due: list[int]


def _reminders(event: Event, rsvps, now: datetime) -> list[_Reminder]:
    """Who is reminded of what now: someone in shifts of each shift they have a place in
    (relative to the shift's start), anyone else of the event."""
    event_due = _due(event.starts_at, event.offsets, now)
    found = []
    for rsvp in rsvps:
        signups = rsvp_shift_signups(rsvp, event)
        if not signups:
            if event_due:
                found.append(_Reminder(rsvp, None, event.starts_at, rsvp.created_at, event_due))
            continue
        for signup in signups:
            due = _due(signup.shift.starts_at, event.offsets, now)
            if signup.status == RsvpStatus.ACCEPTED and due:
                joined = max(signup.created_at, signup.promoted_at or signup.created_at)
                found.append(_Reminder(rsvp, signup.shift, signup.shift.starts_at, joined, due))
    return found


def reminders_send_due(*, event: Event, now=None) -> int:
    """Send every reminder of `event` that is due and not yet sent; returns how many went out.

    People in shifts are reminded before each shift they have a place in (its own start, the
    event's offsets), once per shift; anyone else before the event. Per attendee and start only
    the nearest due reminder is sent (after a long outage nobody gets "in 24 hours" and "in 2
    hours" at once); the farther ones are recorded as skipped. Someone who RSVP'd (or got
    their place in the shift) after a reminder's time got the confirmation instead and is not
    reminded for it."""
    now = now or timezone.now()
    if event.status == EventStatus.CANCELLED or event.approval != Approval.APPROVED:
        return 0
    shifts = list(event.shifts.all())
    if not _due(event.starts_at, event.offsets, now) and not any(
        _due(shift.starts_at, event.offsets, now) for shift in shifts
    ):
        return 0
    channels = reminder_channels()
    rsvps = (
        Rsvp.objects.filter(event=event, status=RsvpStatus.ACCEPTED)
        .select_related("person", "event")
        .prefetch_related("person__email_addresses", signups_prefetch())
    )
    reminders = _reminders(event, rsvps, now)
    starts = {r.starts_at for r in reminders}
    done = set(
        ReminderSent.objects.filter(rsvp__event=event, starts_at__in=starts).values_list(
            "rsvp_id", "shift_id", "minutes_before", "channel", "starts_at"
        )
    )
    sent = 0
    for reminder in reminders:
        rsvp, shift, starts_at = reminder.rsvp, reminder.shift, reminder.starts_at
        applicable = [
            m for m in reminder.due if reminder.joined <= starts_at - timedelta(minutes=m)
        ]
        if not applicable:
            continue
        nearest = applicable[0]
        shift_id = shift.pk if shift is not None else None
        stamp = int(starts_at.timestamp())
        what = f"{rsvp.pk}" if shift is None else f"{rsvp.pk}:shift{shift.pk}"
        for channel in channels:
            if not channel.reaches(rsvp.person):
                continue
            for minutes in applicable:
                if (rsvp.pk, shift_id, minutes, channel.name, starts_at) in done:
                    continue
                try:
                    with transaction.atomic():
                        ReminderSent.objects.create(
                            rsvp=rsvp,
                            shift=shift,
                            minutes_before=minutes,
                            channel=channel.name,
                            starts_at=starts_at,
                            skipped=minutes != nearest,
                        )
                        if minutes == nearest:
                            channel.send(
                                rsvp=rsvp,
                                minutes_before=minutes,
                                shift=shift,
                                dedupe_key=f"event-reminder:{what}:{minutes}:{channel.name}:{stamp}",
                            )
                            sent += 1
                except IntegrityError:
                    continue  # another worker got there first
    return sent


def event_host_credit(*, event_id: int, now=None) -> bool:
    """After an event that happened, each host earns the "host" act once."""
    now = now or timezone.now()
    with transaction.atomic():
        event = Event.objects.select_for_update().filter(pk=event_id).first()
        if (
            event is None
            or event.host_credited_at is not None
            or event.ends_at > now
            or event.status == EventStatus.CANCELLED
            or event.approval != Approval.APPROVED
        ):
            return False
        for host in event.hosts.select_related("person"):
            activity_record(
                person=host.person,
                kind="host",
                campaign=event.campaign,
                target=event,
                details={"role": host.role, "attended": _attended(event)},
                at=event.ends_at,
            )
        event.host_credited_at = now
        event.save(update_fields=["host_credited_at"])
    return True


def _attended(event: Event) -> int:
    return Rsvp.objects.filter(event=event, attended=True).count()


def events_sweep(*, now=None) -> dict[str, int]:
    """Catch up on due reminders and host credit for every event."""
    now = now or timezone.now()
    horizon = now + timedelta(minutes=7 * 24 * 60)
    # Still to come, or under way with shifts still to start (an event lasts at most 14 days).
    upcoming = (
        Event.objects.filter(
            ends_at__gt=now,
            starts_at__lte=horizon,
            approval=Approval.APPROVED,
            seats_taken__gt=0,
        )
        .exclude(status=EventStatus.CANCELLED)
        .prefetch_related("shifts")
    )
    reminders = 0
    for event in upcoming.iterator(chunk_size=500):
        starts = [event.starts_at, *(shift.starts_at for shift in event.shifts.all())]
        if any(_due(start, event.offsets, now) for start in starts):
            reminders += reminders_send_due(event=event, now=now)
    ended = Event.objects.filter(
        ends_at__lte=now,
        ends_at__gte=now - CREDIT_LOOKBACK,
        host_credited_at__isnull=True,
        approval=Approval.APPROVED,
    ).exclude(status=EventStatus.CANCELLED)
    credited = sum(
        event_host_credit(event_id=pk, now=now) for pk in ended.values_list("pk", flat=True)
    )
    return {"reminders": reminders, "hosts_credited": credited}


def sweep_ensure_scheduled(*, now=None) -> bool:
    """Start the sweep chain when none is alive (never started, or its next run is long
    overdue because a queue lost it). Returns True when it enqueued a run."""
    if not can_defer():
        return False
    from ..tasks import events_sweep_task

    now = now or timezone.now()
    with transaction.atomic():
        state, created = SweepState.objects.select_for_update().get_or_create(
            name=SWEEP_NAME, defaults={"next_run_at": now}
        )
        if not created and state.next_run_at > now - 2 * sweep_interval():
            return False
        state.next_run_at = now + sweep_interval()
        state.save(update_fields=["next_run_at"])
        run_at = state.next_run_at
        transaction.on_commit(lambda: events_sweep_task.using(run_after=run_at).enqueue())
    return True


def sweep_continue(*, now=None) -> bool:
    """Called by the sweep task after its run: schedule the next link of the chain, unless a
    newer link is already scheduled (so the chain never forks)."""
    if not can_defer():
        return False
    from ..tasks import events_sweep_task

    now = now or timezone.now()
    with transaction.atomic():
        state, _ = SweepState.objects.select_for_update().get_or_create(
            name=SWEEP_NAME, defaults={"next_run_at": now}
        )
        state.last_run_at = now
        if state.next_run_at > now + timedelta(seconds=30):
            state.save(update_fields=["last_run_at"])
            return False
        state.next_run_at = now + sweep_interval()
        state.save(update_fields=["next_run_at", "last_run_at"])
        run_at = state.next_run_at
        transaction.on_commit(lambda: events_sweep_task.using(run_after=run_at).enqueue())
    return True
