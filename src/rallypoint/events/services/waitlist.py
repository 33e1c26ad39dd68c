"""Cancel an RSVP, and let the waitlist in as seats free up (with the event row locked, as
when seats are given: `rsvps`)."""

from functools import partial
from typing import Any

from django.db import transaction
from django.utils import timezone

from rallypoint.core.audit import log_action
from rallypoint.ledger.services import activity_record
from rallypoint.sharing.referral import Referral

from ..models import Event, Rsvp, RsvpStatus
from ..permissions import require_manager
from . import notify


def rsvp_cancel(*, rsvp: Rsvp, actor: Any = None, by_attendee: bool = True) -> Rsvp:
    """Cancel an RSVP (by the attendee, through their private link, or by a host); seats that
    free up go to the waitlist in order, and the people let in are told."""
    if not by_attendee:
        require_manager(actor, rsvp.event)
    with transaction.atomic(durable=True):
        event = Event.objects.select_for_update().get(pk=rsvp.event_id)
        rsvp = Rsvp.objects.select_related("person").get(pk=rsvp.pk)
        if rsvp.status == RsvpStatus.CANCELLED:
            return rsvp
        was_accepted = rsvp.status == RsvpStatus.ACCEPTED
        rsvp.status = RsvpStatus.CANCELLED
        rsvp.save(update_fields=["status", "modified_at"])
        if was_accepted:
            event.seats_taken = max(event.seats_taken - rsvp.seats, 0)
            event.save(update_fields=["seats_taken"])
            if event.ends_at > timezone.now() and not event.is_cancelled:
                waitlist_promote(event)
        if not by_attendee:
            log_action("event.rsvp.cancelled", obj=rsvp, actor=actor)
    return rsvp


def waitlist_promote(event: Event) -> list[Rsvp]:
    """Let waitlisted people in, oldest first, while seats last. Call with the event locked."""
    promoted: list[Rsvp] = []
    waiting = Rsvp.objects.filter(event=event, status=RsvpStatus.WAITLISTED).select_related(
        "person"
    )
    for rsvp in waiting.order_by("created_at", "id"):
        if event.capacity is not None and event.seats_taken + rsvp.seats > event.capacity:
            continue  # a smaller party further down may still fit
        now = timezone.now()
        rsvp.status, rsvp.promoted_at = RsvpStatus.ACCEPTED, now
        rsvp.save(update_fields=["status", "promoted_at", "modified_at"])
        event.seats_taken += rsvp.seats
        referral = (
            Referral(code=rsvp.referral_code, channel=rsvp.referral_channel)
            if rsvp.referral_code
            else None
        )
        activity_record(
            person=rsvp.person,
            kind="rsvp",
            campaign=event.campaign,
            target=event,
            referral=referral,
            details={"rsvp": rsvp.pk, "guests": rsvp.guests, "from_waitlist": True},
            at=now,
        )
        promoted.append(rsvp)
        transaction.on_commit(partial(notify.rsvp_promoted, rsvp.pk, notify.email_stamp()))
    if promoted:
        event.save(update_fields=["seats_taken"])
    return promoted
