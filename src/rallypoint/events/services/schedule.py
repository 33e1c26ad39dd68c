"""Timed work for an event: reminders before it, host credit after it. A backend that cannot
run work later (the immediate one) leaves it to the sweep (`rallypoint events_sweep`)."""

from datetime import timedelta

from django.utils import timezone
from django_tasks import task_backends

from ..models import Event


def can_defer() -> bool:
    return bool(getattr(task_backends["default"], "supports_defer", False))


def event_schedule(event_id: int) -> int:
    """Enqueue this event's reminder runs (before the event, and before each of its shifts,
    once per moment) and host credit; returns how many were enqueued. Each task checks the
    event's start again, so a schedule made for an old time does nothing, and a run finds
    what is due itself (a shift moved since is reminded by the sweep)."""
    if not can_defer():
        return 0
    from ..tasks import credit_event_hosts, send_event_reminders
    from .reminders import sweep_ensure_scheduled

    event = Event.objects.filter(pk=event_id).first()
    if event is None or event.is_cancelled:
        return 0
    now, count = timezone.now(), 0
    starts = {event.starts_at, *event.shifts.values_list("starts_at", flat=True)}
    moments = {start - timedelta(minutes=m) for start in starts for m in event.offsets}
    for due in sorted(moment for moment in moments if moment > now):
        send_event_reminders.using(run_after=due).enqueue(event.pk, event.starts_at.isoformat())
        count += 1
    credit_event_hosts.using(run_after=event.ends_at + timedelta(minutes=1)).enqueue(event.pk)
    sweep_ensure_scheduled()
    return count + 1
