"""Shared anonymous pages answered before the middleware stack: what is kept, for whom, how long."""

import time

import pytest

from rallypoint.mission.models import Campaign
from rallypoint.mission.queries import CAMPAIGN_PAGE
from tests.actions.factories import CampaignFactory

pytestmark = pytest.mark.django_db

URL = "/campaigns/schools/"


@pytest.fixture
def campaign():
    return CampaignFactory(slug="schools", name="Fund our schools")


@pytest.fixture
def clock(monkeypatch):
    now = [time.time()]
    monkeypatch.setattr(time, "time", lambda: now[0])
    return now


def rename(campaign, name):
    """Change the page's content behind the view's own cached render, so only a fresh render
    shows it."""
    Campaign.objects.filter(pk=campaign.pk).update(name=name)
    CAMPAIGN_PAGE.forget(campaign.slug)


def test_second_visitor_gets_the_same_page_and_headers_without_a_query(
    client, campaign, clock, django_assert_num_queries
):
    first = client.get(URL)
    rename(campaign, "Renamed")
    with django_assert_num_queries(0):
        again = client.get(URL)
    assert again.status_code == 200
    assert again.content == first.content
    assert "Fund our schools" in again.content.decode()
    for header in ("Content-Type", "Cache-Control", "X-Frame-Options", "Vary"):
        assert again[header] == first[header]


def test_copy_lasts_one_second(client, campaign, clock):
    client.get(URL)
    rename(campaign, "Renamed")
    clock[0] += 0.9
    assert "Fund our schools" in client.get(URL).content.decode()
    clock[0] += 0.2
    assert "Renamed" in client.get(URL).content.decode()


def test_share_link_visit_always_reaches_the_referral_middleware(client, campaign, clock):
    client.get(URL)
    rename(campaign, "Renamed")
    response = client.get(URL + "?ref=abcd2345&ch=x")
    assert "Renamed" in response.content.decode()
    assert "rp_ref" in response.cookies  # the share code is remembered


def test_visitor_with_a_session_is_never_served_the_copy(client, campaign, clock, organizer):
    client.get(URL)
    rename(campaign, "Renamed")
    client.force_login(organizer)
    assert "Renamed" in client.get(URL).content.decode()


def test_failed_responses_are_not_kept(client, clock):
    assert client.get("/campaigns/nowhere/").status_code == 404
    CampaignFactory(slug="nowhere")
    assert client.get("/campaigns/nowhere/").status_code == 200


def test_pages_not_marked_as_shared_are_not_kept(client, clock):
    client.get("/")
    CampaignFactory(slug="brand-new", name="Brand new campaign")
    assert "Brand new campaign" in client.get("/").content.decode()


def test_only_get_is_answered_from_the_copy(client, campaign, clock):
    client.get(URL)
    rename(campaign, "Renamed")
    assert client.head(URL).status_code == 200
    assert "Renamed" in client.post(URL).content.decode()


def test_the_copy_lives_in_the_cache_only(client, campaign, clock, settings):
    client.get(URL)
    Campaign.objects.filter(pk=campaign.pk).update(name="Renamed")
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "an-empty-cache",
        }
    }
    assert "Renamed" in client.get(URL).content.decode()
