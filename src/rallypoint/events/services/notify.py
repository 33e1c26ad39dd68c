"""Emails about an event. Each takes ids, runs after commit, and is safe to run twice
(dedupe keys per message and recipient)."""

from typing import Any

from django.db.models import Prefetch
from django.utils import timezone

from rallypoint.core.mail import email_queue

from ..calendar import event_url, ics_attachment
from ..channels import person_email
from ..links import rsvp_cancel_url, rsvp_page_url
from ..models import Event, EventHost, Rsvp, RsvpStatus, Shift, ShiftSignup


def email_stamp() -> str:
    """What makes an RSVP's email of one kind a new one (a new answer after a cancel gets its
    own confirmation): part of the email's dedupe key."""
    return timezone.now().strftime("%Y%m%d%H%M%S%f")


def event_context(event: Event, rsvp: Rsvp | None = None) -> dict[str, Any]:
    context: dict[str, Any] = {"event": event, "event_url": event_url(event)}
    if rsvp is not None:
        context["rsvp"] = rsvp
        context["person"] = rsvp.person
        context["share_url"] = f"{context['event_url']}?ref={rsvp.person.share_code}"
        # Signed for this RSVP and person: these emails go only to the person's own address.
        context["rsvp_url"] = rsvp_page_url(rsvp)
        context["cancel_url"] = rsvp_cancel_url(rsvp)
        context["shift_signups"] = rsvp_shift_signups(rsvp)
    return context


def signups_prefetch() -> Prefetch:
    """An RSVP's live places in shifts, soonest first, as `rsvp.live_signups` (the name
    `queries.live_signups` uses too)."""
    return Prefetch(
        "shift_signups",
        queryset=ShiftSignup.objects.exclude(status=RsvpStatus.CANCELLED)
        .select_related("shift")
        .order_by("shift__starts_at", "shift_id"),
        to_attr="live_signups",
    )


def rsvp_shift_signups(rsvp: Rsvp, event: Event | None = None) -> list[ShiftSignup]:
    """The RSVP's places in shifts (going or waiting), soonest first, each shift knowing its
    event (`event`, default the RSVP's: for its times in the event's zone). Uses
    `rsvp.live_signups` when the RSVP was loaded with it; one query otherwise."""
    event = event or rsvp.event
    signups = getattr(rsvp, "live_signups", None)
    if signups is None:
        signups = list(
            rsvp.shift_signups.exclude(status=RsvpStatus.CANCELLED)
            .select_related("shift")
            .order_by("shift__starts_at", "shift_id")
        )
    for signup in signups:
        signup.shift.event = event
    return signups


def shifts_going(rsvp: Rsvp, event: Event | None = None) -> list[Shift]:
    """The shifts the RSVP has a place in (its calendar entries)."""
    return [s.shift for s in rsvp_shift_signups(rsvp, event) if s.status == RsvpStatus.ACCEPTED]


def _rsvp(rsvp_id: int) -> Rsvp | None:
    return (
        Rsvp.objects.select_related("event", "person")
        .prefetch_related("person__email_addresses", signups_prefetch())
        .filter(pk=rsvp_id)
        .first()
    )


def _send(rsvp: Rsvp, template: str, key: str, *, ics: bool = False, **extra: Any) -> bool:
    to = person_email(rsvp.person)
    if to is None:
        return False
    message = email_queue(
        to=to,
        template=template,
        context={**event_context(rsvp.event, rsvp), **extra},
        dedupe_key=key,
        attachments=[ics_attachment(rsvp.event, shifts=shifts_going(rsvp))] if ics else None,
    )
    return message is not None


def rsvp_confirmed(rsvp_id: int, stamp: str) -> bool:
    rsvp = _rsvp(rsvp_id)
    if rsvp is None or rsvp.status != RsvpStatus.ACCEPTED:
        return False
    return _send(rsvp, "events/email/rsvp_confirmed", f"rsvp-confirmed:{rsvp_id}:{stamp}", ics=True)


