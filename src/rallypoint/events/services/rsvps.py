"""RSVP, cancel (with waitlist promotion) and check-in.

There is one write of RSVPs: `rsvps_write(rsvps)`, for checked RSVPs (`rsvp_check`), inside a
transaction. `rsvp_record` (and `rsvp_create`, which returns the RSVP itself) is a group of one
in its own transaction. The public RSVP form and the API's record attendance helper call
`rsvp_record_together`: the checks run in the request's thread, then the write joins those of
other requests arriving at the same moment (`core.concurrency.write_together`), and
`rsvps_record` writes the group in one transaction through the same `rsvps_write`. If anything
in the group fails, it is rolled back whole and each RSVP is written alone, so only the request
whose RSVP failed sees its error.

Capacity is spent here only, with each event's row locked once per group: the answers are
written first, then the group's events are locked in one statement (on PostgreSQL
`select_for_update(no_key=True)`, which still lets other RSVPs' inserts check their event; on
SQLite the IMMEDIATE transaction already serializes writers) and seats are given in the group's
order while they last, then places on the waitlist. The lock is held until commit, so what runs
under it is paid once per group, not once per RSVP.

An event may have shifts (time slots with their own capacity and waitlist): an RSVP then picks
one or more, and after the events the picked shifts' rows are locked the same way (once per
group, in id order), and each RSVP gets a place in each of its shifts or on that shift's
waitlist (`ShiftSignup`, one INSERT for the group). The RSVP's answers to the event's questions
are written with it."""

from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from rallypoint.core.concurrency import write_alone, write_grouped_or_alone, write_together
from rallypoint.core.outbox import OutboxItem, outbox_record_many
from rallypoint.core.tasks import enqueue_on_commit
from rallypoint.ledger.services import (
    ActToRecord,
    activities_record,
    referrers_of_codes,
)
from rallypoint.people.models import Person
from rallypoint.people.questions import answers_clean
from rallypoint.people.services import MatchResult, PersonData, match_or_create_many
from rallypoint.people.services.matching import person_events
from rallypoint.sharing.referral import Referral

from ..models import Approval, Event, Rsvp, RsvpStatus, Shift, ShiftSignup
from ..tasks import rsvp_emails_send
from ..when import shift_text
from .notify import email_stamp

MAX_GUESTS = 10
MAX_COMMENT = 2000


@dataclass(frozen=True)
class RsvpResult:
    """What recording one RSVP did. `created`: a new RSVP row was written (False when the
    person's RSVP was returned unchanged, or their cancelled one was answered again)."""

    rsvp: Rsvp
    person: Person
    created: bool
    person_created: bool


@dataclass
class RsvpToWrite:
    """A checked RSVP waiting to be written (`rsvp_check`)."""

    event: Event
    person_data: PersonData | None  # validated; None when `person` is given
    person: Person | None
    guests: int
    comment: str
    referral: Referral | None
    source: str
    walk_in: bool
    attended: bool
    notify_person: bool
    resend_links: bool
    at: datetime
    # The shifts picked (none for an event without shifts), and the answers to the event's
    # questions, checked.
    shifts: list[Shift] = field(default_factory=list)
    answers: dict[str, Any] = field(default_factory=dict)


