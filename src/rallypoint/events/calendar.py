"""iCalendar output: one event as .ics, and subscribable feeds for groups and campaigns."""

from collections.abc import Iterable
from datetime import UTC, date, datetime
from functools import lru_cache
from urllib.parse import urlencode, urlsplit

import icalendar
from django.conf import settings
from django.urls import reverse

from rallypoint.core.richtext import html_text

from .models import Event, EventStatus, Shift
from .when import shift_text

ICS_STATUS = {
    EventStatus.CONFIRMED: "CONFIRMED",
    EventStatus.TENTATIVE: "TENTATIVE",
    EventStatus.CANCELLED: "CANCELLED",
}


def event_url(event: Event) -> str:
    return settings.SITE_URL + reverse("events:detail", args=[event.uuid])


def event_vevent(
    event: Event, *, with_join_url: bool = False, shift: Shift | None = None
) -> icalendar.Event:
    """The event as a calendar entry; with `shift`, that shift of it (its own time and UID)."""
    vevent = icalendar.Event()
    host = urlsplit(settings.SITE_URL).hostname or "rallypoint"
    if shift is None:
        vevent.add("uid", f"{event.uuid}@{host}")
        vevent.add("dtstart", event.local_start)
        vevent.add("dtend", event.local_end)
    else:
        vevent.add("uid", f"{event.uuid}-shift-{shift.pk}@{host}")
        vevent.add("dtstart", shift.starts_at.astimezone(event.zone))
        vevent.add("dtend", shift.ends_at.astimezone(event.zone))
    vevent.add("dtstamp", datetime.now(UTC))
    vevent.add("summary", event.title)
    vevent.add("sequence", event.revision)
    vevent.add("status", ICS_STATUS.get(event.status, "CONFIRMED"))
    vevent.add("url", event_url(event))
    lines = [f"Your shift: {shift_text(shift, event.zone)}"] if shift is not None else []
    description = html_text(event.description)  # sanitised HTML, as plain text
    if description:
        lines.append(description)
    join_link = event.join_link if with_join_url else ""
    if join_link:
        lines.append(f"Join online: {join_link}")
    lines.append(f"Details and RSVP: {event_url(event)}")
    vevent.add("description", "\n\n".join(lines))
    location = _location(event, with_join_url=with_join_url)
    if location:
        vevent.add("location", location)
    if event.latitude is not None and event.longitude is not None and event.is_in_person:
        vevent.add("geo", (event.latitude, event.longitude))
    if event.contact_email:
        organizer = icalendar.vCalAddress(f"mailto:{event.contact_email}")
        if event.contact_name:
            organizer.params["cn"] = icalendar.vText(event.contact_name)
        vevent.add("organizer", organizer)
    return vevent


def _location(event: Event, *, with_join_url: bool) -> str:
    """Where, for a calendar. The exact address and the join link only for people going (and
    hosts): the page itself shows them only after an RSVP."""
    location = ""
    if event.is_in_person:
        parts = [event.venue, event.address_line if with_join_url else ""]
        parts += [event.locality, event.region, event.postal_code]
        location = ", ".join(p for p in parts if p)
    join_link = event.join_link if with_join_url else ""
    if join_link and event.is_virtual:
        location = f"{location} / {join_link}" if location else join_link
    return location


def _utc(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")


def google_calendar_url(event: Event, *, with_join_url: bool = False) -> str:
    """ "Add to Google Calendar": Google's documented event-template link."""
    query = {
        "action": "TEMPLATE",
        "text": event.title,
        "dates": f"{_utc(event.starts_at)}/{_utc(event.ends_at)}",
        "details": f"Details and RSVP: {event_url(event)}",
        "location": _location(event, with_join_url=with_join_url),
        "ctz": event.timezone,
    }
    return "https://calendar.google.com/calendar/render?" + urlencode(query)


def outlook_calendar_url(event: Event, *, with_join_url: bool = False) -> str:
    """ "Add to Outlook": Outlook on the web's compose deeplink (personal accounts)."""
    query = {
        "path": "/calendar/action/compose",
        "rru": "addevent",
        "subject": event.title,
        "startdt": event.starts_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "enddt": event.ends_at.astimezone(UTC).isoformat().replace("+00:00", "Z"),
        "body": f"Details and RSVP: {event_url(event)}",
        "location": _location(event, with_join_url=with_join_url),
    }
    return "https://outlook.live.com/calendar/0/deeplink/compose?" + urlencode(query)


def calendar_bytes(
    events: Iterable[Event],
    *,
    name: str,
    with_join_url: bool = False,
    shifts: list[Shift] | None = None,
) -> bytes:
    """A calendar of `events`; with `shifts` (of one event: someone's shifts), an entry for
    each shift instead of the event's own."""
    cal = icalendar.Calendar()
    cal.add("prodid", "-//Rallypoint//Events//EN")
    cal.add("version", "2.0")
    cal.add("calscale", "GREGORIAN")
    cal.add("method", "PUBLISH")
    cal.add("x-wr-calname", name)
    events = list(events)
    for tzid in sorted({event.timezone for event in events}):
        years = [e.starts_at.year for e in events if e.timezone == tzid]
        try:
            cal.add_component(vtimezone(tzid, min(years) - 1, max(years) + 1))
        except ValueError:
            continue  # an unknown zone: DTSTART keeps its TZID, calendars fall back to UTC
    for event in events:
        if shifts:
            for shift in shifts:
                cal.add_component(event_vevent(event, with_join_url=with_join_url, shift=shift))
        else:
            cal.add_component(event_vevent(event, with_join_url=with_join_url))
    return cal.to_ical()


@lru_cache(maxsize=512)
def _vtimezone_ical(tzid: str, first_year: int, last_year: int) -> bytes:
    zone = icalendar.Timezone.from_tzid(
        tzid, first_date=date(first_year, 1, 1), last_date=date(last_year, 12, 31)
    )
    return zone.to_ical()


def vtimezone(tzid: str, first_year: int, last_year: int) -> icalendar.Timezone:
    """The VTIMEZONE for `tzid` over those years. Building one walks the zone's transitions,
    which costs more than the rest of an RSVP email, so the result is kept per process."""
    return icalendar.Timezone.from_ical(_vtimezone_ical(tzid, first_year, last_year))


def ics_attachment(event: Event, *, shifts: list[Shift] | None = None) -> dict[str, str]:
    """The calendar file of an RSVP's emails: the event, or the shifts the person is in."""
    content = calendar_bytes([event], name=event.title, with_join_url=True, shifts=shifts).decode()
    return {"filename": "event.ics", "content": content, "mimetype": "text/calendar"}
