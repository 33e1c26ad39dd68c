"""Thin tasks: take ids, call a service, safe to run twice. The services are imported when a
task runs, so the services may enqueue these tasks without an import cycle."""

from datetime import datetime

from django_tasks import task

from .models import Event


@task()
def send_event_reminders(event_id: int, starts_at_iso: str) -> int:
    from .services import reminders_send_due

    event = Event.objects.filter(pk=event_id).first()
    # Scheduled for an older start time: the new schedule (and the sweep) take over.
    if event is None or event.starts_at != datetime.fromisoformat(starts_at_iso):
        return 0
    return reminders_send_due(event=event)


@task()
def credit_event_hosts(event_id: int) -> bool:
    from .services import event_host_credit

    return event_host_credit(event_id=event_id)


@task()
def events_sweep_task() -> dict[str, int]:
    from .services import events_sweep
    from .services.reminders import sweep_continue

    result = events_sweep()
    sweep_continue()
    return result


@task()
def rsvp_emails_send(emails: list[list]) -> int:
    """Queue the emails of RSVPs written together: `emails` holds [what, RSVP id, stamp]
    triples, what being "confirmed", "waitlisted", "links" (an RSVP made again with the
    address of someone who already had one) or "shifts_changed" (someone changed shifts).
    Each email is queued at most once (the email queue dedupes on its key). Returns how many
    were queued now."""
    from .services import notify

    send = {
        "confirmed": notify.rsvp_confirmed,
        "waitlisted": notify.rsvp_waitlisted,
        "links": notify.rsvp_links_resend,
        "shifts_changed": notify.rsvp_shifts_changed,
    }
    return sum(send[what](rsvp_id, stamp) for what, rsvp_id, stamp in emails)