def rsvp_check(
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
    at: datetime | None = None,
    shifts: list[Any] | None = None,
    answers: dict[Any, Any] | None = None,
) -> RsvpToWrite:
    """Everything `rsvp_record` checks before it writes; raises ValidationError for bad input
    (keyed by field) or an event not open for RSVPs.

    `shifts`: the ids (or Shift rows) picked, at least one when the event has shifts (walk-ins
    may pick none). `answers`: the answers to the event's questions by question id (or
    "q_<id>"); None when they weren't asked (a walk-in, the API), so required ones may be
    missing, and what is given is still checked."""
    if person is None and person_data is None:
        raise ValueError("an RSVP needs person_data or person")
    errors: dict[str, list[str]] = {}
    if not isinstance(guests, int) or guests < 0 or guests > MAX_GUESTS:
        errors["guests"] = [f"Bring between 0 and {MAX_GUESTS} guests."]
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        errors["comment"] = [f"Keep the comment under {MAX_COMMENT} characters."]
    chosen: list[Shift] = []
    try:
        chosen = _shifts_chosen(event, shifts, walk_in=walk_in)
    except ValidationError as exc:
        errors.update(exc.message_dict)
    cleaned_answers: dict[str, Any] = {}
    questions = list(event.questions.all())
    if questions:
        try:
            cleaned_answers = answers_clean(
                questions, answers, enforce_required=answers is not None
            )
        except ValidationError as exc:
            errors.update(exc.message_dict)
    if errors:
        raise ValidationError(errors)
    _check_open(event, walk_in=walk_in)
    data = None
    if person is None and person_data is not None:
        data = person_data.validated()
        if not data.source:  # a copy: the caller's validated data stays as it was
            data = replace(data, source=f"event {event.pk}")
    return RsvpToWrite(
        event=event,
        person_data=data,
        person=person,
        guests=guests,
        comment=comment,
        referral=referral,
        source=source,
        walk_in=walk_in,
        attended=attended,
        notify_person=notify_person,
        resend_links=resend_links,
        at=at or timezone.now(),
        shifts=chosen,
        answers=cleaned_answers,
    )


def picked_shift_ids(picked: list[Any] | None) -> set[int]:
    """The ids of the shifts a form or the API named (ids as text or numbers, or Shift rows);
    ValidationError keyed "shifts" for anything else."""
    ids: set[int] = set()
    for value in picked or []:
        pk = value.pk if isinstance(value, Shift) else value
        try:
            ids.add(int(pk))
        except (TypeError, ValueError):
            raise ValidationError({"shifts": ["Pick shifts from the list."]}) from None
    return ids


def _shifts_chosen(event: Event, picked: list[Any] | None, *, walk_in: bool) -> list[Shift]:
    """The event's shifts named by `picked` (ids, as text or numbers, or Shift rows), in time
    order; ValidationError keyed "shifts" for anything else."""
    offered = list(event.shifts.all())
    ids = picked_shift_ids(picked)
    if not offered:
        if ids:
            raise ValidationError({"shifts": ["This event has no shifts to pick."]})
        return []
    by_id = {shift.pk: shift for shift in offered}
    if ids - set(by_id):
        raise ValidationError(
            {"shifts": ["A shift you picked isn't on this event any more. Pick again."]}
        )
    chosen = [by_id[pk] for pk in sorted(ids, key=lambda pk: (by_id[pk].starts_at, pk))]
    if not chosen and not walk_in:
        raise ValidationError({"shifts": ["Pick at least one shift."]})
    if not walk_in:
        now = timezone.now()
        past = [shift for shift in chosen if shift.ends_at <= now]
        if past:
            raise ValidationError(
                {"shifts": [f"The shift {shift_text(past[0], event.zone)} has already happened."]}
            )
    return chosen


def rsvp_record(**kwargs: Any) -> RsvpResult:
    """Say someone is coming: accepted while seats last, then waitlisted (or ValidationError
    "full" when the event has no waitlist). Someone who already has an RSVP gets it back
    unchanged; with `resend_links` (forms anyone can post) that person is emailed their private
    links again, so whoever typed the address learns nothing and the owner of the address can
    still reach their RSVP. Walk-ins are let in over capacity; `attended` checks them in at
    once. The arguments are those of `rsvp_check`.

    Call it outside any transaction: it opens its own durable one, so the seats it counts are
    committed before anyone else counts them."""
    return write_alone(rsvps_write, rsvp_check(**kwargs), durable=True)


def rsvp_create(**kwargs: Any) -> Rsvp:
    """`rsvp_record`, returning the RSVP."""
    return rsvp_record(**kwargs).rsvp


def rsvp_record_together(**kwargs: Any) -> RsvpResult:
    """`rsvp_record` for web requests and the API's record attendance helper: checked in the
    caller's thread, then written with the RSVPs of other requests arriving at the same moment
    in this process (at most RSVP_BATCH_MAX at once; a lone request writes its own at once).
    Raises ValidationError as `rsvp_record` does, and Busy when its turn did not come within
    WRITE_WAIT_SECONDS."""
    rsvp = rsvp_check(**kwargs)
    return write_together(rsvps_record, rsvp, max_batch=int(settings.RSVP_BATCH_MAX))


