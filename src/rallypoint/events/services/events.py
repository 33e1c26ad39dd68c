"""Propose, edit, approve, cancel and duplicate events, with their shifts and questions."""

from dataclasses import dataclass, field, fields, replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import zipcodes
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.utils import timezone

from rallypoint.core.audit import log_action
from rallypoint.core.geo import lookup_postal_code
from rallypoint.core.richtext import rich_text_clean
from rallypoint.people.models import Person
from rallypoint.people.normalize import clean_email
from rallypoint.people.questions import question_fill

from ..hooks import event_groups
from ..links import is_web_url
from ..models import (
    Approval,
    CampaignEventSettings,
    Event,
    EventHost,
    EventQuestion,
    EventStatus,
    EventType,
    HostRole,
    LocationMode,
    Rsvp,
    RsvpStatus,
    Series,
    Shift,
    Visibility,
)
from ..permissions import is_organizer, require_manager
from . import notify, schedule
from .shifts import (
    ShiftData,
    questions_check,
    questions_write,
    shifts_check,
    shifts_locked,
    shifts_moved,
    shifts_write,
    wall,
)
from .template import template_dates_check, template_locked

MAX_DURATION = timedelta(days=14)
# The description is rich text (sanitised HTML, `core.richtext`), at most this long as typed.
DESCRIPTION_MAX = 20000
MIN_REMINDER, MAX_REMINDER = 5, 7 * 24 * 60
# Changing any of these tells attendees and re-sends the calendar entry.
TIME_FIELDS = ("starts_at", "ends_at", "timezone")
PLACE_FIELDS = ("location_mode", "venue", "address_line", "locality", "postal_code", "join_url")


@dataclass
class EventData:
    """What a host tells us about an event. Times are aware datetimes."""

    title: str = ""
    starts_at: datetime | None = None
    ends_at: datetime | None = None
    timezone: str = ""  # blank: take it from the postal code
    event_type: str = EventType.OTHER
    description: str = ""
    location_mode: str = LocationMode.IN_PERSON
    venue: str = ""
    address_line: str = ""
    locality: str = ""
    region: str = ""
    postal_code: str = ""
    country: str = "US"
    latitude: float | None = None
    longitude: float | None = None
    join_url: str = ""
    capacity: int | None = None
    waitlist_enabled: bool = True
    visibility: str = Visibility.PUBLIC
    status: str = EventStatus.CONFIRMED
    contact_name: str = ""
    contact_email: str = ""
    contact_phone: str = ""
    instructions: str = ""
    campaign: Any = None
    group: Any = None
    reminder_minutes: list[int] = field(default_factory=list)

    @classmethod
    def from_event(cls, event: Event) -> "EventData":
        return cls(**{f.name: getattr(event, f.name) for f in fields(cls)})


def _zone_for(data: EventData) -> str:
    if data.timezone:
        return data.timezone
    code = (data.postal_code or "").strip()[:5]
    if code.isdigit() and len(code) == 5:
        match = zipcodes.matching(code)
        if match and match[0].get("timezone"):
            return match[0]["timezone"]
    return ""


