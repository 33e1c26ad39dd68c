"""Hosts write to their attendees (a group's leaders invite its members: groups.services)."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction

from rallypoint.core.audit import log_action
from rallypoint.core.mail import email_queue

from ..channels import person_email
from ..models import Event, EventMessage, Rsvp, RsvpStatus
from ..permissions import person_for, require_manager
from .notify import event_context, signups_prefetch

MAX_SUBJECT, MAX_BODY = 200, 10_000


def event_message_attendees(
    *, event: Event, actor: Any, subject: str, body: str, include_waitlist: bool = False
) -> EventMessage:
    """Email everyone going (and the waitlist when asked) through the task queue."""
    require_manager(actor, event)
    subject, body = (subject or "").strip(), (body or "").strip()
    errors: dict[str, list[str]] = {}
    if not subject:
        errors["subject"] = ["Write a subject."]
    elif len(subject) > MAX_SUBJECT:
        errors["subject"] = [f"Keep the subject under {MAX_SUBJECT} characters."]
    if not body:
        errors["body"] = ["Write a message."]
    elif len(body) > MAX_BODY:
        errors["body"] = [f"Keep the message under {MAX_BODY:,} characters."]
    if errors:
        raise ValidationError(errors)
    statuses = [RsvpStatus.ACCEPTED] + ([RsvpStatus.WAITLISTED] if include_waitlist else [])
    rsvps = (
        Rsvp.objects.filter(event=event, status__in=statuses)
        .select_related("person", "event")
        .prefetch_related("person__email_addresses", signups_prefetch())
    )
    with transaction.atomic():
        message = EventMessage.objects.create(
            event=event,
            author=person_for(actor),
            subject=subject,
            body=body,
            include_waitlist=include_waitlist,
        )
        count = 0
        for rsvp in rsvps:
            to = person_email(rsvp.person)
            if to and email_queue(
                to=to,
                template="events/email/host_message",
                context={**event_context(event, rsvp), "message": message},
                dedupe_key=f"event-message:{message.pk}:{rsvp.pk}",
            ):
                count += 1
        message.recipients = count
        message.save(update_fields=["recipients"])
        log_action(
            "event.message.sent", obj=event, actor=actor, data={"message": message.pk, "to": count}
        )
    return message
