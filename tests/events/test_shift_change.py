"""Changing one's shifts on an existing RSVP (`rsvp_shifts_change`): places given while a
shift has room, then its waitlist; a place given up goes to the next person waiting, as after
a cancel; the page is reached through the RSVP's signed link or as its recognised person."""

import re
from datetime import timedelta
from urllib.parse import urlencode

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.utils import timezone

from rallypoint.core.models import AuditEntry
from rallypoint.events.links import rsvp_page_path, rsvp_shifts_path, rsvp_token
from rallypoint.events.models import Event, Rsvp, Shift, ShiftSignup
from rallypoint.events.services import rsvp_cancel, rsvp_shifts_change
from rallypoint.ledger.models import Activity
from rallypoint.people.referral import OWN_CODE_SESSION_KEY
from tests.events.factories import EventFactory, ShiftFactory
from tests.events.test_shifts import places, rsvp
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def three_shifts(**event_kwargs):
    """A three-hour phone bank: 2 places in the first hour, 1 in the second, no limit in the
    third."""
    event = EventFactory(
        title="Phone bank",
        starts_at=timezone.now() + timedelta(days=2),
        ends_at=timezone.now() + timedelta(days=2, hours=3),
        **event_kwargs,
    )
    first = ShiftFactory(event=event, capacity=2)
    second = ShiftFactory(event=event, starts_at=first.ends_at, capacity=1)
    third = ShiftFactory(event=event, starts_at=second.ends_at, ends_at=event.ends_at)
    return event, first, second, third


def counts(*rows):
    for row in rows:
        row.refresh_from_db()
    return tuple(row.seats_taken for row in rows)


def subjects():
    return [(m.to[0], m.subject) for m in mail.outbox]


# --- the service ---------------------------------------------------------------------------


def test_adding_a_shift_with_room_gives_a_place_and_emails_the_new_shifts():
    event, first, second, third = three_shifts()
    ana = rsvp(event, "ana@example.org", [third.pk])
    mail.outbox.clear()
    change = rsvp_shifts_change(rsvp=ana, shifts=[third.pk, first.pk])
    assert change.changed and [s.pk for s in change.added] == [first.pk]
    assert places(ana) == [(first.pk, "accepted"), (third.pk, "accepted")]
    assert counts(first, third, event) == (1, 1, 1)  # the event counts Ana once
    assert subjects() == [("ana@example.org", "Your shifts are changed: Phone bank")]
    body = mail.outbox[0].body
    assert "Your shifts:" in body and body.count("\n- ") == 2
    assert mail.outbox[0].attachments[0][0] == "event.ics"
    entry = AuditEntry.objects.get(action="event.rsvp.shifts_changed")
    assert entry.data == {"added": [first.pk], "waiting": [], "removed": []}


def test_dropping_a_shift_frees_the_place_for_the_next_person_waiting():
    event, first, second, third = three_shifts()
    ana = rsvp(event, "ana@example.org", [second.pk, third.pk])
    ben = rsvp(event, "ben@example.org", [second.pk])  # waits for Ana's place
    cho = rsvp(event, "cho@example.org", [second.pk])
    assert (ben.status, cho.status) == ("waitlisted", "waitlisted")
    mail.outbox.clear()
    change = rsvp_shifts_change(rsvp=ana, shifts=[str(third.pk)])
    assert [s.pk for s in change.removed] == [second.pk]
    assert [r.pk for r in change.promoted] == [ben.pk]
    ben.refresh_from_db(), cho.refresh_from_db(), ana.refresh_from_db()
    assert (ana.status, ben.status, cho.status) == ("accepted", "accepted", "waitlisted")
    assert places(ana) == [(second.pk, "cancelled"), (third.pk, "accepted")]
    assert places(ben) == [(second.pk, "accepted")]
    assert counts(second, third, event) == (1, 1, 2)
    assert Activity.objects.get(kind="rsvp", person=ben.person).details["from_waitlist"] is True
    assert sorted(subjects()) == [
        ("ana@example.org", "Your shifts are changed: Phone bank"),
        ("ben@example.org", "A spot opened up — you're going to Phone bank"),
    ]