def rsvp_waitlisted(rsvp_id: int, stamp: str) -> bool:
    rsvp = _rsvp(rsvp_id)
    if rsvp is None or rsvp.status != RsvpStatus.WAITLISTED:
        return False
    return _send(rsvp, "events/email/rsvp_waitlisted", f"rsvp-waitlisted:{rsvp_id}:{stamp}")


def rsvp_promoted(rsvp_id: int, stamp: str, shift_id: int | None = None) -> bool:
    """Someone was let in from a waitlist: the event's, or (`shift_id`) a shift's."""
    rsvp = _rsvp(rsvp_id)
    if rsvp is None or rsvp.status != RsvpStatus.ACCEPTED:
        return False
    if shift_id is None:
        return _send(
            rsvp, "events/email/rsvp_promoted", f"rsvp-promoted:{rsvp_id}:{stamp}", ics=True
        )
    shift = next(
        (
            s.shift
            for s in rsvp_shift_signups(rsvp)
            if s.shift_id == shift_id and s.status == RsvpStatus.ACCEPTED
        ),
        None,
    )
    if shift is None:
        return False
    key = f"rsvp-promoted:{rsvp_id}:{shift_id}:{stamp}"
    return _send(rsvp, "events/email/rsvp_promoted", key, ics=True, shift=shift)


def rsvp_shifts_changed(rsvp_id: int, stamp: str) -> bool:
    """Someone changed their shifts: their shifts as they are now, with a calendar file of
    the ones they are in."""
    rsvp = _rsvp(rsvp_id)
    if rsvp is None or rsvp.status not in (RsvpStatus.ACCEPTED, RsvpStatus.WAITLISTED):
        return False
    key = f"rsvp-shifts-changed:{rsvp_id}:{stamp}"
    going = rsvp.status == RsvpStatus.ACCEPTED
    return _send(rsvp, "events/email/rsvp_shifts_changed", key, ics=going)


def rsvp_links_resend(rsvp_id: int, stamp: str) -> bool:
    """Someone RSVP'd again with the address of a person who already has an RSVP: that person
    gets their private links again (at most once an hour), and nobody else sees anything."""
    rsvp = _rsvp(rsvp_id)
    if rsvp is None or rsvp.status not in (RsvpStatus.ACCEPTED, RsvpStatus.WAITLISTED):
        return False
    return _send(rsvp, "events/email/rsvp_links", f"rsvp-links:{rsvp_id}:{stamp[:10]}")


def _audience(event_id: int):
    return (
        Rsvp.objects.filter(
            event_id=event_id, status__in=[RsvpStatus.ACCEPTED, RsvpStatus.WAITLISTED]
        )
        .select_related("event", "person")
        .prefetch_related("person__email_addresses", signups_prefetch())
    )


def event_changed(event_id: int, revision: int, changed: list[str]) -> int:
    sent = 0
    for rsvp in _audience(event_id):
        key = f"event-changed:{event_id}:{revision}:{rsvp.pk}"
        sent += _send(
            rsvp,
            "events/email/event_changed",
            key,
            ics=rsvp.status == RsvpStatus.ACCEPTED,
            changed=changed,
        )
    return sent


def event_cancelled(event_id: int) -> int:
    sent = 0
    for rsvp in _audience(event_id):
        sent += _send(
            rsvp, "events/email/event_cancelled", f"event-cancelled:{event_id}:{rsvp.pk}", ics=True
        )
    return sent


def event_reviewed(event_id: int) -> int:
    event = Event.objects.filter(pk=event_id).first()
    if event is None:
        return 0
    sent = 0
    hosts = EventHost.objects.filter(event=event).select_related("person")
    for host in hosts.prefetch_related("person__email_addresses"):
        to = person_email(host.person)
        if to and email_queue(
            to=to,
            template="events/email/event_reviewed",
            context={**event_context(event), "person": host.person},
            dedupe_key=f"event-reviewed:{event_id}:{event.approval}:{host.person_id}",
        ):
            sent += 1
    return sent
