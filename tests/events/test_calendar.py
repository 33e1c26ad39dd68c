from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
import pytest

from rallypoint.events.calendar import calendar_bytes
from tests.events.factories import EventFactory

pytestmark = pytest.mark.django_db


def parse(body: bytes):
    cal = icalendar.Calendar.from_ical(body)
    return cal, list(cal.walk("VEVENT"))


def test_event_ics_parses_back_with_zone_and_details():
    start = datetime(2031, 3, 6, 18, 0, tzinfo=ZoneInfo("America/Denver"))
    event = EventFactory(
        title="Phone bank",
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        description="Bring a charged phone.",
        join_url="https://meet.example.org/abc",
        location_mode="hybrid",
        contact_email="host@example.org",
    )
    cal, events = parse(calendar_bytes([event], name="Phone bank", with_join_url=True))
    assert cal["X-WR-CALNAME"] == "Phone bank"
    assert len(events) == 1
    vevent = events[0]
    assert str(vevent["SUMMARY"]) == "Phone bank"
    assert vevent.decoded("DTSTART") == start
    assert vevent.decoded("DTSTART").tzinfo.key == "America/Denver"
    assert vevent["DTSTART"].params["TZID"] == "America/Denver"
    assert vevent.decoded("DTEND") == start + timedelta(hours=2)
    assert str(vevent["UID"]) == f"{event.uuid}@127.0.0.1"
    assert str(vevent["STATUS"]) == "CONFIRMED"
    assert "https://meet.example.org/abc" in str(vevent["DESCRIPTION"])
    assert str(vevent["LOCATION"]) == (
        "Community hall, 1 Main St, Denver, CO, 80202 / https://meet.example.org/abc"
    )
    assert [tz["TZID"] for tz in cal.walk("VTIMEZONE")] == ["America/Denver"]


def test_event_ics_hides_join_url_from_people_without_rsvp():
    event = EventFactory(join_url="https://meet.example.org/secret", location_mode="virtual")
    body = calendar_bytes([event], name="x", with_join_url=False)
    assert b"secret" not in body


def test_feed_has_one_vevent_per_event_with_sequence():
    events = [EventFactory(revision=2), EventFactory(status="cancelled")]
    _, vevents = parse(calendar_bytes(events, name="Feed"))
    assert [int(v["SEQUENCE"]) for v in vevents] == [2, 0]
    assert [str(v["STATUS"]) for v in vevents] == ["CONFIRMED", "CANCELLED"]


def test_event_ics_keeps_the_exact_address_for_people_going():
    event = EventFactory(address_line="12 Elm St", venue="Maria's backyard")
    public = calendar_bytes([event], name="x", with_join_url=False)
    assert b"12 Elm St" not in public
    assert b"Maria's backyard" in public or b"Maria\\'s backyard" in public
    assert b"12 Elm St" in calendar_bytes([event], name="x", with_join_url=True)


def test_google_and_outlook_links_carry_the_event_in_utc():
    from urllib.parse import parse_qs, urlsplit

    from rallypoint.events.calendar import google_calendar_url, outlook_calendar_url

    start = datetime(2031, 3, 6, 18, 0, tzinfo=ZoneInfo("America/Denver"))
    event = EventFactory(
        title="Phone bank",
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        address_line="1 Elm",
    )
    google = urlsplit(google_calendar_url(event))
    query = parse_qs(google.query)
    assert google.netloc == "calendar.google.com"
    assert query["text"] == ["Phone bank"]
    assert query["dates"] == ["20310307T010000Z/20310307T030000Z"]
    assert "1 Elm" not in query["location"][0]
    assert str(event.uuid) in query["details"][0]
    outlook = parse_qs(urlsplit(outlook_calendar_url(event, with_join_url=True)).query)
    assert (outlook["startdt"], outlook["enddt"]) == (
        ["2031-03-07T01:00:00Z"],
        ["2031-03-07T03:00:00Z"],
    )
    assert "1 Elm" in outlook["location"][0]