def test_a_full_shift_is_waited_for_and_without_a_waitlist_refused():
    event, first, second, third = three_shifts()
    rsvp(event, "ana@example.org", [second.pk])
    ben = rsvp(event, "ben@example.org", [third.pk])
    change = rsvp_shifts_change(rsvp=ben, shifts=[second.pk, third.pk])
    assert [s.pk for s in change.waiting] == [second.pk]
    assert change.changed  # a place on a waitlist is a change
    assert places(ben) == [(second.pk, "waitlisted"), (third.pk, "accepted")]
    Shift.objects.filter(pk=second.pk).update(waitlist_enabled=False)
    cho = rsvp(event, "cho@example.org", [third.pk])
    with pytest.raises(ValidationError) as caught:
        rsvp_shifts_change(rsvp=cho, shifts=[second.pk, third.pk])
    assert caught.value.message_dict["shifts"][0].startswith("Sorry, the shift ")
    assert caught.value.message_dict["shifts"][0].endswith(" is full.")
    assert places(cho) == [(third.pk, "accepted")]
    assert counts(second, third) == (1, 2)


def test_a_person_waiting_everywhere_who_adds_a_shift_with_room_is_going():
    event, first, second, third = three_shifts()
    rsvp(event, "ana@example.org", [second.pk])
    ben = rsvp(event, "ben@example.org", [second.pk], guests=1)
    assert ben.status == "waitlisted"
    assert counts(event) == (1,)
    rsvp_shifts_change(rsvp=ben, shifts=[second.pk, first.pk])
    ben.refresh_from_db()
    assert ben.status == "accepted"
    assert places(ben) == [(first.pk, "accepted"), (second.pk, "waitlisted")]
    assert counts(first, event) == (2, 3)  # Ben and his guest
    assert Activity.objects.filter(kind="rsvp", person=ben.person).count() == 1


def test_giving_up_the_only_place_leaves_the_rsvp_waiting_and_lets_the_next_in():
    event, first, second, third = three_shifts()
    ana = rsvp(event, "ana@example.org", [second.pk])
    ben = rsvp(event, "ben@example.org", [second.pk])
    cho = rsvp(event, "cho@example.org", [first.pk])
    rsvp(event, "dan@example.org", [first.pk])
    # Ana swaps the second hour for the first, which is full: she waits for it; Ben gets hers.
    rsvp_shifts_change(rsvp=ana, shifts=[first.pk])
    ana.refresh_from_db(), ben.refresh_from_db()
    assert (ana.status, ben.status) == ("waitlisted", "accepted")
    assert places(ana) == [(first.pk, "waitlisted"), (second.pk, "cancelled")]
    assert counts(first, second, event) == (2, 1, 3)
    # Cho gives up her place in the first hour: Ana, waiting, is let in.
    rsvp_cancel(rsvp=cho)
    ana.refresh_from_db()
    assert ana.status == "accepted"
    assert places(ana) == [(first.pk, "accepted"), (second.pk, "cancelled")]


def test_picking_a_shift_again_puts_you_at_the_end_of_its_waitlist():
    event, first, second, third = three_shifts()
    ana = rsvp(event, "ana@example.org", [second.pk, third.pk])
    ben = rsvp(event, "ben@example.org", [second.pk, third.pk])  # waits in the second
    rsvp_shifts_change(rsvp=ben, shifts=[third.pk])  # gives up waiting
    cho = rsvp(event, "cho@example.org", [second.pk, third.pk])  # now first in line
    rsvp_shifts_change(rsvp=ben, shifts=[second.pk, third.pk])  # back, behind Cho
    assert ShiftSignup.objects.filter(rsvp=ben).count() == 2  # the same row, picked again
    rsvp_cancel(rsvp=ana)
    assert places(cho)[0] == (second.pk, "accepted")
    assert places(ben)[0] == (second.pk, "waitlisted")


def test_shifts_are_kept_when_nothing_changes_and_at_least_one_is_needed():
    event, first, second, third = three_shifts()
    ana = rsvp(event, "ana@example.org", [first.pk])
    mail.outbox.clear()
    change = rsvp_shifts_change(rsvp=ana, shifts=[first.pk])
    assert not change.changed and mail.outbox == []
    with pytest.raises(ValidationError) as caught:
        rsvp_shifts_change(rsvp=ana, shifts=[])
    assert caught.value.message_dict["shifts"] == [
        "Pick at least one shift. Not coming at all? Cancel your RSVP."
    ]
    assert places(ana) == [(first.pk, "accepted")]


@pytest.mark.parametrize(
    ("picked", "message"),
    [
        (["x"], "Pick shifts from the list."),
        ([None], "Pick shifts from the list."),
        (["99999999"], "A shift you picked isn't on this event any more. Pick again."),
    ],
)
def test_shift_choice_is_checked_with_a_clear_message(picked, message):
    event, first, second, third = three_shifts()
    ana = rsvp(event, "ana@example.org", [first.pk])
    with pytest.raises(ValidationError) as caught:
        rsvp_shifts_change(rsvp=ana, shifts=picked)
    assert caught.value.message_dict["shifts"] == [message]
    assert places(ana) == [(first.pk, "accepted")]


