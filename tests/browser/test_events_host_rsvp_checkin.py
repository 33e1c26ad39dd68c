from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.core import mail
from django.utils import timezone

from rallypoint.events.models import Event, Rsvp
from rallypoint.ledger.models import Activity
from tests.factories import UserFactory

PASSWORD = "correct horse battery"


def log_in(page, email):
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_events_supporter_hosts_neighbour_rsvps_host_checks_in(page, new_context):
    # A supporter proposes a house party from their phone.
    host = UserFactory(email="host@example.org")
    log_in(page, host.email)
    page.goto("/events/new/")
    page.get_by_label("Event name").fill("Backyard house party")
    page.get_by_label("Type of event").select_option("house_party")
    page.get_by_label("Venue").fill("Maria's backyard")
    page.get_by_label("Street address").fill("12 Elm St")
    page.get_by_label("Postal code").fill("80202")
    day = (timezone.now() + timedelta(days=4)).strftime("%Y-%m-%d")
    page.get_by_label("Starts").fill(f"{day}T18:00")
    page.get_by_label("Ends").fill(f"{day}T20:00")
    page.get_by_label("Capacity").fill("12")
    page.get_by_label("Instructions").fill("Come round the side gate.")
    page.get_by_role("button", name="Create event").click()
    page.wait_for_url("**/manage/")
    assert page.get_by_role("heading", level=1).inner_text() == "Backyard house party"
    event = Event.objects.get()
    assert (event.timezone, event.local_start.hour) == ("America/Denver", 18)

    # A neighbour in Aurora finds it by postal code and RSVPs, with no account.
    guest = new_context(
        viewport={"width": 390, "height": 844}, timezone_id="America/New_York"
    ).new_page()
    guest.goto("/events/")
    guest.get_by_label("Postal code").fill("80012")
    guest.get_by_role("button", name="Search").click()
    guest.get_by_text("8.9 miles away").wait_for()
    guest.get_by_role("link", name="Backyard house party").click()
    # Shown in the event's zone, with the visitor's own time added by the browser.
    mountain = event.local_end.tzname()
    eastern = event.starts_at.astimezone(ZoneInfo("America/New_York")).tzname()
    assert guest.locator("time[data-localtime]").inner_text().endswith(f"6 PM – 8 PM {mountain}")
    assert guest.locator(".localtime").inner_text().endswith(f"8:00 PM {eastern} your time)")
    guest.get_by_label("First name").fill("Diego")
    guest.get_by_label("Last name").fill("Rivera")
    guest.get_by_label("Email").fill("diego@example.org")
    guest.get_by_role("button", name="I'm in").click()
    guest.wait_for_url("**/rsvp/sent/")
    assert guest.get_by_role("heading", level=1).inner_text() == "Check your email"
    # The RSVP's own page opens from the link in the confirmation email.
    link = next(
        w for w in mail.outbox[-1].body.split() if "/events/rsvp/" in w and "/cancel/" not in w
    )
    guest.goto(link.removeprefix(settings.SITE_URL))
    assert guest.get_by_role("heading", level=1).inner_text() == "You're going, Diego!"
    assert guest.get_by_text("Come round the side gate.").is_visible()
    assert guest.get_by_role("heading", name="Bring a friend").is_visible()

    # On the day, the host opens check-in, searches and checks Diego in.
    page.get_by_role("link", name="Check people in").click()
    with page.expect_response(lambda response: "partial=1" in response.url):
        page.get_by_placeholder("Search by name or email").fill("dieg")
    row = page.locator("li.checkin-row", has_text="Diego Rivera")
    row.wait_for()
    row.get_by_role("button", name="Check in Diego Rivera").click()
    page.get_by_role("button", name="Undo check-in for Diego Rivera").wait_for()
    rsvp = Rsvp.objects.get()
    assert (rsvp.person.given_name, rsvp.attended) == ("Diego", True)
    assert sorted(Activity.objects.values_list("kind", flat=True)) == ["attend", "rsvp"]
