"""Events and attendances (RSVPs) in OSDI's shape, and OSDI event documents read into the
events service's EventData."""

from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.conf import settings
from django.urls import reverse
from django.utils.dateparse import parse_date, parse_datetime

from rallypoint.events.models import (
    Event,
    EventQuestion,
    EventStatus,
    LocationMode,
    Rsvp,
    RsvpStatus,
    Shift,
    Visibility,
)
from rallypoint.events.services import EventData

from .. import odata
from ..errors import BadRequest
from ..hal import Links, dates, identifiers, osdi_date
from ..payload import (
    get_bool,
    get_dict,
    get_dicts,
    get_float,
    get_int,
    get_list,
    get_str,
    get_str_list,
)

DEFAULT_LENGTH = timedelta(hours=2)  # when a client sends no end_date
# Our three levels of visibility; OSDI knows public and private.
VISIBILITY_OUT = {
    Visibility.PUBLIC: "public",
    Visibility.UNLISTED: "private",
    Visibility.PRIVATE: "private",
}
ATTENDANCE_STATUS = {
    RsvpStatus.ACCEPTED: "accepted",
    RsvpStatus.WAITLISTED: "needs action",
    RsvpStatus.CANCELLED: "cancelled",
}


def browser_url(event: Event) -> str:
    return f"{settings.SITE_URL}{reverse('events:detail', args=[event.uuid])}"


def shift_repr(shift: Shift) -> dict[str, Any]:
    return {
        "id": shift.pk,
        "start_date": osdi_date(shift.starts_at),
        "end_date": osdi_date(shift.ends_at),
        "capacity": shift.capacity,
        "total_accepted": shift.seats_taken,
        "waitlist": shift.waitlist_enabled,
    }


def question_repr(question: EventQuestion) -> dict[str, Any]:
    return {
        "id": question.pk,
        "label": question.label,
        "kind": question.kind,
        "required": question.required,
        "choices": list(question.choices),
    }


def event_repr(
    event: Event, links: Links, *, created: bool = False, detail: bool = False
) -> dict[str, Any]:
    """`event` should carry `total_accepted` (api_events annotates it). `detail` (one event
    read, created or changed) adds its shifts and questions, which lists leave out."""
    location: dict[str, Any] = {}
    if event.is_in_person:
        location = {
            "venue": event.venue,
            "address_lines": [event.address_line] if event.address_line else [],
            "locality": event.locality,
            "region": event.region,
            "postal_code": event.postal_code,
            "country": event.country,
        }
        if event.latitude is not None and event.longitude is not None:
            location["location"] = {"latitude": event.latitude, "longitude": event.longitude}
    body: dict[str, Any] = {
        "identifiers": identifiers(event.uuid),
        **dates(event, created=created),
        "title": event.title,
        "name": event.title,
        "description": event.description,
        "instructions": event.instructions,
        "browser_url": browser_url(event),
        "status": event.status,
        "visibility": VISIBILITY_OUT.get(event.visibility, "public"),
        "start_date": osdi_date(event.starts_at),
        "end_date": osdi_date(event.ends_at),
        "timezone_identifier": event.timezone,
        "capacity": event.capacity,
        "total_accepted": getattr(event, "total_accepted", 0),
        "type": event.event_type,
        "contact": {
            "name": event.contact_name,
            "email_address": event.contact_email,
            "phone_number": event.contact_phone,
        },
        "reminders": [{"method": "email", "minutes": m} for m in event.offsets],
        "rallypoint:visibility": event.visibility,
        "rallypoint:location_mode": event.location_mode,
        "_links": {
            "self": links.link("events", event.uuid),
            "osdi:attendances": links.link("events", event.uuid, "attendances"),
            "osdi:record_attendance_helper": links.link("events", event.uuid, "attendances"),
        },
    }
    if detail:  # the shifts to pick and questions to answer in the record attendance helper
        body["rallypoint:shifts"] = [shift_repr(s) for s in event.shifts.all()]
        body["rallypoint:questions"] = [question_repr(q) for q in event.questions.all()]
    if location:
        body["location"] = location
    if event.join_link:
        body["join_url"] = event.join_link
    return body