def test_a_shift_of_another_event_is_refused():
    event, first, second, third = three_shifts()
    other = ShiftFactory()
    ana = rsvp(event, "ana@example.org", [first.pk])
    with pytest.raises(ValidationError):
        rsvp_shifts_change(rsvp=ana, shifts=[other.pk])
    assert places(ana) == [(first.pk, "accepted")]


def test_a_shift_that_is_over_is_neither_added_nor_taken_away():
    event, first, second, third = three_shifts()
    ana = rsvp(event, "ana@example.org", [first.pk])
    ben = rsvp(event, "ben@example.org", [third.pk])
    # The event started two hours ago: its first shift is over.
    past = timezone.now() - timedelta(hours=2)
    Event.objects.filter(pk=event.pk).update(
        starts_at=past, ends_at=past + timedelta(hours=3, minutes=30)
    )
    Shift.objects.filter(pk=first.pk).update(starts_at=past, ends_at=past + timedelta(hours=1))
    Shift.objects.filter(pk=second.pk).update(
        starts_at=past + timedelta(hours=1), ends_at=past + timedelta(hours=2, minutes=30)
    )
    Shift.objects.filter(pk=third.pk).update(
        starts_at=past + timedelta(hours=2, minutes=30), ends_at=past + timedelta(hours=3)
    )
    rsvp_shifts_change(rsvp=ana, shifts=[second.pk])
    assert places(ana) == [(first.pk, "accepted"), (second.pk, "accepted")]
    with pytest.raises(ValidationError) as caught:
        rsvp_shifts_change(rsvp=ben, shifts=[first.pk, third.pk])
    assert "has already happened" in caught.value.message_dict["shifts"][0]


def test_a_cancelled_rsvp_or_event_changes_nothing():
    event, first, second, third = three_shifts()
    ana = rsvp(event, "ana@example.org", [first.pk])
    ben = rsvp(event, "ben@example.org", [first.pk])
    rsvp_cancel(rsvp=ana)
    with pytest.raises(ValidationError):
        rsvp_shifts_change(rsvp=ana, shifts=[third.pk])
    Event.objects.filter(pk=event.pk).update(status="cancelled")
    with pytest.raises(ValidationError) as caught:
        rsvp_shifts_change(rsvp=ben, shifts=[third.pk])
    assert caught.value.messages == ["This event was cancelled."]
    assert places(ben) == [(first.pk, "accepted")]
    assert counts(third) == (0,)


# --- the page ------------------------------------------------------------------------------


def test_the_signed_link_shows_your_shifts_and_changes_them(client):
    event, first, second, third = three_shifts()
    ana = rsvp(event, "ana@example.org", [first.pk])
    path = rsvp_shifts_path(ana)
    page = client.get(path)
    assert page.status_code == 200
    assert page["Referrer-Policy"] == "same-origin"
    html = page.content.decode()
    ticked = re.findall(r'value="(\d+)" id="id_shifts_\d+" checked', html)
    assert ticked == [str(first.pk)]
    assert "· you&#x27;re in" in html
    token = rsvp_token(ana)
    response = client.post(path.split("?")[0], {"t": token, "shifts": [second.pk, third.pk]})
    assert response.status_code == 302
    assert response["Location"] == rsvp_page_path(ana)
    assert places(ana) == [(first.pk, "cancelled"), (second.pk, "accepted"), (third.pk, "accepted")]
    done = client.get(response["Location"]).content.decode()
    assert "Your shifts are changed" in done
    assert "Change your shifts" in done


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("token", [None, "", "forged:token", "x" * 500])
def test_without_a_valid_signature_nothing_changes(client, method, token):
    event, first, second, third = three_shifts()
    ana = rsvp(event, "ana@example.org", [first.pk])
    data = {"shifts": [third.pk]}
    if token is not None:
        data["t"] = token
    response = getattr(client, method)(f"/events/rsvp/{ana.uuid}/shifts/", data)
    assert response.status_code == 403
    assert places(ana) == [(first.pk, "accepted")]


def test_another_rsvps_signature_changes_nothing(client):
    event, first, second, third = three_shifts()
    ana = rsvp(event, "ana@example.org", [first.pk])
    ben = rsvp(event, "ben@example.org", [first.pk])
    token = rsvp_token(ben)
    response = client.post(f"/events/rsvp/{ana.uuid}/shifts/", {"t": token, "shifts": [third.pk]})
    assert response.status_code == 403
    assert places(ana) == [(first.pk, "accepted")]


