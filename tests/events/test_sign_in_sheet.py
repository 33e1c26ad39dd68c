"""The printable sign-in sheet groups people by shift (each with its times), and the attendees'
CSV names the shifts each person is in or waiting for, as they are after a change."""

import csv
import io
import re

import pytest

from rallypoint.events.services import rsvp_shifts_change
from rallypoint.events.when import shift_text
from tests.events.factories import ShiftFactory
from tests.events.test_shifts import rsvp
from tests.events.test_views import host_client

pytestmark = pytest.mark.django_db(transaction=True)


def phone_bank(client):
    client, event, _ = host_client(client, title="Phone bank")
    early = ShiftFactory(event=event, capacity=2)
    late = ShiftFactory(event=event, starts_at=early.ends_at, ends_at=event.ends_at)
    return client, event, early, late


def sheet(client, event) -> str:
    response = client.get(f"/events/{event.uuid}/sign-in-sheet/")
    assert response.status_code == 200
    return response.content.decode()


def section(page: str, heading: str) -> str:
    """The HTML of the sheet's section whose heading starts with `heading`."""
    start = page.index(heading)
    end = page.find('<section class="sign-in-group">', start)
    return page[start : end if end != -1 else len(page)]


def test_sign_in_sheet_has_a_list_per_shift_with_its_times(client):
    client, event, early, late = phone_bank(client)
    rsvp(event, "zoe@example.org", [early.pk, late.pk])
    rsvp(event, "amy@example.org", [early.pk])
    rsvp(event, "bob@example.org", [late.pk])
    rsvp(event, "cat@example.org", [early.pk])  # waits: the first shift has 2 places
    page = sheet(client, event)
    first = section(page, f"Shift: {shift_text(early)}")
    second = section(page, f"Shift: {shift_text(late)}")
    assert "(2 going)" in first and "(2 going)" in second
    assert first.index("amy@example.org") < first.index("zoe@example.org")
    assert "bob@example.org" not in first and "cat@example.org" not in page
    assert second.index("bob@example.org") < second.index("zoe@example.org")
    assert "amy@example.org" not in second
    assert page.count('class="blank"') == 2 * 5
    assert "<strong>3</strong> RSVPs" in page  # Zoe counts once
    assert "Not in a shift" not in page


def test_people_going_in_no_shift_have_their_own_list(client):
    client, event, _ = host_client(client, title="Canvass")
    rsvp(event, "old@example.org", [])  # before the event had shifts
    early = ShiftFactory(event=event)
    rsvp(event, "new@example.org", [early.pk])
    page = sheet(client, event)
    assert "old@example.org" in section(page, "Not in a shift")
    assert "new@example.org" in section(page, f"Shift: {shift_text(early)}")
    assert page.count('class="blank"') == 5  # blank lines under the shift only


def test_sign_in_sheet_without_shifts_is_one_list(client):
    client, event, _ = host_client(client)
    rsvp(event, "amy@example.org", [])
    page = sheet(client, event)
    assert "Shift:" not in page and "<h2>" not in page
    assert page.count('class="blank"') == 15


@pytest.mark.parametrize("n", [1, 3])
def test_sign_in_sheet_query_count_same_for_1_and_3(client, django_assert_num_queries, n):
    client, event, early, late = phone_bank(client)
    for i in range(n):
        rsvp(event, f"p{i}@example.org", [early.pk, late.pk])
    client.get(f"/events/{event.uuid}/sign-in-sheet/")  # the session and the user, cached
    with django_assert_num_queries(12):
        sheet(client, event)


def test_attendees_csv_shows_the_shifts_as_they_are_after_a_change(client):
    client, event, early, late = phone_bank(client)
    rsvp(event, "amy@example.org", [early.pk])
    rsvp(event, "bob@example.org", [early.pk])
    cat = rsvp(event, "cat@example.org", [late.pk])
    rsvp_shifts_change(rsvp=cat, shifts=[early.pk, late.pk])  # early is full: Cat waits
    response = client.get(f"/events/{event.uuid}/attendees.csv")
    text = b"".join(response.streaming_content).decode().lstrip("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text)))
    by_email = {row["email"]: row for row in rows}
    assert by_email["cat@example.org"]["shifts"] == shift_text(late)
    assert by_email["cat@example.org"]["waiting_for_shifts"] == shift_text(early)
    assert by_email["amy@example.org"]["shifts"] == shift_text(early)
    assert re.match(r"\w{3}, \w{3} \d+, ", by_email["amy@example.org"]["shifts"])