def attendance_repr(
    rsvp: Rsvp, links: Links, *, created: bool = False, detail: bool = False
) -> dict[str, Any]:
    """`rsvp` should have its event and person loaded. `detail` (one attendance read or
    recorded) adds its places in shifts, which lists leave out."""
    referrer_data = {}
    if rsvp.referral_code:
        referrer_data["referrer"] = rsvp.referral_code
    if rsvp.referral_channel:
        referrer_data["source"] = rsvp.referral_channel
    body: dict[str, Any] = {
        "identifiers": identifiers(rsvp.uuid),
        **dates(rsvp, created=created),
        "status": ATTENDANCE_STATUS.get(rsvp.status, rsvp.status),
        "attended": rsvp.attended,
        "comment": rsvp.comment,
        "rallypoint:guests": rsvp.guests,
        "rallypoint:waitlisted": rsvp.status == RsvpStatus.WAITLISTED,
        "rallypoint:answers": rsvp.answers,
        "referrer_data": referrer_data,
        "_links": {
            "self": links.link("events", rsvp.event.uuid, "attendances", rsvp.uuid),
            "osdi:event": links.link("events", rsvp.event.uuid),
            "osdi:person": links.link("people", rsvp.person.uuid),
        },
    }
    if detail:
        body["rallypoint:shifts"] = [
            {"id": s.shift_id, "status": ATTENDANCE_STATUS[RsvpStatus(s.status)]}
            for s in rsvp.shift_signups.exclude(status=RsvpStatus.CANCELLED).order_by("shift_id")
        ]
    return body


def shifts_from(document: dict[str, Any]) -> list[int] | None:
    """The shift ids of a record attendance helper ("rallypoint:shifts"), None when absent."""
    values = get_list(document, "rallypoint:shifts", max_items=50)
    if values is None:
        return None
    ids = []
    for index, value in enumerate(values):
        if isinstance(value, bool) or not isinstance(value, int):
            raise BadRequest(
                f"rallypoint:shifts[{index}] must be a shift's id (a number).",
                field=f"rallypoint:shifts[{index}]",
            )
        ids.append(value)
    return ids


def answers_from(document: dict[str, Any]) -> dict[str, Any] | None:
    """The answers to the event's questions ("rallypoint:answers": {"<question id>": value}),
    None when absent; the events service checks each."""
    return get_dict(document, "rallypoint:answers")


EVENT_FILTERS = {
    f.name: f
    for f in [
        odata.date_field("created_date", "created_at"),
        odata.date_field("modified_date", "modified_at"),
        odata.date_field("start_date", "starts_at"),
        odata.string_field("title", "title"),
        odata.string_field("status", "status"),
        odata.string_field("postal_code", "postal_code"),
        odata.string_field("region", "region"),
    ]
}

ATTENDANCE_FILTERS = {
    f.name: f
    for f in [
        odata.date_field("created_date", "created_at"),
        odata.date_field("modified_date", "modified_at"),
    ]
}

# EventData's names → the OSDI field a client should fix.
EVENT_FIELD_NAMES = {
    "starts_at": "start_date",
    "ends_at": "end_date",
    "timezone": "timezone_identifier",
    "postal_code": "location.postal_code",
    "latitude": "location.location",
    "location_mode": "location",
    "contact_email": "contact.email_address",
    "reminder_minutes": "reminders",
    "event_type": "type",
}


def _zone(name: str) -> ZoneInfo | None:
    try:
        return ZoneInfo(name) if name else None
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a name too long for a file
        raise BadRequest(f"Unknown time zone {name!r}.", field="timezone_identifier")


