"""Thin tasks: take ids, call a service, safe to run twice."""

from datetime import datetime

from django_tasks import task

from .models import Event
from .services import event_host_credit, events_sweep, reminders_send_due
from .services.reminders import sweep_continue


@task()
def send_event_reminders(event_id: int, starts_at_iso: str) -> int:
    event = Event.objects.filter(pk=event_id).first()
    # Scheduled for an older start time: the new schedule (and the sweep) take over.
    if event is None or event.starts_at != datetime.fromisoformat(starts_at_iso):
        return 0
    return reminders_send_due(event=event)


@task()
def credit_event_hosts(event_id: int) -> bool:
    return event_host_credit(event_id=event_id)


@task()
def events_sweep_task() -> dict[str, int]:
    result = events_sweep()
    sweep_continue()
    return result
