import time

import pytest
from django.apps import apps
from django.core.cache import cache
from django.test import Client, RequestFactory
from django.urls import reverse

from rallypoint.ledger.dashboard import dashboard_token
from rallypoint.ledger.services import activity_record
from rallypoint.mission.hooks import ways_to_help
from rallypoint.mission.queries import PAGE_CACHE_SECONDS
from rallypoint.mission.services import campaign_update, goal_create
from rallypoint.people.referral import Referral
from tests.factories import PersonFactory, PostalAddressFactory
from tests.mission.factories import CampaignFactory, GoalFactory

pytestmark = pytest.mark.django_db


def fake_ways(campaign):
    return [
        {
            "title": f"Sign for {campaign.name}",
            "url": "/act/sign/",
            "kind": "sign",
            "blurb": "Add your name",
            "count": 12,
        }
    ]


def broken_ways(campaign):
    raise RuntimeError("tool is down")


@pytest.fixture
def one_tool(monkeypatch):
    """Only a test tool offers ways to help, whatever other apps are installed."""
    for config in apps.get_app_configs():
        if getattr(config, "ways_to_help", None):
            monkeypatch.setattr(config, "ways_to_help", None)
    monkeypatch.setattr(
        apps.get_app_config("mission"), "ways_to_help", f"{__name__}.fake_ways", raising=False
    )


def test_mission_page_shows_goal_progress_and_feed(client):
    campaign = CampaignFactory(slug="schools", name="Fund our schools")
    GoalFactory(campaign=campaign, kind="sign", target=10)
    ana = PersonFactory(given_name="Ana", family_name="Garcia")
    PostalAddressFactory(person=ana, locality="Denver")
    for _ in range(3):
        activity_record(person=PersonFactory(), kind="sign", campaign=campaign)
    activity_record(person=ana, kind="sign", campaign=campaign)
    response = client.get(reverse("mission:detail", args=["schools"]))
    assert response.status_code == 200
    goal = response.context["goals"][0]
    assert (goal.current, goal.target, goal.percent) == (4, 10, 40)
    assert response.context["feed"][0].sentence == "Ana G. from Denver signed the petition"
    html = response.content.decode()
    assert 'aria-valuenow="4"' in html
    assert "<strong>4</strong> of 10 signatures" in html


def test_mission_page_opengraph_tags_drop_ref_code(client):
    CampaignFactory(slug="schools", name="Fund our schools", summary="A nurse in every school")
    response = client.get("/campaigns/schools/?ref=abcd2345&ch=x")
    html = response.content.decode()
    assert '<meta property="og:title" content="Fund our schools">' in html
    assert '<meta property="og:description" content="A nurse in every school">' in html
    assert '<meta property="og:url" content="http://testserver/campaigns/schools/">' in html
    assert '<meta name="twitter:card" content="summary">' in html


def test_mission_page_opengraph_image_from_url(client):
    CampaignFactory(slug="schools", image_url="https://img.example/a.jpg")
    html = client.get("/campaigns/schools/").content.decode()
    assert '<meta property="og:image" content="https://img.example/a.jpg">' in html
    assert '<meta name="twitter:card" content="summary_large_image">' in html


def test_mission_page_query_count_same_for_one_and_three_goals(
    client, django_assert_num_queries, one_tool
):
    campaign = CampaignFactory(slug="schools")
    GoalFactory(campaign=campaign, kind="sign")
    person = PersonFactory()
    activity_record(person=person, kind="sign", campaign=campaign)
    # campaign, goals, progress, feed, leaderboard ranking, leaderboard names
    with django_assert_num_queries(6):
        response = client.get("/campaigns/schools/")
    assert len(response.context["goals"]) == 1
    GoalFactory(campaign=campaign, kind="join")
    GoalFactory(campaign=campaign, kind="sign", region="OH")
    activity_record(person=PersonFactory(), kind="join", campaign=campaign)
    cache.clear()
    with django_assert_num_queries(6):
        response = client.get("/campaigns/schools/")
    assert len(response.context["goals"]) == 3


def test_mission_page_anonymous_served_from_cache_without_queries(
    client, django_assert_num_queries, one_tool
):
    campaign = CampaignFactory(slug="schools")
    GoalFactory(campaign=campaign)
    first = client.get("/campaigns/schools/?ref=abcd2345&ch=x")
    with django_assert_num_queries(0):
        again = client.get("/campaigns/schools/?utm_source=news")
    assert again.content == first.content
    assert again["Cache-Control"] == "public, max-age=5"


def test_mission_page_shared_copy_never_carries_a_visitors_message(client, one_tool):
    from django.contrib.messages import constants
    from django.contrib.messages.storage.base import Message
    from django.contrib.messages.storage.cookie import CookieStorage

    CampaignFactory(slug="schools")
    storage = CookieStorage(RequestFactory().get("/"))
    client.cookies["messages"] = storage._encode([Message(constants.SUCCESS, "Secret for Ana")])
    assert b"Secret for Ana" not in client.get("/campaigns/schools/").content
    assert b"Secret for Ana" not in Client().get("/campaigns/schools/").content


def test_mission_page_personal_share_link_for_dashboard_visitor(client, one_tool):
    CampaignFactory(slug="schools")
    Client().get("/campaigns/schools/")  # an anonymous copy is cached
    ana = PersonFactory(share_code="anacode23")
    client.get(reverse("ledger:dashboard_link", args=[dashboard_token(ana)]))
    response = client.get("/campaigns/schools/")
    assert "/campaigns/schools/?ref=anacode23&amp;ch=direct" in response.content.decode()
    assert "public" not in response.get("Cache-Control", "")