def event_data_clean(data: EventData, *, event: Event | None = None) -> EventData:
    """A checked copy of `data` with place and zone filled in; ValidationError keyed by field.
    An event of a campaign with an event template takes the fields it locks, and must start
    on one of its days (`template`)."""
    errors: dict[str, list[str]] = {}
    now = timezone.now()
    data, template = template_locked(data)  # a campaign's day of action fixes some fields
    clean = replace(data)
    clean.title = (data.title or "").strip()
    if not clean.title:
        errors["title"] = ["Give the event a name."]
    elif len(clean.title) > 200:
        errors["title"] = ["Keep the name under 200 characters."]
    if data.event_type not in EventType.values:
        errors["event_type"] = ["Choose a type of event."]
    if len(data.description or "") > DESCRIPTION_MAX:
        errors["description"] = [
            f"Keep the description under {DESCRIPTION_MAX:,} characters (formatting included)."
        ]
    else:
        # What the editor sent, sanitised; plain text (an API client, a browser without
        # JavaScript) becomes paragraphs.
        clean.description = rich_text_clean(data.description)
    if data.location_mode not in LocationMode.values:
        errors["location_mode"] = ["Choose in person, online, or both."]
    if data.visibility not in Visibility.values:
        errors["visibility"] = ["Choose who can see the event."]
    if data.status not in (EventStatus.CONFIRMED, EventStatus.TENTATIVE):
        errors["status"] = ["Choose confirmed or tentative (cancel the event to cancel it)."]

    clean.timezone = _zone_for(data)
    try:
        ZoneInfo(clean.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        errors["timezone"] = ["Choose the time zone the event happens in."]

    start, end = data.starts_at, data.ends_at
    if start is None:
        errors["starts_at"] = ["When does it start?"]
    if end is None:
        errors["ends_at"] = ["When does it end?"]
    if start is not None and end is not None:
        start_changed = event is None or start != event.starts_at
        if start_changed and start <= now:
            errors["starts_at"] = ["That time has already passed. Pick a time in the future."]
        if end <= start:
            errors["ends_at"] = ["The end has to be after the start."]
        elif end - start > MAX_DURATION:
            errors["ends_at"] = ["An event can last at most 14 days."]

    in_person = data.location_mode in (LocationMode.IN_PERSON, LocationMode.HYBRID)
    clean.postal_code = (data.postal_code or "").strip()
    if in_person:
        precise = data.latitude is not None and data.longitude is not None
        if precise and not (-90 <= data.latitude <= 90 and -180 <= data.longitude <= 180):
            errors["latitude"] = ["Latitude is between -90 and 90, longitude between -180 and 180."]
        if not clean.postal_code:
            errors["postal_code"] = ["Enter the postal code where it happens."]
        else:
            place = lookup_postal_code(clean.postal_code, data.country or "US")
            if place is None and not precise:
                errors["postal_code"] = [
                    f"We don't know the postal code “{clean.postal_code}”. Check it, or give "
                    "the exact latitude and longitude."
                ]
            elif place is not None:
                clean.locality = (data.locality or "").strip() or place.locality
                clean.region = (data.region or "").strip() or place.region
                if not precise:
                    clean.latitude, clean.longitude = place.latitude, place.longitude
    else:
        clean.latitude = clean.longitude = None
        clean.venue = clean.address_line = ""
    clean.join_url = (data.join_url or "").strip()
    if clean.join_url and (len(clean.join_url) > 500 or not is_web_url(clean.join_url)):
        errors["join_url"] = [
            "Enter the join link as a web address starting with https:// or http:// "
            "(at most 500 characters)."
        ]
    elif not clean.join_url and data.location_mode == LocationMode.VIRTUAL:
        errors["join_url"] = ["Add the link people use to join online."]
    if data.capacity is not None:
        if data.capacity < 1:
            errors["capacity"] = ["Capacity is at least 1, or leave it empty for no limit."]
        elif event is not None and data.capacity < event.seats_taken:
            errors["capacity"] = [
                f"{event.seats_taken} people (with guests) are already going, so capacity "
                f"can't be lower than {event.seats_taken}."
            ]
    if data.contact_email:
        try:
            clean.contact_email = clean_email(data.contact_email)
        except ValidationError as exc:
            errors["contact_email"] = exc.messages
    template_dates_check(
        template,
        starts_at=start,
        zone=clean.timezone if "timezone" not in errors else "",
        start_changed=event is None or start != event.starts_at,
        errors=errors,
    )
    minutes = sorted({int(m) for m in (data.reminder_minutes or [])}, reverse=True)
    if len(minutes) > 5 or any(m < MIN_REMINDER or m > MAX_REMINDER for m in minutes):
        errors["reminder_minutes"] = [
            "Up to 5 reminders, each between 5 minutes and 7 days before the start."
        ]
    clean.reminder_minutes = minutes
    if errors:
        raise ValidationError(errors)
    return clean


def approval_for(*, actor: Any, campaign: Any, group: Any) -> str:
    """Organizers' and group leaders' events are live at once; others' when the campaign (or
    the site, EVENTS_REQUIRE_APPROVAL) asks for review."""
    if is_organizer(actor) or group is not None:
        return Approval.APPROVED
    needs = bool(getattr(settings, "EVENTS_REQUIRE_APPROVAL", False))
    if campaign is not None:
        prefs = CampaignEventSettings.objects.filter(campaign=campaign).first()
        if prefs is not None:
            needs = prefs.require_approval
    return Approval.PENDING if needs else Approval.APPROVED


def _errors_of(exc: ValidationError) -> dict[str, list[str]]:
    return exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}


