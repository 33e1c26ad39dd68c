"""On a phone, a supporter who is going changes their shifts from the event page (recognised
by their dashboard link): the place they give up goes to the person waiting for it."""

from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from rallypoint.events.services import rsvp_create
from rallypoint.ledger.dashboard import dashboard_token
from rallypoint.people.models import Person
from rallypoint.people.services import PersonData
from tests.events.factories import EventFactory, ShiftFactory

SHOTS = Path("/tmp/shots")


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_events_supporter_changes_shifts_on_a_phone_and_the_waitlist_moves_up(page):
    start = timezone.now() + timedelta(days=4)
    event = EventFactory(title="Phone bank", starts_at=start, ends_at=start + timedelta(hours=3))
    early = ShiftFactory(event=event, capacity=1)
    middle = ShiftFactory(event=event, starts_at=early.ends_at, capacity=5)
    late = ShiftFactory(event=event, starts_at=middle.ends_at, ends_at=event.ends_at)
    lucia = rsvp_create(
        event=event,
        person_data=PersonData(email="lucia@example.org", given_name="Lucía"),
        shifts=[early.pk],
    )
    omar = rsvp_create(
        event=event,
        person_data=PersonData(email="omar@example.org", given_name="Omar"),
        shifts=[early.pk, late.pk],
    )
    assert omar.shift_signups.get(shift=early).status == "waitlisted"

    person = Person.objects.get(pk=lucia.person_id)
    page.goto(f"/me/link/{dashboard_token(person)}/")
    page.goto(event.get_absolute_url())
    assert page.get_by_role("heading", name="You're going!").is_visible()
    page.get_by_role("link", name="Change your shifts").click()
    page.wait_for_url("**/shifts/**")
    assert page.get_by_role("heading", level=1).inner_text() == "Your shifts"
    mine = page.get_by_role("group", name="Your shifts")
    assert mine.get_by_label("you're in").is_checked()
    mine.get_by_label("you're in").uncheck()
    mine.get_by_label("5 spots left").check()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    SHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SHOTS / "event-change-shifts-390.png"), full_page=True)
    page.get_by_role("button", name="Save my shifts").click()

    page.wait_for_url("**/events/rsvp/**")
    assert page.get_by_text("Your shifts are changed. We've emailed you.").is_visible()
    assert page.get_by_role("heading", level=1).inner_text() == "You're going, Lucía!"
    page.screenshot(path=str(SHOTS / "event-shifts-changed-390.png"), full_page=True)
    places = sorted(lucia.shift_signups.values_list("shift_id", "status"))
    assert places == [(early.pk, "cancelled"), (middle.pk, "accepted")]
    # Omar, who was waiting for the early shift, has Lucía's place.
    assert omar.shift_signups.get(shift=early).status == "accepted"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_events_the_cancel_link_from_the_email_cancels_in_a_browser(page):
    """The RSVP's private pages send no referrer to other sites, yet their own forms pass the
    CSRF check (a page with no referrer at all posts "Origin: null", which is refused)."""
    from rallypoint.events.links import rsvp_cancel_path

    event = EventFactory(title="House party")
    rsvp = rsvp_create(event=event, person_data=PersonData(email="ana@example.org"))
    page.goto(rsvp_cancel_path(rsvp))
    page.get_by_role("button", name="Cancel my RSVP").click()
    page.wait_for_url(f"**{event.get_absolute_url()}")
    assert page.get_by_text("Your RSVP is cancelled.").is_visible()
    rsvp.refresh_from_db()
    assert rsvp.status == "cancelled"
