"""Check-in: mark someone as there (or undo it), with its "attend" act."""

from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from rallypoint.ledger.models import Activity
from rallypoint.ledger.services import activity_record

from ..models import Rsvp, RsvpStatus
from ..permissions import require_manager


def rsvp_check_in(*, rsvp: Rsvp, actor: Any, attended: bool = True) -> Rsvp:
    """Mark someone as there (or undo it). The first check-in records the "attend" act."""
    require_manager(actor, rsvp.event)
    if rsvp.status == RsvpStatus.CANCELLED:
        raise ValidationError("That RSVP was cancelled.")
    with transaction.atomic():
        rsvp = Rsvp.objects.select_for_update().select_related("event", "person").get(pk=rsvp.pk)
        if rsvp.attended != attended:
            _mark_attended(rsvp, attended, at=timezone.now())
    return rsvp


def _mark_attended(rsvp: Rsvp, attended: bool, *, at: datetime) -> None:
    rsvp.attended = attended
    rsvp.checked_in_at = at if attended else None
    rsvp.save(update_fields=["attended", "checked_in_at", "modified_at"])
    event = rsvp.event
    if attended:
        activity_record(
            person=rsvp.person,
            kind="attend",
            campaign=event.campaign,
            target=event,
            details={"rsvp": rsvp.pk},
            at=at,
        )
    else:
        Activity.objects.filter(
            person=rsvp.person, kind="attend", target_id=str(event.pk), details__rsvp=rsvp.pk
        ).delete()