def _extras_check(
    clean: EventData,
    *,
    shifts: list[ShiftData] | None,
    questions: list[dict[str, Any]] | None,
    existing_shifts: dict[int, Shift],
    existing_questions: dict[int, EventQuestion],
) -> dict[str, list[str]]:
    """What is wrong with the shifts and questions a host set for the event `clean` will be."""
    errors: dict[str, list[str]] = {}
    rows = (
        shifts if shifts is not None else list(map(ShiftData.from_shift, existing_shifts.values()))
    )
    if rows and clean.capacity is not None:
        errors["capacity"] = [
            "With shifts, each shift has its own capacity: leave the event's capacity empty."
        ]
    if shifts is not None and clean.starts_at is not None and clean.ends_at is not None:
        errors.update(
            shifts_check(
                shifts,
                starts_at=clean.starts_at,
                ends_at=clean.ends_at,
                zone=ZoneInfo(clean.timezone),
                existing=existing_shifts,
            )
        )
    if questions is not None:
        errors.update(questions_check(questions, existing=existing_questions))
    return errors


def event_create(
    *,
    data: EventData,
    host: Person | None,
    actor: Any = None,
    shifts: list[ShiftData] | None = None,
    questions: list[dict[str, Any]] | None = None,
    series: Series | None = None,
) -> Event:
    """Propose an event with `host` as its host, with its shifts and RSVP questions (see
    `shifts`). Raises ValidationError (keyed by field; a shift's or question's problems by
    "shifts-<row>" / "questions-<row>") or PermissionDenied.

    Without a host the event is the organisation's own (an API key that belongs to no person,
    an organizer without a supporter record): it has no host, lists the organisation (the
    brand's name) as its contact unless a contact is given, is live at once, and only
    organizers (or the organisation itself, actor None) may create one."""
    if host is None and actor is not None and not is_organizer(actor):
        raise PermissionDenied(
            "Your login isn't linked to a supporter record yet, so you can't host an event."
        )
    try:
        clean = event_data_clean(data)
    except ValidationError as exc:
        errors = _errors_of(exc)
        if questions is not None:  # shown with the event's own problems
            errors = {**questions_check(questions, existing={}), **errors}
        raise ValidationError(errors) from None
    errors = _extras_check(
        clean, shifts=shifts, questions=questions, existing_shifts={}, existing_questions={}
    )
    if errors:
        raise ValidationError(errors)
    if clean.group is not None:
        if not (
            is_organizer(actor)
            or (host is not None and event_groups().is_leader(host, clean.group))
        ):
            raise PermissionDenied("Only the group's leaders can create events for it.")
        if not clean.group.is_active:
            raise ValidationError({"group": ["The group isn't active yet."]})
    if host is None and not (clean.contact_name or clean.contact_email or clean.contact_phone):
        clean.contact_name = settings.RALLYPOINT_BRAND["name"][:200]
    values = {f.name: getattr(clean, f.name) for f in fields(EventData)}
    if host is None:
        approval = Approval.APPROVED
    else:
        approval = approval_for(actor=actor, campaign=clean.campaign, group=clean.group)
    with transaction.atomic():
        event = Event.objects.create(**values, approval=approval, series=series)
        if host is not None:
            EventHost.objects.create(event=event, person=host, role=HostRole.HOST)
        if shifts:
            shifts_write(event=event, rows=shifts, existing={})
        if questions:
            questions_write(event=event, rows=questions)
        log_action(
            "event.created",
            obj=event,
            actor=actor,
            data={
                "approval": event.approval,
                "host": str(host.uuid) if host else None,
                **({"shifts": len(shifts)} if shifts else {}),
                **({"questions": len(questions)} if questions else {}),
                **({"series": series.pk} if series is not None else {}),
            },
        )
        transaction.on_commit(lambda: schedule.event_schedule(event.pk))
    return event


class Scope(models.TextChoices):
    """Which events of a series an edit or a cancel applies to."""

    THIS = "this", "This event only"
    FOLLOWING = "following", "This and the following events"
    ALL = "all", "All upcoming events in the series"


def event_update(
    *,
    event: Event,
    data: EventData,
    actor: Any,
    shifts: list[ShiftData] | None = None,
    questions: list[dict[str, Any]] | None = None,
    scope: str = Scope.THIS,
) -> Event:
    """Edit an event, and its shifts and questions when given (None: left as they are, and
    shifts move with the event's start). Attendees are told when its time or place changes.
    `actor` None is the organisation itself (a read-write API key that belongs to no person),
    as in event_create. For an event in a series, `scope` "following" or "all" applies the
    same changes to those occurrences that haven't started (`series.series_update`)."""
    if actor is not None:
        require_manager(actor, event)
    if event.is_cancelled:
        raise ValidationError("This event was cancelled; it can't be edited.")
    if scope not in Scope.values:
        raise ValidationError("Choose which events of the series to change.")
    if scope != Scope.THIS and event.series_id is not None:
        from .series import series_update

        return series_update(
            event=event, data=data, actor=actor, shifts=shifts, questions=questions, scope=scope
        )
    return event_update_one(event=event, data=data, actor=actor, shifts=shifts, questions=questions)


