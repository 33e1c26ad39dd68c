"""A supporter who came back through the dashboard link in their email hosts an event from a
phone (390 px wide): no password, the description written in the rich-text editor."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from rallypoint.events.models import Event
from rallypoint.ledger.dashboard import dashboard_token
from tests.events.factories import person_with_email

SHOTS = Path("/tmp/shots")


def fits_the_phone(page) -> bool:
    """Nothing sticks out sideways: no horizontal scrolling at 390 px."""
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_supporter_from_their_dashboard_link_hosts_an_event_on_a_phone(page):
    SHOTS.mkdir(exist_ok=True)
    dana = person_with_email("dana@example.org", given_name="Dana")
    assert page.viewport_size == {"width": 390, "height": 844}

    # The link from her email opens her dashboard: she is recognised, with no password.
    page.goto(f"/me/link/{dashboard_token(dana)}/")
    page.wait_for_url("**/me/")
    assert page.get_by_role("heading", level=1).inner_text() == "Hi Dana"
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Events").click()
    page.get_by_role("link", name="Host an event").click()
    page.wait_for_url("**/events/new/")
    assert page.get_by_role("heading", level=1).inner_text() == "Host an event"

    page.get_by_label("Event name").fill("Backyard house party")
    page.get_by_label("Type of event").select_option("house_party")
    # The description in the editor: a heading-free paragraph with bold, then a list.
    editor = page.locator(".rich-editor .ql-editor")
    assert page.locator("textarea[name=description]").is_hidden()
    editor.click()
    page.keyboard.type("Meet the neighbours ")
    page.keyboard.press("Control+b")
    page.keyboard.type("who care")
    page.keyboard.press("Control+b")
    page.keyboard.type(" about clean air.")
    page.keyboard.press("Enter")
    page.locator(".rich-editor .ql-toolbar button.ql-list[value=bullet]").click()
    page.keyboard.type("Snacks on us")
    page.get_by_label("Venue").fill("Dana's backyard")
    page.get_by_label("Street address").fill("12 Elm St")
    page.get_by_label("Postal code").fill("80202")
    day = (timezone.now() + timedelta(days=6)).strftime("%Y-%m-%d")
    page.get_by_label("Starts").fill(f"{day}T18:00")
    page.get_by_label("Ends").fill(f"{day}T20:00")
    page.get_by_label("Capacity").fill("15")
    assert fits_the_phone(page)
    page.screenshot(path=str(SHOTS / "host-by-dashboard-link-form-390.png"), full_page=True)
    page.get_by_role("button", name="Create event").click()

    # Her event's host page.
    page.wait_for_url("**/manage/")
    assert page.get_by_role("heading", level=1).inner_text() == "Backyard house party"
    assert page.get_by_text("Your event is live. Share it to get people there.").is_visible()
    assert fits_the_phone(page)
    page.screenshot(path=str(SHOTS / "host-by-dashboard-link-manage-390.png"), full_page=True)
    event = Event.objects.get()
    assert list(event.hosts.values_list("person_id", flat=True)) == [dana.pk]
    assert event.description == (
        "<p>Meet the neighbours <strong>who care</strong> about clean air.</p>"
        "<ul><li>Snacks on us</li></ul>"
    )

    # The event page shows the description formatted.
    page.goto(event.get_absolute_url())
    description = page.locator(".event-description")
    assert description.locator("strong").inner_text() == "who care"
    assert description.locator("li").inner_text() == "Snacks on us"
    assert fits_the_phone(page)