def rsvps_record(rsvps: list[RsvpToWrite]) -> list[RsvpResult | Exception]:
    """Write several checked RSVPs at once: what `rsvp_record` writes for each, in one
    transaction. Returns each one's result, or the exception it raised when written alone.

    If anything in the shared transaction fails (one RSVP to a full event without a waitlist, a
    concurrent request that took an address or answered a moment ago, a deadlock), it is rolled
    back whole and every RSVP is written alone, in its own transaction."""
    return write_grouped_or_alone(rsvps_write, rsvps, durable=True)


@dataclass
class _Step:
    """What `rsvps_write` does with one RSVP: `settle` when its seats are still to be given."""

    rsvp: Rsvp
    person: Person
    created: bool
    person_created: bool
    settle: bool
    check_in: bool = False


def rsvps_write(rsvps: list[RsvpToWrite]) -> list[RsvpResult]:
    """The write of checked RSVPs, in the caller's transaction, in order: match or create the
    people (`match_or_create_many`), store the new answers (one INSERT) and the outbox events
    (the people's and "attendance", one INSERT), lock the events (one statement), give seats
    while they last and then places on the waitlist, write the acts with their referrers and
    recruitment edges (`ledger.activities_record`) and one task for the emails. A person who
    already has a live RSVP to the event gets it back unchanged (once per group too); a
    cancelled one is answered again."""
    matches = _people_match(rsvps)
    people: list[tuple[Person, bool]] = []  # (person, created)
    for r, match in zip(rsvps, matches, strict=True):
        if match is not None:
            people.append((match.person, match.created))
        elif r.person is not None:
            people.append((r.person, False))
        else:
            raise ValueError("an RSVP needs person_data or person")
    earlier = _earlier_rsvps(rsvps, people)
    steps: list[_Step] = []
    new: list[Rsvp] = []
    for item, (person, person_created) in zip(rsvps, people, strict=True):
        key = (item.event.pk, person.pk)
        rsvp = earlier.get(key)
        if rsvp is not None and rsvp.status != RsvpStatus.CANCELLED:
            step = _Step(rsvp, person, False, person_created, settle=False)
            if item.attended and not rsvp.attended:
                _attended_set(rsvp, item.at)
                step.check_in = True
            steps.append(step)
            continue
        values = _rsvp_values(item)
        if rsvp is None:
            rsvp = Rsvp(event_id=item.event.pk, person=person, **values)
            new.append(rsvp)
        else:
            for name, value in values.items():
                setattr(rsvp, name, value)
            rsvp.save()
        earlier[key] = rsvp
        steps.append(_Step(rsvp, person, rsvp in new, person_created, True, item.attended))
    # Write what does not depend on the seats before taking the lock: it is held until
    # commit, so only the capacity check and what follows it wait in line.
    Rsvp.objects.bulk_create(new)
    again = [
        step.rsvp.pk
        for item, step in zip(rsvps, steps, strict=True)
        if step.settle and item.shifts and step.rsvp not in new
    ]
    if again:  # a cancelled RSVP answered again: its old places in shifts were all given back
        ShiftSignup.objects.filter(rsvp_id__in=again).delete()
    for step in steps:
        if step.check_in and not step.settle and step.rsvp.pk is not None and step.rsvp not in new:
            step.rsvp.save(update_fields=["attended", "checked_in_at", "modified_at"])
    outbox: list[OutboxItem] = []
    for match, step in zip(matches, steps, strict=True):
        if match is not None:  # in each RSVP's order, as when they are written one by one
            outbox.extend(person_events([match]))
        if step.settle:
            outbox.append(("attendance", step.rsvp, None))
    outbox_record_many(outbox)
    referrers = referrers_of_codes([r.referral.code for r in rsvps if r.referral])
    events = _events_settle(rsvps, steps)
    acts: list[ActToRecord] = []
    emails: list[list[Any]] = []
    for item, step in zip(rsvps, steps, strict=True):
        rsvp, event = step.rsvp, item.event
        if step.settle:
            event.seats_taken = events[event.pk].seats_taken  # as this write left it
            rsvp.event = event
            if rsvp.status == RsvpStatus.ACCEPTED:
                acts.append(_rsvp_act(item, step, event, referrers))
        if step.check_in:
            acts.append(
                ActToRecord(
                    person=step.person,
                    kind="attend",
                    at=item.at,
                    campaign=item.event.campaign,
                    target=event,
                    details={"rsvp": rsvp.pk},
                )
            )
        if item.notify_person and not item.walk_in:
            if step.settle:
                what = "confirmed" if rsvp.status == RsvpStatus.ACCEPTED else "waitlisted"
                emails.append([what, rsvp.pk, email_stamp()])
            elif item.resend_links:
                emails.append(["links", rsvp.pk, email_stamp()])
    activities_record(acts)
    if emails:
        enqueue_on_commit(rsvp_emails_send, emails)
    return [
        RsvpResult(
            rsvp=step.rsvp,
            person=step.person,
            created=step.created,
            person_created=step.person_created,
        )
        for step in steps
    ]