def event_update_one(
    *,
    event: Event,
    data: EventData,
    actor: Any,
    shifts: list[ShiftData] | None = None,
    questions: list[dict[str, Any]] | None = None,
) -> Event:
    """`event_update` of one event (the caller checked who may)."""
    with transaction.atomic():
        event = Event.objects.select_for_update().get(pk=event.pk)
        existing_shifts = shifts_locked(event)
        existing_questions = {q.pk: q for q in event.questions.all()}
        try:
            clean = event_data_clean(data, event=event)
        except ValidationError as exc:
            errors = _errors_of(exc)
            if questions is not None:
                errors = {**questions_check(questions, existing=existing_questions), **errors}
            raise ValidationError(errors) from None
        if clean.group is not None and clean.group != event.group and not is_organizer(actor):
            raise PermissionDenied("Only organizers can move an event to another group.")
        if (
            shifts is None
            and existing_shifts
            and (clean.starts_at, clean.ends_at)
            != (
                event.starts_at,
                event.ends_at,
            )
        ):
            # Shifts move with the event (an edit that doesn't set them, such as the API's).
            zone = ZoneInfo(clean.timezone)
            assert clean.starts_at is not None  # event_data_clean
            by = wall(clean.starts_at, zone) - wall(event.starts_at, event.zone)
            shifts = shifts_moved(list(existing_shifts.values()), by=by, zone=zone)
        errors = _extras_check(
            clean,
            shifts=shifts,
            questions=questions,
            existing_shifts=existing_shifts,
            existing_questions=existing_questions,
        )
        if errors:
            raise ValidationError(errors)
        before = EventData.from_event(event)
        changed = [
            f.name for f in fields(EventData) if getattr(before, f.name) != getattr(clean, f.name)
        ]
        opened: list[int] = []
        shifts_moved_in_time = False
        if shifts is not None and _shift_rows_changed(shifts, existing_shifts):
            changed.append("shifts")
            opened, shifts_moved_in_time = shifts_write(
                event=event, rows=shifts, existing=existing_shifts
            )
        if questions is not None and _question_rows_changed(questions, existing_questions):
            questions_write(event=event, rows=questions)
            changed.append("questions")
        if not changed:
            return event
        for name in changed:
            if name not in ("shifts", "questions"):
                setattr(event, name, getattr(clean, name))
        moved = [name for name in changed if name in TIME_FIELDS + PLACE_FIELDS]
        if shifts_moved_in_time:
            moved.append("shifts")
        if moved:
            event.revision += 1
        event.save()
        log_action(
            "event.updated",
            obj=event,
            actor=actor,
            data={
                "changed": changed,
                "before": {k: str(getattr(before, k)) for k in changed if hasattr(before, k)},
            },
        )
        if "capacity" in changed or "waitlist_enabled" in changed or opened:
            from .waitlist import waitlist_promote

            waitlist_promote(event, shifts=opened)
        if moved:
            event_id, revision = event.pk, event.revision
            transaction.on_commit(lambda: notify.event_changed(event_id, revision, moved))
        if moved or "shifts" in changed:  # the reminders follow the event's and shifts' times
            event_id = event.pk
            transaction.on_commit(lambda: schedule.event_schedule(event_id))
    return event


def _shift_rows_changed(rows: list[ShiftData], existing: dict[int, Shift]) -> bool:
    if len(rows) != len(existing) or any(row.id is None for row in rows):
        return True
    return any(
        (row.starts_at, row.ends_at, row.capacity, row.waitlist_enabled)
        != (s.starts_at, s.ends_at, s.capacity, s.waitlist_enabled)
        for row in rows
        for s in [existing[row.id]]  # type: ignore[index]
    )


_QUESTION_FIELDS = ("label", "kind", "required", "help_text", "choices")


def _question_rows_changed(rows: list[dict[str, Any]], existing: dict[int, EventQuestion]) -> bool:
    ordered = sorted(existing.values(), key=lambda q: (q.position, q.pk))
    if [row.get("id") for row in rows] != [q.pk for q in ordered]:
        return True
    probe = EventQuestion()
    for row, question in zip(rows, ordered, strict=True):
        question_fill(probe, row, position=question.position)
        if any(getattr(probe, f) != getattr(question, f) for f in _QUESTION_FIELDS):
            return True
    return False


