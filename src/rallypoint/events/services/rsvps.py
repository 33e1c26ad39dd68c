"""RSVP, cancel (with waitlist promotion) and check-in. Capacity is spent here only, with the
event row locked once per transaction: on PostgreSQL `select_for_update()` queues concurrent
RSVPs behind each other; on SQLite the IMMEDIATE transaction already serializes writers."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from rallypoint.core.audit import log_action
from rallypoint.ledger.models import Activity
from rallypoint.ledger.services import activity_record
from rallypoint.people.models import Person
from rallypoint.people.services import PersonData, person_match_or_create
from rallypoint.sharing.referral import Referral
from rallypoint.webhooks.services import webhook_emit

from ..models import Approval, Event, Rsvp, RsvpStatus
from ..permissions import require_manager
from . import notify

MAX_GUESTS = 10
MAX_COMMENT = 2000


def _stamp() -> str:
    return timezone.now().strftime("%Y%m%d%H%M%S%f")


def rsvp_create(
    *,
    event: Event,
    person_data: PersonData | None = None,
    person: Person | None = None,
    guests: int = 0,
    comment: str = "",
    referral: Referral | None = None,
    source: str = "web",
    walk_in: bool = False,
    attended: bool = False,
    notify_person: bool = True,
    resend_links: bool = False,
) -> Rsvp:
    """Say someone is coming. Returns the RSVP: accepted while seats last, then waitlisted
    (or ValidationError "full" when the event has no waitlist). Someone who already has an RSVP
    gets it back unchanged; with `resend_links` (forms anyone can post) that person is emailed
    their private links again, so whoever typed the address learns nothing and the owner of
    the address can still reach their RSVP. Walk-ins are let in over capacity and checked in at
    once.

    Call it outside any transaction: it opens its own durable one, so the seats it counts are
    committed before anyone else counts them."""
    if person is None and person_data is None:
        raise ValueError("rsvp_create needs person_data or person")
    if not isinstance(guests, int) or guests < 0 or guests > MAX_GUESTS:
        raise ValidationError({"guests": [f"Bring between 0 and {MAX_GUESTS} guests."]})
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise ValidationError({"comment": [f"Keep the comment under {MAX_COMMENT} characters."]})
    _check_open(event, walk_in=walk_in)
    now = timezone.now()
    with transaction.atomic(durable=True):
        created = False
        if person is None:
            data = PersonData(**{**person_data.__dict__})
            data.source = data.source or f"event {event.pk}"
            person, created = person_match_or_create(data)
        # Look for an earlier answer before taking the lock: the lock is held to commit, so
        # everything done under it is paid once per RSVP by every queued RSVP to this event.
        rsvp = None if created else Rsvp.objects.filter(event_id=event.pk, person=person).first()
        if rsvp is not None and rsvp.status != RsvpStatus.CANCELLED:
            if attended and not rsvp.attended:
                _mark_attended(rsvp, True, at=now)
            if resend_links and notify_person and not walk_in:
                rsvp_id, stamp = rsvp.pk, _stamp()
                transaction.on_commit(lambda: notify.rsvp_links_resend(rsvp_id, stamp))
            return rsvp
        # Write the answer first (as "going"), then lock the event and settle it: the lock is
        # held until commit, so only the capacity check and its writes wait in line.
        seats = 1 + guests
        values = {
            "status": RsvpStatus.ACCEPTED,
            "guests": guests,
            "comment": comment,
            "walk_in": walk_in,
            "source": source[:50],
            "referral_code": (referral.code if referral else "")[:16],
            "referral_channel": (referral.channel if referral else "")[:20],
            "attended": False,
            "checked_in_at": None,
            "promoted_at": None,
        }
        if rsvp is None and created:
            rsvp = Rsvp.objects.create(event_id=event.pk, person=person, **values)
        elif rsvp is None:
            try:
                with transaction.atomic():
                    rsvp = Rsvp.objects.create(event_id=event.pk, person=person, **values)
            except IntegrityError:
                # The same person's other request got there first (double submit).
                return Rsvp.objects.get(event_id=event.pk, person=person)
        else:
            for key, value in values.items():
                setattr(rsvp, key, value)
            rsvp.save()
        campaign = event.campaign
        event = Event.objects.select_for_update().get(pk=event.pk)
        _check_open(event, walk_in=walk_in)
        fits = event.capacity is None or event.seats_taken + seats <= event.capacity
        if fits or walk_in:
            event.seats_taken += seats
            event.save(update_fields=["seats_taken"])
            activity_record(
                person=person,
                kind="rsvp",
                campaign=campaign,
                target=event,
                referral=referral,
                person_created=created,
                details={"rsvp": rsvp.pk, "guests": guests},
                at=now,
            )
        elif event.waitlist_enabled:
            rsvp.status = RsvpStatus.WAITLISTED
            rsvp.save(update_fields=["status"])
        else:
            raise ValidationError("Sorry, this event is full.", code="full")
        webhook_emit("attendance", rsvp)
        status = rsvp.status
        rsvp.event = event
        if attended:
            _mark_attended(rsvp, True, at=now)
        if notify_person and not walk_in:
            rsvp_id, stamp = rsvp.pk, _stamp()
            send = (
                notify.rsvp_confirmed if status == RsvpStatus.ACCEPTED else notify.rsvp_waitlisted
            )
            transaction.on_commit(lambda: send(rsvp_id, stamp))
    rsvp.person_created = created  # type: ignore[attr-defined]
    return rsvp


def _check_open(event: Event, *, walk_in: bool) -> None:
    if event.is_cancelled:
        raise ValidationError("This event was cancelled.", code="cancelled")
    if event.approval != Approval.APPROVED:
        raise ValidationError("This event isn't open for RSVPs yet.", code="not_approved")
    if not walk_in and event.ends_at <= timezone.now():
        raise ValidationError("This event has already happened.", code="past")


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
        rsvp_id, stamp = rsvp.pk, _stamp()
        transaction.on_commit(
            lambda rsvp_id=rsvp_id, stamp=stamp: notify.rsvp_promoted(rsvp_id, stamp)
        )
    if promoted:
        event.save(update_fields=["seats_taken"])
    return promoted


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


def _mark_attended(rsvp: Rsvp, attended: bool, *, at) -> None:
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
