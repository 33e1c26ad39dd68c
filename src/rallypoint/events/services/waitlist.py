"""Cancel an RSVP, and let the waitlist in as seats free up (with the event row locked, then
its shifts' rows, as when seats are given: `rsvps`).

One rule lets people in, for an event and for each of its shifts alike (`admit`): oldest
first while seats last, and a smaller party further down may still fit. An RSVP with shifts
waits in each full shift it picked; one without shifts waits for the event."""

from collections.abc import Callable, Iterable
from functools import partial
from typing import Any, TypeVar

from django.db import transaction
from django.utils import timezone

from rallypoint.core.audit import log_action
from rallypoint.ledger.services import activity_record
from rallypoint.sharing.referral import Referral

from ..models import Event, Rsvp, RsvpStatus, Shift, ShiftSignup
from ..permissions import require_manager
from . import notify

Waiting = TypeVar("Waiting")


def admit(
    waiting: Iterable[Waiting], *, capacity: int | None, taken: int, seats: Callable[[Any], int]
) -> tuple[list[Waiting], int]:
    """Who of `waiting` (oldest first) gets in while seats last, and the seats then taken."""
    admitted: list[Waiting] = []
    for entry in waiting:
        need = seats(entry)
        if capacity is not None and taken + need > capacity:
            continue  # a smaller party further down may still fit
        taken += need
        admitted.append(entry)
    return admitted, taken


def rsvp_cancel(*, rsvp: Rsvp, actor: Any = None, by_attendee: bool = True) -> Rsvp:
    """Cancel an RSVP (by the attendee, through their private link, or by a host), with its
    places in shifts; seats that free up go to the waitlists in order, and the people let in
    are told."""
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
        freed = _signups_cancel(rsvp)
        if was_accepted:
            event.seats_taken = max(event.seats_taken - rsvp.seats, 0)
            event.save(update_fields=["seats_taken"])
        if (was_accepted or freed) and event.ends_at > timezone.now() and not event.is_cancelled:
            waitlist_promote(event, shifts=freed)
        if not by_attendee:
            log_action("event.rsvp.cancelled", obj=rsvp, actor=actor)
    return rsvp


def _signups_cancel(rsvp: Rsvp) -> list[int]:
    """Cancel the RSVP's places in shifts; returns the shifts where a seat was freed."""
    signups = list(ShiftSignup.objects.filter(rsvp=rsvp).exclude(status=RsvpStatus.CANCELLED))
    if not signups:
        return []
    accepted = [s.shift_id for s in signups if s.status == RsvpStatus.ACCEPTED]
    ShiftSignup.objects.filter(pk__in=[s.pk for s in signups]).update(status=RsvpStatus.CANCELLED)
    if not accepted:
        return []
    locked = Shift.objects.select_for_update(no_key=True).filter(pk__in=accepted)
    for shift in locked.order_by("pk"):
        shift.seats_taken = max(shift.seats_taken - rsvp.seats, 0)
        shift.save(update_fields=["seats_taken"])
    return accepted


def waitlist_promote(event: Event, *, shifts: Iterable[int] = ()) -> list[Rsvp]:
    """Let waitlisted people in, oldest first, while seats last: those waiting for the event
    (RSVPs without shifts) and those waiting in the given shifts. Call with the event locked;
    the shifts are locked here. Returns the RSVPs let in (each once)."""
    waiting = (
        Rsvp.objects.filter(event=event, status=RsvpStatus.WAITLISTED)
        .exclude(shift_signups__status__in=[RsvpStatus.ACCEPTED, RsvpStatus.WAITLISTED])
        .select_related("person")
        .order_by("created_at", "id")
    )
    admitted, event.seats_taken = admit(
        waiting, capacity=event.capacity, taken=event.seats_taken, seats=lambda r: r.seats
    )
    now = timezone.now()
    promoted: list[Rsvp] = []
    for rsvp in admitted:
        _rsvp_let_in(event, rsvp, at=now)
        promoted.append(rsvp)
        transaction.on_commit(partial(notify.rsvp_promoted, rsvp.pk, notify.email_stamp()))
    let_in = {rsvp.pk for rsvp in promoted}
    shift_ids = sorted(set(shifts))
    if shift_ids:
        promoted += _shifts_promote(event, shift_ids, let_in, at=now)
    if promoted:
        event.save(update_fields=["seats_taken"])
    return promoted


def _shifts_promote(event: Event, shift_ids: list[int], let_in: set[int], *, at) -> list[Rsvp]:
    """The shifts' waitlists: a place in a shift for the oldest waiting while seats last. An
    RSVP that was waiting in all its shifts is going once it has a place in one."""
    promoted: list[Rsvp] = []
    locked = Shift.objects.select_for_update(no_key=True).filter(event=event, pk__in=shift_ids)
    for shift in locked.order_by("pk"):
        waiting = (
            ShiftSignup.objects.filter(shift=shift, status=RsvpStatus.WAITLISTED)
            .select_related("rsvp__person")
            .order_by("created_at", "id")
        )
        before = shift.seats_taken
        admitted, shift.seats_taken = admit(
            waiting, capacity=shift.capacity, taken=shift.seats_taken, seats=lambda s: s.rsvp.seats
        )
        for signup in admitted:
            signup.status, signup.promoted_at = RsvpStatus.ACCEPTED, at
            signup.save(update_fields=["status", "promoted_at"])
            rsvp = signup.rsvp
            if rsvp.status == RsvpStatus.WAITLISTED and rsvp.pk not in let_in:
                _rsvp_let_in(event, rsvp, at=at, shift=shift)
                let_in.add(rsvp.pk)
                promoted.append(rsvp)
            transaction.on_commit(
                partial(notify.rsvp_promoted, rsvp.pk, notify.email_stamp(), shift.pk)
            )
        if shift.seats_taken != before:
            shift.save(update_fields=["seats_taken"])
    return promoted


def _rsvp_let_in(event: Event, rsvp: Rsvp, *, at, shift: Shift | None = None) -> None:
    """A waiting RSVP is going: its seats count for the event, and its "rsvp" act is
    recorded (crediting whoever brought them)."""
    rsvp.status, rsvp.promoted_at = RsvpStatus.ACCEPTED, at
    rsvp.save(update_fields=["status", "promoted_at", "modified_at"])
    if shift is not None:
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
        at=at,
    )