def _people_match(rsvps: list[RsvpToWrite]) -> list[MatchResult | None]:
    """How each RSVP's person was matched or created (None when the RSVP names its person):
    those given by their data together, with the anonymous rules. Their outbox events are
    written by `rsvps_write` with the RSVPs', in one INSERT."""
    rows = [r.person_data for r in rsvps if r.person is None and r.person_data is not None]
    matched = iter(match_or_create_many(rows, record_events=False))
    return [None if r.person is not None else next(matched) for r in rsvps]


def _earlier_rsvps(
    rsvps: list[RsvpToWrite], people: list[tuple[Person, bool]]
) -> dict[tuple[int, int], Rsvp]:
    """The RSVPs the known people already have to the group's events (one query): nobody can
    have answered as a person who did not exist a moment ago."""
    known = {
        (r.event.pk, person.pk)
        for r, (person, created) in zip(rsvps, people, strict=True)
        if not created
    }
    if not known:
        return {}
    rows = Rsvp.objects.filter(
        event_id__in={event_id for event_id, _ in known},
        person_id__in={person_id for _, person_id in known},
    ).order_by()
    return {(r.event_id, r.person_id): r for r in rows if (r.event_id, r.person_id) in known}


def _rsvp_values(item: RsvpToWrite) -> dict[str, Any]:
    referral = item.referral
    return {
        "status": RsvpStatus.ACCEPTED,
        "guests": item.guests,
        "comment": item.comment,
        "walk_in": item.walk_in,
        "source": item.source[:50],
        "referral_code": (referral.code if referral else "")[:16],
        "referral_channel": (referral.channel if referral else "")[:20],
        "attended": item.attended,
        "checked_in_at": item.at if item.attended else None,
        "promoted_at": None,
        "answers": item.answers,
    }


def _attended_set(rsvp: Rsvp, at: datetime) -> None:
    rsvp.attended, rsvp.checked_in_at = True, at


# What settling an RSVP reads from the locked event and shift rows.
_SETTLE = ("id", "capacity", "seats_taken", "waitlist_enabled", "status", "approval", "ends_at")
_SETTLE_SHIFT = (
    "id",
    "event_id",
    "capacity",
    "seats_taken",
    "waitlist_enabled",
    "starts_at",
    "ends_at",
)