def _moment(document: dict[str, Any], name: str, zone: ZoneInfo) -> datetime | None:
    """An ISO 8601 time; one without an offset is read in the event's own time zone."""
    text = get_str(document, name, max_length=40)
    if not text:
        return None
    try:
        moment = parse_datetime(text.replace("Z", "+00:00").replace(" ", "T", 1))
        if moment is None and parse_date(text):
            moment = datetime.combine(parse_date(text), datetime.min.time())
    except ValueError:
        moment = None
    if moment is None:
        raise BadRequest(f"{name} must be a date and time like 2026-05-01T18:00:00Z.", field=name)
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def event_data_from_osdi(document: dict[str, Any], *, base: EventData | None = None) -> EventData:
    """Read an OSDI event. With `base` (PUT), fields not sent keep their values."""
    data = replace(base) if base is not None else EventData()
    for name, field, limit in (
        ("title", "title", 200),
        ("description", "description", 20000),
        ("instructions", "instructions", 5000),
    ):
        value = get_str(document, name, max_length=limit)
        if value is not None:
            setattr(data, field, value)
    if base is None and not data.title:
        data.title = get_str(document, "name", max_length=200) or ""
    if "capacity" in document:
        data.capacity = get_int(document, "capacity", minimum=1)
    visibility = get_str(document, "visibility")
    if visibility is not None:
        if visibility not in Visibility.values:
            raise BadRequest("visibility must be public, unlisted or private.", field="visibility")
        data.visibility = visibility
    status = get_str(document, "status")
    if status is not None:
        if status not in (EventStatus.CONFIRMED, EventStatus.TENTATIVE):
            raise BadRequest(
                "status must be confirmed or tentative (cancel an event from its page).",
                field="status",
            )
        data.status = status
    event_type = get_str(document, "type")
    if event_type is not None:
        data.event_type = event_type
    join_url = get_str(document, "join_url", max_length=500)
    if join_url is not None:
        data.join_url = join_url

    location = get_dict(document, "location")
    if location is not None:
        lines = get_str_list(location, "address_lines", path="location.address_lines")
        data.address_line = ", ".join(lines)[:200]
        for name, limit in (("venue", 200), ("locality", 100), ("region", 100)):
            value = get_str(location, name, path=f"location.{name}", max_length=limit)
            setattr(data, name, value or "")
        data.postal_code = (
            get_str(location, "postal_code", path="location.postal_code", max_length=20) or ""
        )
        country = get_str(location, "country", path="location.country", max_length=2)
        data.country = (country or "US").upper()
        point = get_dict(location, "location", path="location.location") or {}
        data.latitude = get_float(point, "latitude", path="location.location.latitude")
        data.longitude = get_float(point, "longitude", path="location.location.longitude")
    has_place = bool(data.postal_code or data.venue or data.address_line)
    if location is not None or join_url is not None or base is None:
        if has_place and data.join_url:
            data.location_mode = LocationMode.HYBRID
        elif has_place or not data.join_url:
            data.location_mode = LocationMode.IN_PERSON
        else:
            data.location_mode = LocationMode.VIRTUAL

    contact = get_dict(document, "contact")
    if contact is not None:
        data.contact_name = get_str(contact, "name", path="contact.name", max_length=200) or ""
        data.contact_email = (
            get_str(contact, "email_address", path="contact.email_address", max_length=254) or ""
        )
        data.contact_phone = (
            get_str(contact, "phone_number", path="contact.phone_number", max_length=30) or ""
        )
    if "reminders" in document:
        minutes = []
        for index, reminder in enumerate(get_dicts(document, "reminders")):
            value = get_int(reminder, "minutes", path=f"reminders[{index}].minutes", minimum=0)
            if value is not None:
                minutes.append(value)
        data.reminder_minutes = minutes

    zone_name = get_str(document, "timezone_identifier") or get_str(document, "timezone")
    if zone_name:
        data.timezone = zone_name
    zone = _zone(data.timezone) or _zone(_zone_from_place(data)) or ZoneInfo(settings.TIME_ZONE)
    start = _moment(document, "start_date", zone)
    end = _moment(document, "end_date", zone)
    if start is not None:
        data.starts_at = start
        if end is None and (base is None or base.ends_at is None or base.ends_at <= start):
            end = start + DEFAULT_LENGTH
    if end is not None:
        data.ends_at = end
    return data


def _zone_from_place(data: EventData) -> str:
    """The zone the events tool would give this place (it reads it from the postal code)."""
    from rallypoint.events.services import events as event_services

    return event_services._zone_for(data)


def guests_from(document: dict[str, Any]) -> int:
    value = get_int(document, "rallypoint:guests", minimum=0)
    if value is None:
        value = get_int(document, "guests", minimum=0)
    return value or 0


def attended_from(document: dict[str, Any]) -> bool:
    return bool(get_bool(document, "attended"))
