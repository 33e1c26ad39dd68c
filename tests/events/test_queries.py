from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from rallypoint.core.geo import lookup_postal_code
from rallypoint.events.queries import EventSearch, event_search, ways_to_help
from rallypoint.events.templatetags.events_tags import event_when, when_text
from rallypoint.mission.models import Campaign
from tests.events.factories import EventFactory

pytestmark = pytest.mark.django_db


def at_zip(code, **kwargs):
    place = lookup_postal_code(code)
    return EventFactory(
        title=f"{place.locality} {code}",
        postal_code=code,
        locality=place.locality,
        region=place.region,
        latitude=place.latitude,
        longitude=place.longitude,
        **kwargs,
    )


def titles(search):
    qs, _ = event_search(search)
    return [e.title for e in qs]


def test_event_search_radius_with_real_postal_codes_nearest_first():
    for code in ["80302", "80903", "80012", "10001", "80401"]:
        at_zip(code)
    found = titles(EventSearch(postal_code="80202", radius=25, unit="mi", mode="in_person"))
    assert found == ["Aurora 80012", "Golden 80401", "Boulder 80302"]


def test_event_search_radius_in_km():
    for code in ["80302", "80012", "80401"]:
        at_zip(code)
    found = titles(EventSearch(postal_code="80202", radius=16, unit="km", mode="in_person"))
    assert found == ["Aurora 80012"]


def test_event_search_annotates_distance():
    at_zip("80012")
    qs, place = event_search(EventSearch(postal_code="80202", radius=25))
    assert place.locality == "Denver"
    assert round(qs[0].distance_km / 1.609344, 1) == 8.9


def test_event_search_all_includes_online_events_after_nearby():
    at_zip("80012")
    at_zip("10001")
    EventFactory(title="Online training", location_mode="virtual", latitude=None, longitude=None)
    found = titles(EventSearch(postal_code="80202", radius=25))
    assert found == ["Aurora 80012", "Online training"]


def test_event_search_virtual_only():
    at_zip("80012")
    EventFactory(title="Online training", location_mode="virtual", latitude=None, longitude=None)
    assert titles(EventSearch(postal_code="80202", mode="virtual")) == ["Online training"]


def test_event_search_hides_private_unlisted_pending_cancelled_and_past():
    at_zip("80012", visibility="unlisted")
    at_zip("80012", visibility="private")
    at_zip("80012", approval="pending")
    at_zip("80012", status="cancelled")
    at_zip(
        "80012",
        starts_at=timezone.now() - timedelta(hours=3),
        ends_at=timezone.now() - timedelta(hours=1),
    )
    assert titles(EventSearch(postal_code="80202")) == []


def test_event_search_date_range_type_and_campaign():
    campaign = Campaign.objects.create(name="Win", slug="win", status="live")
    zone = ZoneInfo("America/Denver")
    day = (timezone.now() + timedelta(days=10)).astimezone(zone).date()
    start = datetime.combine(day, datetime.min.time(), zone).replace(hour=18)
    at_zip("80012", starts_at=start, ends_at=start + timedelta(hours=2), event_type="canvass")
    at_zip("80012", starts_at=start, ends_at=start + timedelta(hours=2), campaign=campaign)
    later = start + timedelta(days=5)
    at_zip("80012", starts_at=later, ends_at=later + timedelta(hours=1), event_type="canvass")
    search = EventSearch(postal_code="80202", date_from=day, date_to=day, event_type="canvass")
    assert len(titles(search)) == 1
    qs, _ = event_search(EventSearch(postal_code="80202", campaign=campaign))
    assert [e.campaign_id for e in qs] == [campaign.pk]


def test_event_search_sort_by_date():
    soon = at_zip("80302", starts_at=timezone.now() + timedelta(days=1))
    soon.ends_at = soon.starts_at + timedelta(hours=1)
    soon.save()
    at_zip("80012")
    found = titles(EventSearch(postal_code="80202", sort="date"))
    assert found == ["Boulder 80302", "Aurora 80012"]


def test_event_when_shows_event_zone_and_iso_instant():
    start = datetime(2031, 3, 7, 1, 0, tzinfo=ZoneInfo("UTC"))
    event = EventFactory.build(
        starts_at=start, ends_at=start + timedelta(hours=2), timezone="America/Denver"
    )
    assert when_text(event) == "Thu, Mar 6, 2031, 6 PM – 8 PM MST"
    assert event_when(event) == (
        '<time datetime="2031-03-07T01:00:00+00:00" data-localtime data-zone="America/Denver">'
        "Thu, Mar 6, 2031, 6 PM – 8 PM MST</time>"
    )


def test_event_when_overnight_and_daylight_time():
    start = datetime(2031, 7, 4, 23, 30, tzinfo=ZoneInfo("America/New_York"))
    event = EventFactory.build(
        starts_at=start, ends_at=start + timedelta(hours=2), timezone="America/New_York"
    )
    assert when_text(event) == "Fri, Jul 4, 2031, 11:30 PM – Sat, Jul 5, 1:30 AM EDT"


def test_ways_to_help_counts_upcoming_campaign_events():
    campaign = Campaign.objects.create(name="Win", slug="win", status="live")
    EventFactory(campaign=campaign)
    EventFactory()
    ways = ways_to_help(campaign)
    assert [(w["title"], w["kind"], w["count"]) for w in ways] == [
        ("Go to an event near you", "rsvp", 1),
        ("Host an event", "host", None),
    ]
    assert ways[0]["url"] == "/events/?campaign=win"


def test_event_search_unknown_postal_code_returns_no_place():
    at_zip("80012")
    qs, place = event_search(EventSearch(postal_code="00000"))
    assert place is None
    assert qs.count() == 1
