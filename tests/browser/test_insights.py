"""The insights pages in Chromium at a phone's and a desktop's width: the charts draw, the
largest cascade's tree zooms, the person page shows a tree. Screenshots go to /tmp/shots/
(when it exists)."""

import random
import urllib.request
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from rallypoint.ledger.services import activity_record
from tests.events.factories import person_with_email
from tests.factories import OrganizerFactory, PersonFactory
from tests.mission.factories import CampaignFactory, GoalFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/shots")
WIDTHS = {"phone": 390, "desktop": 1280}
CHANNELS = ["x", "email", "whatsapp", "facebook", "sms"]


def shot(page, name: str) -> None:
    if SHOTS.is_dir():
        page.screenshot(path=str(SHOTS / f"insights-{name}.png"), full_page=True)


def _session_cookie(context, live_server, user):
    """Log in through the login page, as a person would (the session is made by the server)."""
    page = context.new_page()
    page.goto(live_server.url + "/accounts/login/")
    page.locator("#id_username").fill(user.email)
    page.locator("#id_password").fill("correct horse battery")
    page.locator("#id_password").press("Enter")
    page.wait_for_load_state()
    page.close()


def signed_in(new_context, live_server, user, width):
    context = new_context(viewport={"width": width, "height": 900})
    _session_cookie(context, live_server, user)
    page = context.new_page()
    page.set_default_timeout(20_000)
    return page


def goto_signed_in(page, live_server, user, url):
    """Sessions may live in the shared cache (Redis), which tests running beside this one clear:
    a page that asks to log in gets a fresh session and is opened again."""
    page.goto(url)
    if "/accounts/login/" in page.url:
        _session_cookie(page.context, live_server, user)
        page.goto(url)


def grow_campaign():
    """Three weeks of a campaign: a few roots, cascades through several channels."""
    rng = random.Random(16)
    campaign = CampaignFactory(slug="schools", name="Fund our schools")
    start = timezone.now() - timedelta(days=20)
    GoalFactory(
        campaign=campaign, kind="sign", target=150, deadline=timezone.now() + timedelta(days=9)
    )
    people = []
    for n in range(6):
        person = PersonFactory(given_name=f"Root{n}", family_name="Lee")
        activity_record(
            person=person, kind="sign", campaign=campaign, at=start + timedelta(hours=n)
        )
        people.append(person)
    for n in range(90):
        recruiter = people[min(int(rng.paretovariate(1.2)) - 1, len(people) - 1)]
        if rng.random() < 0.5:
            recruiter = rng.choice(people)
        person = PersonFactory(given_name=f"P{n}", family_name="Ng")
        at = start + timedelta(hours=5 + n * 5)
        activity_record(
            person=person,
            kind=rng.choice(["sign", "sign", "rsvp", "join"]),
            campaign=campaign,
            referrer=recruiter,
            channel=rng.choice(CHANNELS),
            person_created=True,
            at=at,
        )
        people.append(person)
    return campaign, people


def test_insights_pages_draw_their_charts_on_phone_and_desktop(new_context, live_server):
    organizer = OrganizerFactory(person=person_with_email("lead@example.org", given_name="Lee"))
    campaign, people = grow_campaign()
    urllib.request.urlopen(live_server.url + "/insights/", timeout=90).read()  # warm the server
    for label, width in WIDTHS.items():
        page = signed_in(new_context, live_server, organizer, width)
        for path, name in [
            ("/insights/", "overview"),
            ("/insights/channels/", "channels"),
            ("/insights/cascades/", "cascades"),
        ]:
            goto_signed_in(page, live_server, organizer, f"{path}?campaign=schools")
            charts = page.locator("svg[data-chart]")
            assert charts.count() >= 2
            for i in range(charts.count()):
                chart = charts.nth(i)
                box = chart.bounding_box()
                assert box is not None and box["width"] > 200 and box["height"] > 100
                # Every chart drew its axes and at least one line, bar or marker.
                assert chart.locator("g.axes line").count() >= 2
                drawn = chart.locator("polyline, rect, g.series path").count()
                assert drawn > 0, f"{name}: chart {i} drew nothing"
                # Wider than the phone? Never: the chart fits its column.
                assert box["x"] + box["width"] <= width + 1
            assert page.locator("details summary", has_text="The numbers as a table").count() >= 2
            shot(page, f"{name}-{label}")
        # The largest cascade's tree zooms in with the button.
        goto_signed_in(page, live_server, organizer, "/insights/cascades/?campaign=schools")
        tree = page.locator("[data-tree] svg").first
        before = tree.get_attribute("viewBox")
        page.locator("[data-tree] [data-zoom=in]").first.click()
        assert tree.get_attribute("viewBox") != before
        assert tree.locator("a circle").count() > 5
        # Its nodes open people's pages.
        goto_signed_in(page, live_server, organizer, f"/people/{people[0].pk}/")
        assert page.get_by_role("heading", name="Brought in and bringing in").is_visible()
        shot(page, f"person-{label}")
        # The organizer menu leads here.
        goto_signed_in(page, live_server, organizer, "/organize/")
        page.get_by_role("link", name="Insights").first.click()
        page.wait_for_url("**/insights/")


def test_spread_backtest_page_shows_its_charts_and_what_the_model_learned(new_context, live_server):
    from rallypoint.insights.models import RunKind
    from rallypoint.insights.services.grid import Window
    from rallypoint.insights.services.steering import run_execute, run_request
    from tests.insights.test_simulate import synthetic_campaign

    organizer = OrganizerFactory(person=person_with_email("lead@example.org", given_name="Lee"))
    made = synthetic_campaign(weeks=5, roots_per_week=30)
    run = run_request(
        kind=RunKind.BACKTEST, campaign=made.campaign, window=Window(), params={}, actor=organizer
    )
    run_execute(run.pk)
    url = f"{live_server.url}/insights/steer/{made.campaign.slug}/spread/"
    urllib.request.urlopen(live_server.url + "/", timeout=90).read()  # warm the server
    for label, width in WIDTHS.items():
        page = signed_in(new_context, live_server, organizer, width)
        goto_signed_in(page, live_server, organizer, url)
        charts = page.locator("svg[data-chart]")
        assert charts.count() == 2
        for i in range(charts.count()):
            box = charts.nth(i).bounding_box()
            assert box is not None and box["width"] > 200 and box["height"] > 100
            assert box["x"] + box["width"] <= width + 1
            assert charts.nth(i).locator("rect").count() > 0
        # Each channel's chance comes from its share-link visits, and says so.
        sources = page.locator("td[data-source]")
        assert sources.count() == 3
        for i in range(sources.count()):
            assert sources.nth(i).get_attribute("data-source") == "visits"
            assert sources.nth(i).inner_text().endswith("visits")
        shot(page, f"spread-{label}")
