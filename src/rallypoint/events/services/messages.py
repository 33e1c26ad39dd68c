"""Hosts write to their attendees; group leaders invite their members."""

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from rallypoint.core.audit import log_action
from rallypoint.core.mail import email_queue
from rallypoint.people.models import Person

from ..channels import person_email
from ..models import Event, EventMessage, Rsvp, RsvpStatus
from ..permissions import person_for, require_manager
from .notify import event_context

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
        .prefetch_related("person__email_addresses")
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


def event_invite_group(*, event: Event, actor: Any) -> int:
    """Invite the hosting group's members (who have not answered yet) by email."""
    from rallypoint.groups.permissions import is_leader
    from rallypoint.groups.queries import active_member_people

    if event.group_id is None:
        raise ValidationError("This event isn't hosted by a group.")
    person = person_for(actor)
    if not (is_leader(person, event.group) or getattr(actor, "is_organizer", False)):
        raise PermissionDenied("Only the group's leaders can invite its members.")
    answered = set(Rsvp.objects.filter(event=event).values_list("person_id", flat=True))
    people: list[Person] = [p for p in active_member_people(event.group) if p.pk not in answered]
    count = 0
    with transaction.atomic():
        for member in people:
            to = person_email(member)
            if to and email_queue(
                to=to,
                template="events/email/group_invite",
                context={**event_context(event), "person": member, "group": event.group},
                dedupe_key=f"event-invite:{event.pk}:{member.pk}",
            ):
                count += 1
        log_action("event.group.invited", obj=event, actor=actor, data={"invited": count})
    return count