def test_mission_page_lists_ways_to_help_from_tools(client, one_tool):
    CampaignFactory(slug="schools", name="Schools")
    response = client.get("/campaigns/schools/")
    assert response.context["ways"] == [
        {
            "title": "Sign for Schools",
            "url": "/act/sign/",
            "kind": "sign",
            "blurb": "Add your name",
            "count": 12,
        }
    ]
    assert b'<a href="/act/sign/">Sign for Schools</a>' in response.content


def test_ways_to_help_broken_tool_does_not_break_page(client, monkeypatch, one_tool):
    monkeypatch.setattr(
        apps.get_app_config("sharing"), "ways_to_help", f"{__name__}.broken_ways", raising=False
    )
    CampaignFactory(slug="schools", name="Schools")
    response = client.get("/campaigns/schools/")
    assert response.status_code == 200
    assert [way["title"] for way in response.context["ways"]] == ["Sign for Schools"]


def test_ways_to_help_broken_tool_raises_in_debug(settings, monkeypatch, one_tool):
    settings.DEBUG = True
    monkeypatch.setattr(
        apps.get_app_config("mission"), "ways_to_help", f"{__name__}.broken_ways", raising=False
    )
    with pytest.raises(RuntimeError):
        ways_to_help(CampaignFactory(), use_cache=False)


def test_draft_campaign_hidden_from_public_previewed_by_organizer(organizer_client):
    CampaignFactory(slug="soon", status="draft")
    assert Client().get("/campaigns/soon/").status_code == 404
    response = organizer_client.get("/campaigns/soon/")
    assert response.status_code == 200
    assert b"Draft preview" in response.content


def test_closed_campaign_still_opens_without_ways_to_help(client, one_tool):
    CampaignFactory(slug="done", status="closed")
    response = client.get("/campaigns/done/")
    assert response.status_code == 200
    assert b"This campaign has closed" in response.content
    assert b'id="ways"' not in response.content


def test_unknown_campaign_is_404(client):
    assert client.get("/campaigns/nope/").status_code == 404


def test_live_fragment_shows_goals(client):
    campaign = CampaignFactory(slug="schools")
    GoalFactory(campaign=campaign, kind="sign", target=4)
    activity_record(person=PersonFactory(), kind="sign", campaign=campaign)
    response = client.get("/campaigns/schools/live/")
    assert b"<strong>1</strong> of 4 signatures" in response.content
    assert b"<html" not in response.content


def test_leaderboard_page(client):
    campaign = CampaignFactory(slug="schools")
    ana = PersonFactory(given_name="Ana", family_name="Lopez")
    activity_record(person=ana, kind="sign", campaign=campaign)
    activity_record(
        person=PersonFactory(),
        kind="sign",
        campaign=campaign,
        referral=Referral(code=ana.share_code),
        person_created=True,
    )
    response = client.get("/campaigns/schools/leaderboard/")
    assert [(row.name, row.points) for row in response.context["board"]][0] == ("Ana L.", 6)


def test_home_lists_live_campaigns_with_progress(client, django_assert_num_queries):
    live = CampaignFactory(name="Live one")
    GoalFactory(campaign=live, kind="sign", target=10)
    CampaignFactory(name="Draft one", status="draft")
    with django_assert_num_queries(3):  # campaigns, goals, progress
        response = client.get("/")
    assert [card["campaign"].name for card in response.context["campaigns"]] == ["Live one"]
    for _ in range(2):
        GoalFactory(campaign=CampaignFactory(), kind="sign")
    cache.clear()
    with django_assert_num_queries(3):
        response = client.get("/")
    assert len(response.context["campaigns"]) == 3


def test_anonymous_page_shows_an_organizers_change_at_once(client, organizer, one_tool):
    campaign = CampaignFactory(slug="schools", name="Fund our schools")
    assert "Fund our schools" in client.get("/campaigns/schools/").content.decode()
    campaign_update(actor=organizer, campaign=campaign, name="A nurse in every school")
    assert "A nurse in every school" in client.get("/campaigns/schools/").content.decode()
    goal_create(actor=organizer, campaign=campaign, kind="sign", target=40)
    assert "of 40 signatures" in client.get("/campaigns/schools/live/").content.decode()


def test_anonymous_page_follows_a_new_address_at_once(client, organizer, one_tool):
    campaign = CampaignFactory(slug="schools")
    client.get("/campaigns/schools/")
    campaign_update(actor=organizer, campaign=campaign, slug="nurses")
    assert client.get("/campaigns/schools/").status_code == 404
    assert client.get("/campaigns/nurses/").status_code == 200


def test_acts_show_on_the_anonymous_page_within_a_few_seconds(client, monkeypatch):
    now = [time.time()]
    monkeypatch.setattr(time, "time", lambda: now[0])
    campaign = CampaignFactory(slug="schools")
    GoalFactory(campaign=campaign, kind="sign", target=10)
    assert b"<strong>0</strong> of 10" in client.get("/campaigns/schools/live/").content
    activity_record(person=PersonFactory(), kind="sign", campaign=campaign)
    assert b"<strong>0</strong> of 10" in client.get("/campaigns/schools/live/").content
    now[0] += PAGE_CACHE_SECONDS + 0.1
    assert b"<strong>1</strong> of 10" in client.get("/campaigns/schools/live/").content
