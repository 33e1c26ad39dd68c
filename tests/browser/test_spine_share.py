"""A supporter signs, passes on their link, a friend signs through it, and the first supporter
sees the friend and the points on their own dashboard."""

import re

import pytest

from rallypoint.ledger.dashboard import dashboard_link
from rallypoint.ledger.models import Recruitment
from rallypoint.people.services import find_person
from tests.actions.factories import ActionFactory
from tests.mission.factories import CampaignFactory, GoalFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _sign(page, *, given, family, email, postal_code="80202"):
    page.fill("[name=given_name]", given)
    page.fill("[name=family_name]", family)
    page.fill("[name=email]", email)
    page.fill("[name=postal_code]", postal_code)
    page.click("form.action-form-body button[type=submit]")
    page.wait_for_load_state()


def test_spine_friend_signs_through_share_link_and_shows_on_dashboard(
    page, new_context, live_server, settings
):
    settings.SITE_URL = live_server.url
    campaign = CampaignFactory(slug="schools", name="Fund our schools")
    GoalFactory(campaign=campaign, kind="sign", target=10)
    action = ActionFactory(
        campaign=campaign, slug="librarians", title="A librarian for every school"
    )

    # Visitor A signs and takes their personal link from the thank-you page.
    page.goto("/act/librarians/")
    _sign(page, given="Ana", family="Garcia", email="ana@example.org")
    assert "Thank you, Ana!" in page.inner_text("main")
    link_box = page.locator("input[readonly][value*='ref=']").first
    share_link = link_box.input_value()
    ana = find_person(email="ana@example.org")
    assert f"ref={ana.share_code}" in share_link
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.locator("[data-copy]").first.click()
    status = page.locator("[data-copy-status]").first
    status.wait_for(state="visible")
    page.wait_for_function(
        "document.querySelector('[data-copy-status]').textContent.includes('copied')"
    )
    assert page.evaluate("navigator.clipboard.readText()") == share_link
    # The copy button records a "direct" share (a beacon request, so give it a moment).
    for _ in range(50):
        if ana.activities.filter(kind="share", channel="direct").exists():
            break
        page.wait_for_timeout(100)

    # Visitor B opens it in a fresh browser and signs.
    friend = new_context(viewport={"width": 390, "height": 844}).new_page()
    friend.goto(share_link)
    assert action.title in friend.inner_text("h1")
    _sign(friend, given="Ben", family="Okafor", email="ben@example.org", postal_code="43215")
    assert "Thank you, Ben!" in friend.inner_text("main")

    ben = find_person(email="ben@example.org")
    edge = Recruitment.objects.get()
    assert (edge.recruiter, edge.recruit, edge.campaign) == (ana, ben, campaign)

    # A opens their dashboard from the emailed link: one recruit, and the points.
    page.goto(dashboard_link(ana))
    assert page.url.endswith("/me/")
    stats = page.locator(".stats").inner_text()
    points = int(re.search(r"(\d+)\s*points", stats).group(1))
    assert points == 1 + 5 + 1  # signed, brought Ben in, shared
    assert re.search(r"\b1\s*person you brought in", stats)
    assert "Ben O. joined Fund our schools" in page.inner_text("#recruits-heading + ul")

    # The mission page shows the goal moving and B's act in the feed.
    page.goto("/campaigns/schools/")
    assert "2 of 10 signatures" in page.inner_text(".goals")
    assert "Ben O. from Columbus signed the petition" in page.inner_text(".feed")