def test_someone_else_logged_in_changes_nothing(client):
    event, first, second, third = three_shifts()
    ana = rsvp(event, "ana@example.org", [first.pk])
    client.force_login(UserFactory())
    response = client.post(f"/events/rsvp/{ana.uuid}/shifts/", {"shifts": [third.pk]})
    assert response.status_code == 403
    assert places(ana) == [(first.pk, "accepted")]


def test_a_supporter_back_from_their_dashboard_link_changes_shifts_from_the_event_page(client):
    event, first, second, third = three_shifts()
    ana = rsvp(event, "ana@example.org", [first.pk])
    session = client.session
    session[OWN_CODE_SESSION_KEY] = ana.person.share_code
    session.save()
    page = client.get(event.get_absolute_url()).content.decode()
    assert "Change your shifts" in page
    assert rsvp_shifts_path(ana).replace("&", "&amp;") in page
    # Recognised as the RSVP's person, the page works without the signature too.
    response = client.post(f"/events/rsvp/{ana.uuid}/shifts/", {"shifts": [third.pk]})
    assert response.status_code == 302
    assert places(ana) == [(first.pk, "cancelled"), (third.pk, "accepted")]


@pytest.mark.parametrize(
    "shifts",
    [["abc"], ["1 OR 1=1"], ["\x00"], ["9" * 40], ["<script>alert(1)</script>"], ["%ED%A0%80"]],
)
def test_hostile_shift_values_get_a_message_and_change_nothing(client, shifts):
    event, first, second, third = three_shifts()
    ana = rsvp(event, "ana@example.org", [first.pk])
    body = urlencode({"t": rsvp_token(ana)}) + "".join(f"&shifts={v}" for v in shifts)
    if "%" not in shifts[0]:  # ["%ED%A0%80"]: a lone surrogate's bytes, sent as they are
        body = urlencode({"t": rsvp_token(ana), "shifts": shifts}, doseq=True)
    response = client.post(
        f"/events/rsvp/{ana.uuid}/shifts/",
        body,
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status_code == 400
    assert "Pick shifts from the list." in response.content.decode()
    assert places(ana) == [(first.pk, "accepted")]


def test_the_page_says_so_when_a_full_shift_is_picked_without_a_waitlist(client):
    event, first, second, third = three_shifts()
    rsvp(event, "ana@example.org", [second.pk])
    ben = rsvp(event, "ben@example.org", [third.pk])
    Shift.objects.filter(pk=second.pk).update(waitlist_enabled=False)
    page = client.get(rsvp_shifts_path(ben)).content.decode()
    assert f'value="{second.pk}"' in page and "disabled" in page
    token = rsvp_token(ben)
    # A page loaded before the shift filled up: the write says it is full.
    response = client.post(
        f"/events/rsvp/{ben.uuid}/shifts/", {"t": token, "shifts": [second.pk, third.pk]}
    )
    assert response.status_code == 400
    assert "is full" in response.content.decode()
    assert places(ben) == [(third.pk, "accepted")]


def test_unticking_every_shift_says_to_cancel_instead(client):
    event, first, second, third = three_shifts()
    ana = rsvp(event, "ana@example.org", [first.pk])
    token = rsvp_token(ana)
    response = client.post(f"/events/rsvp/{ana.uuid}/shifts/", {"t": token})
    assert response.status_code == 400
    assert "Not coming at all? Cancel your RSVP." in response.content.decode()
    assert Rsvp.objects.get(pk=ana.pk).status == "accepted"


def test_joining_only_a_waitlist_by_the_signed_link_says_so(client):
    event, first, second, third = three_shifts()
    rsvp(event, "ana@example.org", [second.pk])
    ben = rsvp(event, "ben@example.org", [third.pk])
    path = rsvp_shifts_path(ben)
    response = client.post(
        path.split("?")[0], {"t": rsvp_token(ben), "shifts": [second.pk, third.pk]}
    )
    done = client.get(response["Location"]).content.decode()
    assert "Nothing changed" not in done
    assert "Your shifts are changed" in done
    assert places(ben) == [(second.pk, "waitlisted"), (third.pk, "accepted")]


def test_my_events_links_each_rsvp_to_its_page_with_its_shifts(client):
    event, first, second, third = three_shifts()
    ana = rsvp(event, "ana@example.org", [first.pk])
    plain = EventFactory(title="Rally", starts_at=timezone.now() + timedelta(days=3))
    other = rsvp(plain, "ana@example.org", None)
    user = UserFactory(person=ana.person)
    client.force_login(user)
    html = client.get("/events/mine/").content.decode()
    assert f'href="{rsvp_page_path(ana)}">Your RSVP and shifts</a>' in html
    assert f'href="{rsvp_page_path(other)}">Your RSVP</a>' in html