def event_cancel(*, event: Event, actor: Any, reason: str = "", scope: str = Scope.THIS) -> Event:
    """Cancel and tell everyone who was going or waiting. For an event in a series, `scope`
    "following" also cancels the later occurrences that haven't started."""
    require_manager(actor, event)
    if scope not in Scope.values:
        raise ValidationError("Choose which events of the series to cancel.")
    with transaction.atomic():
        targets = [event]
        if scope != Scope.THIS and event.series_id is not None:
            from .series import series_targets

            targets = series_targets(event, scope=scope)
        for target in targets:
            _cancel_one(target, actor=actor, reason=reason)
    event.refresh_from_db()
    return event


def _cancel_one(event: Event, *, actor: Any, reason: str) -> None:
    event = Event.objects.select_for_update().get(pk=event.pk)
    if event.is_cancelled:
        return
    event.status = EventStatus.CANCELLED
    event.cancelled_reason = (reason or "").strip()[:2000]
    event.save(update_fields=["status", "cancelled_reason", "modified_at"])
    log_action("event.cancelled", obj=event, actor=actor, data={"reason": reason})
    event_id = event.pk
    transaction.on_commit(lambda: notify.event_cancelled(event_id))


def event_duplicate(*, event: Event, actor: Any, starts_at: datetime, host: Person | None) -> Event:
    """A copy of `event` at a new start (same length, same shifts and questions at the same
    times of day relative to the start, no RSVPs), hosted by `host`."""
    require_manager(actor, event)
    data = EventData.from_event(event)
    data.ends_at = starts_at + (event.ends_at - event.starts_at)
    data.starts_at = starts_at
    if data.status not in (EventStatus.CONFIRMED, EventStatus.TENTATIVE):
        data.status = EventStatus.CONFIRMED
    by = wall(starts_at, event.zone) - wall(event.starts_at, event.zone)
    shifts = shifts_moved(list(event.shifts.all()), by=by, zone=event.zone)
    for row in shifts:
        row.id, row.series_key = None, None
    questions = [question_row(q) for q in event.questions.all()]
    copy = event_create(data=data, host=host, actor=actor, shifts=shifts, questions=questions)
    cohosts = event.hosts.exclude(person=host).values_list("person_id", flat=True)
    EventHost.objects.bulk_create(
        [EventHost(event=copy, person_id=pid, role=HostRole.COHOST) for pid in cohosts]
    )
    return copy


def question_row(question: EventQuestion, *, keep_id: bool = False) -> dict[str, Any]:
    """A question as a row for `questions_write` (a copy without its id, unless `keep_id`)."""
    return {
        "id": question.pk if keep_id else None,
        "label": question.label,
        "kind": question.kind,
        "required": question.required,
        "help_text": question.help_text,
        "choices": list(question.choices),
        "series_key": question.series_key,
    }


def event_approve(*, event: Event, actor: Any, approve: bool = True) -> Event:
    if not is_organizer(actor):
        raise PermissionDenied("Only organizers approve events.")
    with transaction.atomic():
        event = Event.objects.select_for_update().get(pk=event.pk)
        event.approval = Approval.APPROVED if approve else Approval.REJECTED
        event.save(update_fields=["approval", "modified_at"])
        log_action("event.approved" if approve else "event.rejected", obj=event, actor=actor)
        event_id = event.pk
        transaction.on_commit(lambda: notify.event_reviewed(event_id))
    return event


def event_cohost_add(*, event: Event, person: Person, actor: Any) -> EventHost:
    require_manager(actor, event)
    host, _ = EventHost.objects.get_or_create(
        event=event, person=person, defaults={"role": HostRole.COHOST}
    )
    return host


def event_settings_update(*, campaign: Any, require_approval: bool, actor: Any):
    if not is_organizer(actor):
        raise PermissionDenied("Only organizers change campaign settings.")
    prefs, _ = CampaignEventSettings.objects.update_or_create(
        campaign=campaign, defaults={"require_approval": require_approval}
    )
    log_action(
        "event.settings.updated",
        obj=campaign,
        actor=actor,
        data={"require_approval": require_approval},
    )
    return prefs


def active_rsvps(event: Event):
    return Rsvp.objects.filter(
        event=event, status__in=[RsvpStatus.ACCEPTED, RsvpStatus.WAITLISTED]
    ).select_related("person")
