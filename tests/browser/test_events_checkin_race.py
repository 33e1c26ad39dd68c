"""Check-in desk: a search answered after a check-in was tapped must not redraw that person as
not here yet. Searches and check-ins take turns (hx-sync on the desk)."""

import pytest

from rallypoint.events.models import Rsvp
from rallypoint.events.services import rsvp_create
from rallypoint.people.services import PersonData
from tests.events.factories import EventHostFactory, person_with_email
from tests.factories import UserFactory

PASSWORD = "correct horse battery"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_search_sent_while_a_check_in_is_on_its_way_shows_the_check_in(page):
    host = person_with_email("host@example.org")
    UserFactory(person=host, email="host@example.org")
    event = EventHostFactory(person=host).event
    for given, family in (("Diego", "Rivera"), ("Ana", "Lopez")):
        rsvp_create(
            event=event,
            person_data=PersonData(
                email=f"{given.lower()}@example.org", given_name=given, family_name=family
            ),
        )
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill("host@example.org")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto(f"/events/{event.uuid}/checkin/")
    assert "take turns" not in page.content()  # the template's note stays a comment

    # Hold the check-in on its way, and answer every search from the server at once but hand
    # the answer to the page only when the test says so: the order that lost check-ins.
    held_checkins, held_searches = [], []

    def hold(route):
        if route.request.method == "POST":
            held_checkins.append(route)
        elif "partial=1" in route.request.url:
            held_searches.append((route, route.fetch()))
        else:
            route.continue_()

    page.route("**/checkin/**", hold)
    page.get_by_placeholder("Search by name or email").fill("dieg")
    page.get_by_role("button", name="Check in Diego Rivera").click()
    page.wait_for_timeout(600)  # the search's 250 ms debounce has passed
    # A search sent now would be answered before the check-in is saved.
    assert len(held_checkins) == 1
    held_checkins.pop().continue_()
    page.get_by_role("button", name="Undo check-in for Diego Rivera").wait_for()
    for _ in range(50):  # the search, sent after the check-in (or held since before it)
        if held_searches:
            break
        page.wait_for_timeout(100)
    route, response = held_searches.pop()
    route.fulfill(response=response)
    page.get_by_text("Ana Lopez").wait_for(state="detached")  # the search result is shown

    assert Rsvp.objects.get(person__given_name="Diego").attended is True
    assert page.get_by_role("button", name="Undo check-in for Diego Rivera").is_visible()
    assert not page.get_by_role("button", name="Check in Diego Rivera").is_visible()
