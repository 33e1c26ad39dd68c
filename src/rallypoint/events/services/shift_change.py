"""Someone going (or waiting) changes their shifts on the RSVP they have: adds shifts, drops
others. The same write as an RSVP's and a cancel's: in one durable transaction, the event's row
is locked, then the shifts that change, in id order (`rsvps`, `waitlist`), so a place is never
given twice and never lost. An added shift gives a place while it has room, else a place on
its waitlist (at its end: the change's time); a dropped place goes to that shift's waitlist,
oldest first (`waitlist_promote`, as after a cancel)."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from rallypoint.core.audit import log_action
from rallypoint.core.tasks import enqueue_on_commit

from ..models import Event, Rsvp, RsvpStatus, Shift, ShiftSignup
from ..tasks import rsvp_emails_send
from ..when import shift_text
from .notify import email_stamp
from .rsvps import _check_open, picked_shift_ids
from .waitlist import _rsvp_let_in, waitlist_promote


@dataclass(frozen=True)
class ShiftsChanged:
    """What a change did: the RSVP as it is now, the shifts given (`added`: a place or a
    place on the waitlist, see `waiting`), the shifts dropped, and the RSVPs let in from a
    waitlist by the places freed."""

    rsvp: Rsvp
    added: list[Shift] = field(default_factory=list)
    waiting: list[Shift] = field(default_factory=list)
    removed: list[Shift] = field(default_factory=list)
    promoted: list[Rsvp] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.added or self.waiting or self.removed)


def rsvp_shifts_change(
    *, rsvp: Rsvp, shifts: list[Any], actor: Any = None, at: datetime | None = None
) -> ShiftsChanged:
    """Make the RSVP's shifts those picked (ids or Shift rows): a place (or a waitlist place)
    in each new one, the places in the others given back. Shifts that have ended stay as they
    were. Raises ValidationError keyed "shifts" (none left: cancel instead; a shift no longer
    there, over, or full without a waitlist) or not keyed (the RSVP or the event is closed).
    The caller has checked that the RSVP is the person's own (its signed link or their login).
    """
    wanted = picked_shift_ids(shifts)
    at = at or timezone.now()
    with transaction.atomic(durable=True):
        event = Event.objects.select_for_update(no_key=True).get(pk=rsvp.event_id)
        rsvp = Rsvp.objects.select_related("person").get(pk=rsvp.pk)
        if rsvp.status == RsvpStatus.CANCELLED:
            raise ValidationError("This RSVP was cancelled. RSVP again to pick shifts.")
        _check_open(event, walk_in=False)
        offered = {shift.pk: shift for shift in Shift.objects.filter(event=event)}
        if not offered:
            raise ValidationError({"shifts": ["This event has no shifts to pick."]})
        if wanted - set(offered):
            raise ValidationError(
                {"shifts": ["A shift you picked isn't on this event any more. Pick again."]}
            )
        signups = {s.shift_id: s for s in ShiftSignup.objects.filter(rsvp=rsvp)}
        live = {pk for pk, s in signups.items() if s.status != RsvpStatus.CANCELLED}
        over = {pk for pk, shift in offered.items() if shift.ends_at <= at}
        late = sorted((wanted - live) & over, key=lambda pk: offered[pk].starts_at)
        if late:
            label = shift_text(offered[late[0]], event.zone)
            raise ValidationError({"shifts": [f"The shift {label} has already happened."]})
        keep = (wanted | (live & over)) & set(offered)
        if not keep:
            raise ValidationError(
                {"shifts": ["Pick at least one shift. Not coming at all? Cancel your RSVP."]}
            )
        to_add, to_drop = keep - live, live - keep
        if not to_add and not to_drop:
            return ShiftsChanged(rsvp=rsvp)
        locked = Shift.objects.select_for_update(no_key=True).filter(pk__in=to_add | to_drop)
        rows = {shift.pk: shift for shift in locked.order_by("pk")}
        seats = rsvp.seats
        freed: list[int] = []
        removed: list[Shift] = []
        for pk in sorted(to_drop, key=lambda pk: (rows[pk].starts_at, pk)):
            signup, shift = signups[pk], rows[pk]
            if signup.status == RsvpStatus.ACCEPTED:
                shift.seats_taken = max(shift.seats_taken - seats, 0)
                shift.save(update_fields=["seats_taken"])
                freed.append(pk)
            signup.status = RsvpStatus.CANCELLED
            signup.save(update_fields=["status"])
            removed.append(shift)
        added: list[Shift] = []
        waiting: list[Shift] = []
        new: list[ShiftSignup] = []
        for pk in sorted(to_add, key=lambda pk: (rows[pk].starts_at, pk)):
            shift = rows[pk]
            if shift.capacity is None or shift.seats_taken + seats <= shift.capacity:
                shift.seats_taken += seats
                shift.save(update_fields=["seats_taken"])
                status = RsvpStatus.ACCEPTED
                added.append(shift)
            elif shift.waitlist_enabled:
                status = RsvpStatus.WAITLISTED
                waiting.append(shift)
            else:
                label = shift_text(shift, event.zone)
                raise ValidationError({"shifts": [f"Sorry, the shift {label} is full."]})
            again = signups.get(pk)
            if again is None:
                new.append(ShiftSignup(rsvp=rsvp, shift=shift, status=status, created_at=at))
            else:  # picked again: a new place, at the end of the waitlist if it waits
                again.status, again.created_at, again.promoted_at = status, at, None
                again.save(update_fields=["status", "created_at", "promoted_at"])
        ShiftSignup.objects.bulk_create(new)
        going = ShiftSignup.objects.filter(rsvp=rsvp, status=RsvpStatus.ACCEPTED).exists()
        if rsvp.status == RsvpStatus.ACCEPTED and not going:
            # Only waiting now: their seats no longer count for the event.
            rsvp.status = RsvpStatus.WAITLISTED
            rsvp.save(update_fields=["status", "modified_at"])
            event.seats_taken = max(event.seats_taken - seats, 0)
        elif rsvp.status == RsvpStatus.WAITLISTED and going:
            _rsvp_let_in(event, rsvp, at=at, shift=added[0] if added else None)  # the act, seats
        else:
            rsvp.save(update_fields=["modified_at"])
        promoted: list[Rsvp] = []
        if freed:
            promoted = waitlist_promote(event, shifts=freed)
        event.save(update_fields=["seats_taken"])
        log_action(
            "event.rsvp.shifts_changed",
            obj=rsvp,
            actor=actor,
            data={
                "added": [s.pk for s in added],
                "waiting": [s.pk for s in waiting],
                "removed": [s.pk for s in removed],
            },
        )
        enqueue_on_commit(rsvp_emails_send, [["shifts_changed", rsvp.pk, email_stamp()]])
    return ShiftsChanged(
        rsvp=rsvp, added=added, waiting=waiting, removed=removed, promoted=promoted
    )
