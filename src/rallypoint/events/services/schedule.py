"""Timed work for an event: reminders before it, host credit after it. A backend that cannot
run work later (the immediate one) leaves it to the sweep (`rallypoint events_sweep`)."""

from datetime import timedelta

from django.utils import timezone
from django_tasks import task_backends

from ..models import Event


def can_defer() -> bool:
    return bool(getattr(task_backends["default"], "supports_defer", False))


def event_schedule(event_id: int) -> int:
    """Enqueue this event's reminder runs and host credit; returns how many were enqueued.
    Each task checks the event's start again, so a schedule made for an old time does nothing."""
    if not can_defer():
        return 0
    from ..tasks import credit_event_hosts, send_event_reminders
    from .reminders import sweep_ensure_scheduled

    event = Event.objects.filter(pk=event_id).first()
    if event is None or event.is_cancelled:
        return 0
    now, count = timezone.now(), 0
    for minutes in event.offsets:
        due = event.starts_at - timedelta(minutes=minutes)
        if due > now:
            send_event_reminders.using(run_after=due).enqueue(event.pk, event.starts_at.isoformat())
            count += 1
    credit_event_hosts.using(run_after=event.ends_at + timedelta(minutes=1)).enqueue(event.pk)
    sweep_ensure_scheduled()
    return count + 1