def _events_settle(rsvps: list[RsvpToWrite], steps: list[_Step]) -> dict[int, Event]:
    """Lock the events of the answers to settle, then the shifts they picked (one statement
    each, reading only what capacity needs), give seats in the group's order while they last,
    then places on the waitlist; store the new seat counts and the places in shifts (one
    INSERT). Returns the locked events by id.

    An RSVP with shifts gets a place in each shift it picked, or on that shift's waitlist: it
    is going once it has a place in one, and counts for the event's seats then. The event's
    own capacity is for events without shifts."""
    settling = [(r, step) for r, step in zip(rsvps, steps, strict=True) if step.settle]
    wanted = sorted({r.event.pk for r, _ in settling})
    if not wanted:
        return {}
    locked = Event.objects.select_for_update(no_key=True).filter(pk__in=wanted).only(*_SETTLE)
    # In id order, so two groups never wait for each other in a circle.
    locked = locked.order_by("pk") if len(wanted) > 1 else locked.order_by()
    events = {event.pk: event for event in locked}
    shifts = _shifts_lock(sorted({s.pk for r, _ in settling for s in r.shifts}))
    taken = {pk: event.seats_taken for pk, event in events.items()}
    shift_taken = {pk: shift.seats_taken for pk, shift in shifts.items()}
    waitlisted = []
    signups: list[ShiftSignup] = []
    now = timezone.now()
    for item, step in settling:
        event = events.get(item.event.pk)
        if event is None:
            raise Event.DoesNotExist("The event was deleted.")
        _check_open(event, walk_in=item.walk_in)
        seats = 1 + item.guests
        if item.shifts:
            going = False
            for picked in item.shifts:
                label = shift_text(picked, item.event.zone)
                shift = shifts.get(picked.pk)
                if shift is None or shift.event_id != event.pk:
                    raise ValidationError(
                        {"shifts": ["A shift you picked was just removed. Pick again."]}
                    )
                if not item.walk_in and shift.ends_at <= now:
                    raise ValidationError({"shifts": [f"The shift {label} has already happened."]})
                fits = shift.capacity is None or shift.seats_taken + seats <= shift.capacity
                if fits or item.walk_in:
                    shift.seats_taken += seats
                    status, going = RsvpStatus.ACCEPTED, True
                elif shift.waitlist_enabled:
                    status = RsvpStatus.WAITLISTED
                else:
                    raise ValidationError({"shifts": [f"Sorry, the shift {label} is full."]})
                signups.append(
                    ShiftSignup(
                        rsvp=step.rsvp, shift_id=shift.pk, status=status, created_at=item.at
                    )
                )
            if going:
                event.seats_taken += seats
            else:
                step.rsvp.status = RsvpStatus.WAITLISTED
                waitlisted.append(step.rsvp.pk)
            continue
        if event.capacity is None or event.seats_taken + seats <= event.capacity or item.walk_in:
            event.seats_taken += seats
        elif event.waitlist_enabled:
            step.rsvp.status = RsvpStatus.WAITLISTED
            waitlisted.append(step.rsvp.pk)
        else:
            raise ValidationError("Sorry, this event is full.", code="full")
    if waitlisted:
        Rsvp.objects.filter(pk__in=waitlisted).update(status=RsvpStatus.WAITLISTED)
    ShiftSignup.objects.bulk_create(signups)
    for pk, event in events.items():
        if event.seats_taken != taken[pk]:
            Event.objects.filter(pk=pk).update(seats_taken=event.seats_taken)
    for pk, shift in shifts.items():
        if shift.seats_taken != shift_taken[pk]:
            Shift.objects.filter(pk=pk).update(seats_taken=shift.seats_taken)
    return events


def _shifts_lock(ids: list[int]) -> dict[int, Shift]:
    """The picked shifts, locked after their events (FOR NO KEY UPDATE on PostgreSQL, in id
    order): what a shift's capacity needs, once per group."""
    if not ids:
        return {}
    locked = Shift.objects.select_for_update(no_key=True).filter(pk__in=ids).only(*_SETTLE_SHIFT)
    return {shift.pk: shift for shift in locked.order_by("pk")}


def _rsvp_act(
    item: RsvpToWrite, step: _Step, event: Event, referrers: dict[str, Person]
) -> ActToRecord:
    """The ledger act of an RSVP given a seat."""
    referral = item.referral
    referrer = referrers.get(referral.code) if referral and referral.code else None
    if referrer is not None and referrer.pk == step.person.pk:
        referrer = None  # nobody recruits themselves
    return ActToRecord(
        person=step.person,
        kind="rsvp",
        at=item.at,
        campaign=item.event.campaign,  # as the caller loaded it
        target=event,
        referral=referral,
        referrer=referrer,
        person_created=step.person_created,
        details={"rsvp": step.rsvp.pk, "guests": item.guests},
    )


def _check_open(event: Event, *, walk_in: bool) -> None:
    if event.is_cancelled:
        raise ValidationError("This event was cancelled.", code="cancelled")
    if event.approval != Approval.APPROVED:
        raise ValidationError("This event isn't open for RSVPs yet.", code="not_approved")
    if not walk_in and event.ends_at <= timezone.now():
        raise ValidationError("This event has already happened.", code="past")
