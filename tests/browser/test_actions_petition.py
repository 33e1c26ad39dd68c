"""A petition in a real browser: sign, share, a friend signs through the link; the widget."""

import urllib.request

import pytest

from rallypoint.actions.models import Submission
from rallypoint.ledger.models import Recruitment
from tests.actions.factories import ActionFactory, PledgeFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _warm(live_server, path: str) -> None:
    """The first request of a fresh server imports every view module: on a busy machine that
    can take longer than a page's timeout, so wait for it here once."""
    urllib.request.urlopen(live_server.url + path, timeout=90).read()


def _sign(page, *, given, family, email, postal_code="80202"):
    page.get_by_label("First name").fill(given)
    page.get_by_label("Last name").fill(family)
    page.get_by_label("Email").fill(email)
    page.get_by_label("ZIP / postal code").fill(postal_code)
    page.get_by_role("button", name="Add your name").click()


def test_petition_signed_then_shared_brings_in_a_friend(page, new_context, live_server):
    action = ActionFactory(title="Light the bike path")
    _warm(live_server, f"/act/{action.slug}/")
    page.goto(f"/act/{action.slug}/", wait_until="domcontentloaded")
    # A ZIP code that cannot be right is explained, and what was typed stays.
    _sign(page, given="Ana", family="Ruiz", email="ana@example.org", postal_code="8020")
    assert page.get_by_role("alert").inner_text().count("Enter a 5-digit ZIP code") == 1
    assert page.get_by_label("Email").input_value() == "ana@example.org"
    page.get_by_label("ZIP / postal code").fill("80202")
    page.get_by_role("button", name="Add your name").click()
    page.get_by_role("heading", name="Thank you, Ana!").wait_for()
    share_link = page.get_by_label("Your personal link").input_value()
    assert "?ref=" in share_link

    friend = new_context(viewport={"width": 390, "height": 844}).new_page()
    friend.goto(
        share_link.replace("http://127.0.0.1:8000", live_server.url), wait_until="domcontentloaded"
    )
    _sign(friend, given="Ben", family="Okafor", email="ben@example.org")
    friend.get_by_role("heading", name="Thank you, Ben!").wait_for()

    edge = Recruitment.objects.select_related("recruiter", "recruit").get()
    assert (edge.recruiter.given_name, edge.recruit.given_name, edge.channel) == (
        "Ana",
        "Ben",
        "direct",
    )
    # Signing again is thanked the same way (the page never tells whether an address had
    # signed) and stored once.
    friend.goto(f"/act/{action.slug}/", wait_until="domcontentloaded")
    _sign(friend, given="Ben", family="Okafor", email="BEN@example.org")
    friend.get_by_role("heading", name="Thank you, Ben!").wait_for()
    assert Submission.objects.count() == 2


def test_pledge_widget_on_another_site_sizes_itself_and_records(new_context, live_server):
    action = PledgeFactory(title="Vote early")
    _warm(live_server, f"/act/{action.slug}/embed/")
    host = new_context(viewport={"width": 800, "height": 900}).new_page()
    host.set_content(
        "<h1>Our blog</h1><p>Read this, then pledge:</p>"
        f'<script src="{live_server.url}/act/{action.slug}/embed.js" async></script>'
    )
    frame = host.frame_locator("iframe")
    frame.get_by_label("First name").fill("Cleo")
    frame.get_by_label("Email").fill("cleo@example.org")
    frame.get_by_label("ZIP / postal code").fill("10001")
    height = host.eval_on_selector("iframe", "e => parseInt(e.style.height)")
    assert height > 400
    frame.get_by_role("button", name="I pledge").click()
    frame.get_by_role("heading", name="Thank you, Cleo!").wait_for()
    submission = Submission.objects.get()
    assert (submission.source, submission.person.given_name) == ("embed", "Cleo")
