"""On a phone, a supporter picks a shift of a phone bank and answers the host's question; the
host sees them in that shift on the dashboard."""

from datetime import timedelta
from pathlib import Path

import pytest

from rallypoint.events.models import Rsvp, ShiftSignup
from tests.events.factories import (
    EventFactory,
    EventHostFactory,
    EventQuestionFactory,
    ShiftFactory,
    person_with_email,
)
from tests.factories import UserFactory

SHOTS = Path("/tmp/shots")
PASSWORD = "correct horse battery"


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_events_supporter_picks_a_shift_and_answers_a_question_on_a_phone(page, new_context):
    event = EventFactory(title="Saturday phone bank", address_line="", capacity=None)
    event.ends_at = event.starts_at + timedelta(hours=3)
    event.save()
    early = ShiftFactory(event=event, capacity=8)
    late = ShiftFactory(
        event=event, starts_at=early.ends_at, ends_at=event.ends_at, capacity=1, seats_taken=1
    )
    question = EventQuestionFactory(
        event=event,
        kind="choice",
        label="Which language will you call in?",
        choices=["English", "Spanish"],
        required=True,
    )
    host = person_with_email("host@example.org")
    EventHostFactory(event=event, person=host)

    page.goto(f"/events/{event.uuid}/")
    shifts = page.get_by_role("group", name="Pick your shifts")
    shifts.scroll_into_view_if_needed()
    assert "8 spots left" in shifts.inner_text()
    assert "full: join its waitlist" in shifts.inner_text()
    page.get_by_label("First name").fill("Lucía")
    page.get_by_label("Email").fill("lucia@example.org")
    page.get_by_label("8 spots left").check()
    page.get_by_label("Spanish").check()
    # Nothing runs off the side of a phone.
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    SHOTS.mkdir(exist_ok=True)
    shifts.screenshot(path=str(SHOTS / "event-rsvp-shifts-form.png"))
    page.screenshot(path=str(SHOTS / "event-rsvp-shifts-page.png"), full_page=True)
    page.get_by_role("button", name="I'm in").click()
    page.wait_for_url("**/rsvp/sent/")

    rsvp = Rsvp.objects.get()
    assert (rsvp.status, rsvp.answers) == ("accepted", {str(question.pk): "Spanish"})
    assert list(ShiftSignup.objects.values_list("shift_id", "status")) == [(early.pk, "accepted")]

    # The host sees Lucía in the early shift on their phone.
    UserFactory(person=host, email="host@example.org")
    hosting = new_context(viewport={"width": 390, "height": 844}).new_page()
    hosting.goto("/accounts/login/")
    hosting.get_by_label("Email").fill("host@example.org")
    hosting.get_by_label("Password").fill(PASSWORD)
    hosting.get_by_role("button", name="Log in").click()
    hosting.goto(f"/events/{event.uuid}/manage/")
    roster = hosting.locator("#shifts .roster").first
    assert "Lucía" in roster.inner_text()
    assert "Spanish" in hosting.locator("table").inner_text()
    hosting.locator("#shifts").screenshot(path=str(SHOTS / "event-dashboard-shifts.png"))
    assert late.signups.count() == 0
    # …and edits the shifts on the host form (open, since the event has shifts).
    hosting.goto(f"/events/{event.uuid}/edit/")
    block = hosting.locator("#shifts")
    assert block.get_by_label("Remove this shift").count() == 2
    assert hosting.evaluate("document.documentElement.scrollWidth") <= 390
    block.screenshot(path=str(SHOTS / "event-host-form-shifts.png"))
