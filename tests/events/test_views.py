import re
import uuid
from datetime import timedelta
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

import icalendar
import pytest
from django.core import mail
from django.utils import timezone

from rallypoint.events.links import rsvp_token, rsvp_token_valid
from rallypoint.events.models import Approval, Event, Rsvp
from rallypoint.events.services import rsvp_create
from rallypoint.ledger.models import Activity
from rallypoint.mission.models import Campaign
from rallypoint.people.models import Person
from rallypoint.people.services import PersonData
from tests.events.factories import EventFactory, EventHostFactory, person_with_email
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db(transaction=True)


def local_input(days=5, hour=18):
    return (timezone.now() + timedelta(days=days)).strftime(f"%Y-%m-%dT{hour:02d}:00")


def emailed_link(body: str, name: str) -> str:
    """The path and query of the first link to `name` (rsvp_done or rsvp_cancel) in an email."""
    for word in body.split():
        if "/events/rsvp/" in word and ("/cancel/" in word) == (name == "rsvp_cancel"):
            parts = urlsplit(word)
            return f"{parts.path}?{parts.query}"
    raise AssertionError(f"no {name} link in the email")


def host_client(client, **event_kwargs):
    host = person_with_email()
    user = UserFactory(person=host)
    event = EventHostFactory(
        person=host, **{f"event__{k}": v for k, v in event_kwargs.items()}
    ).event
    client.force_login(user)
    return client, event, user


def add_rsvps(event, n):
    return [
        rsvp_create(event=event, person_data=PersonData(email=f"r{event.pk}-{i}@example.org"))
        for i in range(n)
    ]


def create_form(**overrides):
    values = {
        "title": "Backyard house party",
        "event_type": "house_party",
        "location_mode": "in_person",
        "venue": "Maria's backyard",
        "address_line": "12 Elm St",
        "postal_code": "80202",
        "starts_at": local_input(),
        "ends_at": local_input(hour=20),
        "timezone": "",
        "capacity": "20",
        "waitlist_enabled": "on",
        "visibility": "public",
        "status": "confirmed",
        "reminders": ["1440", "120"],
    }
    values.update(overrides)
    return values


# --- finding -------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 3])
def test_event_list_query_count_same_for_1_and_3(client, django_assert_num_queries, n):
    for _ in range(n):
        EventFactory()
    with django_assert_num_queries(2):  # count and page; nothing per event
        response = client.get("/events/?postal_code=80202&radius=25&unit=mi")
    assert response.status_code == 200
    assert len(response.context["events"]) == n


def test_event_list_unknown_postal_code_says_so(client):
    EventFactory()
    response = client.get("/events/?postal_code=00000")
    assert response.status_code == 200
    assert "We don&#x27;t know the postal code “00000”" in response.content.decode()


def test_event_list_bad_dates_says_so(client):
    response = client.get("/events/?date_from=2031-05-02&date_to=2031-05-01")
    assert response.status_code == 200
    assert "The end date is before the start date." in response.content.decode()


def test_event_list_shows_distance_in_miles(client):
    EventFactory(title="Aurora canvass", latitude=39.7038, longitude=-104.8379)
    response = client.get("/events/?postal_code=80202&radius=25&unit=mi")
    assert "Aurora canvass" in response.content.decode()
    assert "8.9 miles away" in response.content.decode()


# --- event page and RSVP -------------------------------------------------------------------


def test_event_detail_hides_join_url_until_rsvp(client):
    event = EventFactory(location_mode="virtual", join_url="https://meet.example.org/secret")
    assert "meet.example.org/secret" not in client.get(event.get_absolute_url()).content.decode()
    person = person_with_email()
    user = UserFactory(person=person)
    rsvp_create(event=event, person=person)
    client.force_login(user)
    assert "meet.example.org/secret" in client.get(event.get_absolute_url()).content.decode()


def test_event_detail_private_event_is_404_for_strangers(client):
    event = EventFactory(visibility="private")
    assert client.get(event.get_absolute_url()).status_code == 404
    assert client.get(f"{event.get_absolute_url()}event.ics").status_code == 404


def test_rsvp_post_creates_rsvp_and_emails_the_confirmation_link(client):
    event = EventFactory(title="Canvass", instructions="Meet at the blue door.")
    response = client.post(
        f"{event.get_absolute_url()}rsvp/",
        {"given_name": "Ana", "email": "ana@example.org", "guests": "1"},
    )
    rsvp = Rsvp.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/events/{event.uuid}/rsvp/sent/"
    sent = client.get(response["Location"]).content.decode()
    assert "Check your email" in sent
    assert str(rsvp.uuid) not in sent
    assert mail.outbox[0].to == ["ana@example.org"]
    page = client.get(emailed_link(mail.outbox[0].body, "rsvp_done")).content.decode()
    assert "You're going, Ana!" in page
    assert "Meet at the blue door." in page
    assert "Bring a friend" in page
    assert f"ref={rsvp.person.share_code}" in page
    assert mail.outbox[0].subject == "You're going: Canvass"


def test_rsvp_post_bad_email_keeps_input_and_saves_nothing(client):
    event = EventFactory()
    response = client.post(
        f"{event.get_absolute_url()}rsvp/",
        {"given_name": "Ana", "email": "ana@", "comment": "see you"},
    )
    assert response.status_code == 400
    body = response.content.decode()
    assert "That email address doesn&#x27;t look right" in body
    assert 'value="Ana"' in body
    assert Rsvp.objects.count() == 0
    assert Person.objects.count() == 0


def test_rsvp_post_to_full_event_without_waitlist_says_full(client):
    event = EventFactory(capacity=1, waitlist_enabled=False)
    add_rsvps(event, 1)
    response = client.post(
        f"{event.get_absolute_url()}rsvp/", {"given_name": "Late", "email": "late@example.org"}
    )
    assert response.status_code == 400
    assert "Sorry, this event is full." in response.content.decode()
    assert Rsvp.objects.count() == 1


def test_rsvp_post_honeypot_stores_nothing(client):
    event = EventFactory()
    client.post(
        f"{event.get_absolute_url()}rsvp/",
        {"given_name": "Bot", "email": "bot@example.org", "website": "http://spam"},
    )
    assert Rsvp.objects.count() == 0


def test_rsvp_cancel_link_from_the_email_cancels(client):
    event = EventFactory()
    rsvp = add_rsvps(event, 1)[0]
    link = emailed_link(mail.outbox[0].body, "rsvp_cancel")
    assert "Cancel my RSVP" in client.get(link).content.decode()
    response = client.post(link)
    assert response.status_code == 302
    assert response["Location"] == event.get_absolute_url()
    rsvp.refresh_from_db()
    event.refresh_from_db()
    assert (rsvp.status, event.seats_taken) == ("cancelled", 0)


def test_rsvp_cancel_form_posts_its_signature(client):
    rsvp = add_rsvps(EventFactory(), 1)[0]
    path = urlsplit(emailed_link(mail.outbox[0].body, "rsvp_cancel")).path
    form = client.get(emailed_link(mail.outbox[0].body, "rsvp_cancel")).content.decode()
    token = form.split('name="t" value="')[1].split('"')[0]
    assert client.post(path, {"t": token}).status_code == 302
    rsvp.refresh_from_db()
    assert rsvp.status == "cancelled"


def test_event_ics_download_parses(client):
    event = EventFactory(title="Rally")
    response = client.get(f"{event.get_absolute_url()}event.ics")
    assert response["Content-Type"] == "text/calendar; charset=utf-8"
    cal = icalendar.Calendar.from_ical(response.content)
    assert [str(v["SUMMARY"]) for v in cal.walk("VEVENT")] == ["Rally"]


def test_campaign_feed_lists_campaign_events_only(client):
    campaign = Campaign.objects.create(name="Win", slug="win", status="live")
    EventFactory(title="Ours", campaign=campaign)
    EventFactory(title="Other")
    cal = icalendar.Calendar.from_ical(client.get("/events/campaign/win.ics").content)
    assert [str(v["SUMMARY"]) for v in cal.walk("VEVENT")] == ["Ours"]


# --- hosting -------------------------------------------------------------------------------


def test_event_create_anonymous_goes_to_login(client):
    response = client.get("/events/new/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_event_create_by_supporter_makes_them_host(client):
    user = UserFactory()
    client.force_login(user)
    response = client.post("/events/new/", create_form())
    event = Event.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/events/{event.uuid}/manage/"
    user.refresh_from_db()
    assert list(event.hosts.values_list("person_id", flat=True)) == [user.person_id]
    assert (event.timezone, event.local_start.hour, event.reminder_minutes) == (
        "America/Denver",
        18,
        [1440, 120],
    )


def test_event_create_in_the_past_is_refused(client):
    client.force_login(UserFactory())
    yesterday = (timezone.now() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = client.post("/events/new/", create_form(starts_at=yesterday))
    assert response.status_code == 400
    assert "That time has already passed. Pick a time in the future." in response.content.decode()
    assert Event.objects.count() == 0


def test_event_create_end_before_start_is_refused(client):
    client.force_login(UserFactory())
    response = client.post("/events/new/", create_form(ends_at=local_input(hour=17)))
    assert response.status_code == 400
    assert "The end has to be after the start." in response.content.decode()
    assert Event.objects.count() == 0


def test_event_create_unknown_postal_code_is_refused(client):
    client.force_login(UserFactory())
    response = client.post(
        "/events/new/", create_form(postal_code="00000", timezone="America/Denver")
    )
    assert response.status_code == 400
    assert "We don&#x27;t know the postal code “00000”" in response.content.decode()
    assert Event.objects.count() == 0


def test_event_create_bad_reminder_is_refused(client):
    client.force_login(UserFactory())
    response = client.post("/events/new/", create_form(reminders=["soon"]))
    assert response.status_code == 400
    assert "Select a valid choice. soon is not one of the available choices." in (
        response.content.decode()
    )
    assert Event.objects.count() == 0


def test_supporter_host_form_offers_reminders_as_choices_and_hides_organizer_fields(client):
    client.force_login(UserFactory())
    page = client.get("/events/new/").content.decode()
    assert 'type="checkbox" name="reminders" value="1440"' in page
    assert "1 day before" in page and "2 hours before" in page
    for hidden in ('name="status"', 'name="latitude"', 'name="longitude"', "decimals for minutes"):
        assert hidden not in page
    response = client.post("/events/new/", create_form(status="tentative", latitude="1"))
    event = Event.objects.get()
    assert response.status_code == 302
    assert (event.status, event.reminder_minutes) == ("confirmed", [1440, 120])


def test_supporter_editing_keeps_what_an_organizer_set(client):
    client, event, _ = host_client(client, status="tentative", latitude=39.7, longitude=-105.0)
    form = create_form(title="Renamed")
    response = client.post(f"/events/{event.uuid}/edit/", form)
    assert response.status_code == 302, response.content.decode()[:2000]
    event.refresh_from_db()
    assert (event.title, event.status, event.latitude) == ("Renamed", "tentative", 39.7)


def test_organizer_host_form_has_status_and_map_pin(organizer_client):
    page = organizer_client.get("/events/new/").content.decode()
    assert 'name="status"' in page and 'name="latitude"' in page


@pytest.mark.parametrize("n", [1, 3])
def test_event_manage_query_count_same_for_1_and_3(client, django_assert_num_queries, n):
    client, event, _ = host_client(client)
    add_rsvps(event, n)
    with django_assert_num_queries(12):  # the event comes with its shifts and questions
        response = client.get(f"/events/{event.uuid}/manage/")
    assert response.status_code == 200
    assert len(response.context["going"]) == n


def test_event_manage_shows_contact_details_to_host(client):
    client, event, _ = host_client(client)
    add_rsvps(event, 1)
    body = client.get(f"/events/{event.uuid}/manage/").content.decode()
    assert f"r{event.pk}-0@example.org" in body


def test_event_manage_other_host_is_forbidden(client):
    _, mine, _ = host_client(client)
    other = EventHostFactory().event
    add_rsvps(other, 1)
    response = client.get(f"/events/{other.uuid}/manage/")
    assert response.status_code == 403
    assert f"r{other.pk}-0@example.org" not in response.content.decode()
    assert client.get(f"/events/{mine.uuid}/manage/").status_code == 200


def test_event_checkin_by_other_host_is_forbidden_and_unchanged(client):
    host_client(client)
    other = EventHostFactory().event
    rsvp = add_rsvps(other, 1)[0]
    response = client.post(f"/events/{other.uuid}/checkin/{rsvp.uuid}/", {"attended": "1"})
    assert response.status_code == 403
    rsvp.refresh_from_db()
    assert rsvp.attended is False
    assert Activity.objects.filter(kind="attend").count() == 0


def test_event_checkin_marks_attended(client):
    client, event, _ = host_client(client)
    rsvp = add_rsvps(event, 1)[0]
    response = client.post(f"/events/{event.uuid}/checkin/{rsvp.uuid}/", {"attended": "1"})
    assert response.status_code == 302
    rsvp.refresh_from_db()
    assert rsvp.attended is True
    assert Activity.objects.filter(kind="attend", person=rsvp.person).count() == 1


def test_event_checkin_search_finds_by_name(client):
    client, event, _ = host_client(client)
    rsvp_create(event=event, person_data=PersonData(email="z@example.org", given_name="Zelda"))
    rsvp_create(event=event, person_data=PersonData(email="y@example.org", given_name="Yusuf"))
    response = client.get(f"/events/{event.uuid}/checkin/?q=zel")
    assert [r.person.given_name for r in response.context["rsvps"]] == ["Zelda"]


def test_event_walk_in_needs_contact(client):
    client, event, _ = host_client(client)
    response = client.post(f"/events/{event.uuid}/checkin/walk-in/", {"given_name": "Wally"})
    assert response.status_code == 400
    assert "Enter an email address or a phone number." in response.content.decode()
    assert Rsvp.objects.count() == 0


def test_event_walk_in_adds_and_checks_in(client):
    client, event, _ = host_client(client)
    response = client.post(
        f"/events/{event.uuid}/checkin/walk-in/", {"given_name": "Wally", "email": "w@example.org"}
    )
    assert response.status_code == 302
    rsvp = Rsvp.objects.get()
    assert (rsvp.walk_in, rsvp.attended, rsvp.person.given_name) == (True, True, "Wally")


def test_event_message_emails_attendees(client):
    client, event, _ = host_client(client)
    add_rsvps(event, 2)
    mail.outbox.clear()
    response = client.post(
        f"/events/{event.uuid}/message/", {"subject": "Parking", "body": "Use the back lot."}
    )
    assert response.status_code == 302
    assert sorted(m.to[0] for m in mail.outbox) == [
        f"r{event.pk}-0@example.org",
        f"r{event.pk}-1@example.org",
    ]
    assert mail.outbox[0].subject == "Parking"


def test_event_message_by_stranger_is_forbidden_and_sends_nothing(client):
    client.force_login(UserFactory(person=person_with_email()))
    event = EventHostFactory().event
    add_rsvps(event, 1)
    mail.outbox.clear()
    response = client.post(f"/events/{event.uuid}/message/", {"subject": "Hi", "body": "Spam"})
    assert response.status_code == 403
    assert mail.outbox == []


def test_event_edit_capacity_below_rsvps_is_refused_and_unchanged(client):
    client, event, _ = host_client(client, capacity=10)
    add_rsvps(event, 3)
    event.refresh_from_db()
    form = create_form(
        title=event.title,
        starts_at=event.local_start.strftime("%Y-%m-%dT%H:%M"),
        ends_at=event.local_end.strftime("%Y-%m-%dT%H:%M"),
        timezone=event.timezone,
        capacity="2",
    )
    response = client.post(f"/events/{event.uuid}/edit/", form)
    assert response.status_code == 400
    assert "can&#x27;t be lower than 3" in response.content.decode()
    event.refresh_from_db()
    assert event.capacity == 10


def test_event_cancel_view_cancels_and_tells_attendees(client):
    client, event, _ = host_client(client)
    add_rsvps(event, 1)
    mail.outbox.clear()
    response = client.post(f"/events/{event.uuid}/cancel/", {"reason": "Rain"})
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.status == "cancelled"
    assert [m.subject for m in mail.outbox] == [f"Cancelled: {event.title}"]


def test_event_duplicate_view_in_the_past_is_refused(client):
    client, event, _ = host_client(client)
    yesterday = (timezone.now() - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(f"/events/{event.uuid}/duplicate/", {"starts_at": yesterday})
    assert response.status_code == 200
    assert "That time has already passed." in response.content.decode()
    assert Event.objects.count() == 1


# --- organizers ----------------------------------------------------------------------------


def test_organize_events_forbidden_for_supporter(supporter_client):
    assert supporter_client.get("/events/organize/").status_code == 403


def test_organize_review_approves(organizer_client):
    event = EventHostFactory(event__approval=Approval.PENDING).event
    response = organizer_client.post(
        f"/events/organize/{event.uuid}/review/", {"decision": "approve"}
    )
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.approval == "approved"


def test_organize_review_by_supporter_is_forbidden_and_unchanged(supporter_client):
    event = EventFactory(approval=Approval.PENDING)
    response = supporter_client.post(
        f"/events/organize/{event.uuid}/review/", {"decision": "approve"}
    )
    assert response.status_code == 403
    event.refresh_from_db()
    assert event.approval == "pending"


@pytest.mark.parametrize("n", [1, 3])
def test_organize_events_query_count_same_for_1_and_3(
    organizer_client, django_assert_num_queries, n
):
    for _ in range(n):
        EventHostFactory()
    with django_assert_num_queries(9):  # + the campaigns' days of action
        response = organizer_client.get("/events/organize/")
    assert response.status_code == 200


def test_event_list_map_only_with_tile_server(client, settings):
    EventFactory(title="Aurora canvass", latitude=39.7038, longitude=-104.8379)
    url = "/events/?postal_code=80202"
    assert "leaflet" not in client.get(url).content.decode()
    settings.EVENT_MAP_TILE_URL = "https://tiles.example.org/{z}/{x}/{y}.png"
    body = client.get(url).content.decode()
    assert '<div id="event-map"' in body
    assert "/static/events/leaflet/leaflet.js" in body
    assert '"title": "Aurora canvass"' in body


# --- nobody reaches someone else's RSVP ----------------------------------------------------


def test_rsvp_with_someone_elses_email_shows_nothing_of_theirs(client):
    event = EventFactory(title="Canvass", instructions="Door code 4512.")
    victim = person_with_email("victim@example.org", given_name="Victoria")
    theirs = rsvp_create(event=event, person=victim, comment="Bringing my kids")
    mail.outbox.clear()
    response = client.post(
        f"{event.get_absolute_url()}rsvp/",
        {"given_name": "Mallory", "email": "victim@example.org", "comment": "changed"},
    )
    assert response.status_code == 302
    assert response["Location"] == f"/events/{event.uuid}/rsvp/sent/"
    page = client.get(response["Location"], follow=True).content.decode()
    for secret in (str(theirs.uuid), "Victoria", victim.share_code, "Door code", "/cancel/"):
        assert secret not in page
    theirs.refresh_from_db()
    assert (theirs.status, theirs.comment, Rsvp.objects.count()) == (
        "accepted",
        "Bringing my kids",
        1,
    )
    # The address's owner gets their links again; whoever typed it sees none of them.
    assert [(m.to, m.subject) for m in mail.outbox] == [
        (["victim@example.org"], "Your RSVP: Canvass")
    ]
    assert emailed_link(mail.outbox[0].body, "rsvp_cancel").startswith(
        f"/events/rsvp/{theirs.uuid}/cancel/?t="
    )


def test_rsvp_with_someone_elses_email_twice_in_an_hour_emails_them_once(client):
    event = EventFactory()
    victim = person_with_email("victim@example.org")
    rsvp_create(event=event, person=victim)
    mail.outbox.clear()
    for _ in range(3):
        client.post(
            f"{event.get_absolute_url()}rsvp/", {"given_name": "M", "email": "victim@example.org"}
        )
    assert len(mail.outbox) == 1


def test_rsvp_page_without_its_signature_is_refused(client):
    event = EventFactory(instructions="Door code 4512.")
    rsvp = rsvp_create(event=event, person=person_with_email(given_name="Victoria"))
    response = client.get(f"/events/rsvp/{rsvp.uuid}/")
    assert response.status_code == 403
    body = response.content.decode()
    assert "This link doesn't work" in body
    assert "Victoria" not in body and "Door code" not in body and event.title not in body


@pytest.mark.parametrize("method", ["get", "post"])
@pytest.mark.parametrize("token", [None, "", "nonsense", "1xYp9g:AAAA", "a\x00b", "é" * 300])
def test_rsvp_cancel_without_a_valid_signature_changes_nothing(client, method, token):
    event = EventFactory(capacity=1)
    rsvp = rsvp_create(event=event, person=person_with_email())
    waiting = rsvp_create(event=event, person=person_with_email())
    query = "" if token is None else f"?{urlencode({'t': token})}"
    response = getattr(client, method)(f"/events/rsvp/{rsvp.uuid}/cancel/{query}")
    assert response.status_code == 403
    assert "Nothing was changed." in response.content.decode()
    rsvp.refresh_from_db()
    waiting.refresh_from_db()
    event.refresh_from_db()
    assert (rsvp.status, waiting.status, event.seats_taken) == ("accepted", "waitlisted", 1)


def test_rsvp_cancel_with_another_rsvps_signature_changes_nothing(client):
    event = EventFactory()
    mine = rsvp_create(event=event, person=person_with_email())
    theirs = rsvp_create(event=event, person=person_with_email())
    response = client.post(f"/events/rsvp/{theirs.uuid}/cancel/", {"t": rsvp_token(mine)})
    assert response.status_code == 403
    theirs.refresh_from_db()
    assert theirs.status == "accepted"


def test_rsvp_cancel_of_an_unknown_rsvp_says_the_same(client):
    response = client.post(f"/events/rsvp/{uuid.uuid4()}/cancel/", {"t": "x"})
    assert response.status_code == 403
    assert "Nothing was changed." in response.content.decode()


def test_rsvp_private_pages_send_no_referrer_to_other_sites(client):
    rsvp = add_rsvps(EventFactory(), 1)[0]
    for name in ("rsvp_done", "rsvp_cancel"):
        response = client.get(emailed_link(mail.outbox[0].body, name))
        # Only this site sees where a click came from (its own forms need the Origin).
        assert (response.status_code, response["Referrer-Policy"]) == (200, "same-origin")
    assert rsvp.status == "accepted"


def test_rsvp_by_logged_in_person_goes_to_their_own_page_with_signed_links(client):
    event = EventFactory(title="Canvass")
    person = person_with_email("ana@example.org", given_name="Ana")
    client.force_login(UserFactory(person=person, email="ana@example.org"))
    response = client.post(
        f"{event.get_absolute_url()}rsvp/", {"given_name": "Ana", "email": "ana@example.org"}
    )
    rsvp = Rsvp.objects.get()
    # The links are signed with a timestamp: check each one's token, not its exact text.
    location = urlsplit(response["Location"])
    assert location.path == f"/events/rsvp/{rsvp.uuid}/"
    assert rsvp_token_valid(rsvp, parse_qs(location.query)["t"][0])
    page = client.get(response["Location"]).content.decode()
    assert "You're going, Ana!" in page
    cancel_link = re.compile(rf'href="(/events/rsvp/{rsvp.uuid}/cancel/\?t=([^"]+))"')
    found = cancel_link.search(page)
    assert found and rsvp_token_valid(rsvp, unquote(found.group(2)))
    detail = client.get(event.get_absolute_url()).content.decode()
    assert cancel_link.search(detail)
    cancel = found.group(1)
    assert client.post(cancel).status_code == 302
    rsvp.refresh_from_db()
    assert rsvp.status == "cancelled"


def test_rsvp_link_from_the_email_works_after_logging_out(client):
    add_rsvps(EventFactory(), 1)
    link = emailed_link(mail.outbox[0].body, "rsvp_done")
    client.logout()
    assert client.get(link).status_code == 200


# --- links are web addresses ---------------------------------------------------------------


@pytest.mark.parametrize(
    "join_url",
    ["javascript:alert(document.cookie)", "ftp://files.example.org/x", "data:text/html,hi"],
)
def test_event_create_with_a_non_web_join_link_is_refused(client, join_url):
    client.force_login(UserFactory())
    response = client.post(
        "/events/new/", create_form(location_mode="virtual", join_url=join_url, postal_code="")
    )
    assert response.status_code == 400
    assert "starting with https:// or http://" in response.content.decode()
    assert Event.objects.count() == 0


def test_event_edit_to_a_non_web_join_link_is_refused_and_unchanged(client):
    client, event, _ = host_client(client, location_mode="hybrid", join_url="https://meet.x/a")
    form = {**create_form(), "location_mode": "hybrid", "join_url": "ftp://files.example.org/"}
    response = client.post(f"/events/{event.uuid}/edit/", form)
    assert response.status_code == 400
    event.refresh_from_db()
    assert event.join_url == "https://meet.x/a"


def test_stored_non_web_join_link_is_never_rendered(client):
    event = EventFactory(location_mode="virtual", join_url="javascript:alert(1)")
    person = person_with_email()
    client.force_login(UserFactory(person=person))
    rsvp = rsvp_create(event=event, person=person)
    pages = [
        client.get(event.get_absolute_url()),
        client.get(f"/events/rsvp/{rsvp.uuid}/?t={quote(rsvp_token(rsvp))}"),
        client.get(f"{event.get_absolute_url()}event.ics"),
    ]
    assert [p.status_code for p in pages] == [200, 200, 200]
    for page in pages:
        assert "javascript:" not in page.content.decode()
    assert "javascript:" not in mail.outbox[0].body
    assert "the host will share the link" in pages[0].content.decode()


# --- organizer redirects stay on the site --------------------------------------------------


@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example/phish",
        "//evil.example/phish",
        "/\\evil.example",
        "javascript:alert(1)",
        "events:list",
    ],
)
def test_organize_review_off_site_next_goes_to_the_organize_page(organizer_client, next_url):
    event = EventHostFactory(event__approval=Approval.PENDING).event
    response = organizer_client.post(
        f"/events/organize/{event.uuid}/review/", {"decision": "approve", "next": next_url}
    )
    assert (response.status_code, response["Location"]) == (302, "/events/organize/")
    event.refresh_from_db()
    assert event.approval == "approved"


def test_organize_review_same_site_next_is_kept(organizer_client):
    event = EventHostFactory(event__approval=Approval.PENDING).event
    response = organizer_client.post(
        f"/events/organize/{event.uuid}/review/",
        {"decision": "reject", "next": "/events/organize/?approval=pending&page=2"},
    )
    assert response["Location"] == "/events/organize/?approval=pending&page=2"


def test_event_card_badge_shows_the_events_own_day_in_any_server_zone(client, settings):
    # 7:30 PM in New York on Dec 3 is already Dec 4 in UTC (the server's zone here) and in
    # Tokyo: the badge must say Dec 3, like the text beside it.
    from zoneinfo import ZoneInfo

    from django.utils import timezone as tz

    start = timezone.now().astimezone(ZoneInfo("America/New_York")).replace(
        hour=19, minute=30, second=0, microsecond=0
    ) + timedelta(days=10)
    event = EventFactory(
        title="Fundraiser dinner",
        timezone="America/New_York",
        starts_at=start,
        ends_at=start + timedelta(hours=2),
    )
    for zone in ("UTC", "Asia/Tokyo"):
        with tz.override(ZoneInfo(zone)):
            html = client.get("/events/").content.decode()
        badge = re.search(r'class="event-date"[^>]*><span>(\w+)</span><strong>(\d+)</strong>', html)
        assert badge, html
        assert (badge.group(1), int(badge.group(2))) == (f"{start:%b}", start.day), zone
        assert f"{start:%b} {start.day}," in html
    assert event.local_start.day == start.day


def test_event_list_search_by_postal_code_shows_the_radius_it_applies(client):
    html = client.get("/events/?postal_code=10001").content.decode()
    selected = re.search(r'<select name="radius"[^>]*>.*?</select>', html, re.S).group(0)
    assert re.search(r'<option value="25" selected>', selected), selected
    unit = re.search(r'<select name="unit"[^>]*>.*?</select>', html, re.S).group(0)
    assert re.search(r'<option value="mi" selected>', unit), unit


def test_event_page_remembers_the_visitors_own_new_rsvp(client):
    event = EventFactory(address_line="12 Main St")
    client.post(f"{event.get_absolute_url()}rsvp/", {"given_name": "Ana", "email": "ana@x.org"})
    page = client.get(event.get_absolute_url()).content.decode()
    assert "You&#x27;re going!" in page or "You're going!" in page
    assert "12 Main St" in page
    assert "Can&#x27;t make it?" in page or "Can't make it?" in page
    assert "The exact address is shown after you RSVP" not in page
    assert 'action="' + f"{event.get_absolute_url()}rsvp/" + '"' not in page


def test_event_page_does_not_show_an_rsvp_the_typed_address_already_had(client):
    event = EventFactory(address_line="12 Main St")
    rsvp_create(event=event, person_data=PersonData(email="vera@x.org", given_name="Vera"))
    client.post(f"{event.get_absolute_url()}rsvp/", {"given_name": "Mal", "email": "vera@x.org"})
    page = client.get(event.get_absolute_url()).content.decode()
    assert "12 Main St" not in page
    assert "The exact address is shown after you RSVP" in page


def test_event_page_knows_a_supporter_from_their_dashboard_link(client):
    from rallypoint.people.referral import OWN_CODE_SESSION_KEY

    event = EventFactory(address_line="12 Main St")
    rsvp_create(event=event, person_data=PersonData(email="dana@x.org", given_name="Dana"))
    person = Person.objects.get()
    session = client.session
    session[OWN_CODE_SESSION_KEY] = person.share_code
    session.save()
    page = client.get(event.get_absolute_url()).content.decode()
    assert "12 Main St" in page
    assert "You&#x27;re going!" in page or "You're going!" in page


def test_a_supporter_hosts_with_their_dashboard_link_and_no_password(client):
    from rallypoint.ledger.dashboard import dashboard_token

    person = person_with_email("dana@example.org", given_name="Dana")
    assert client.get(f"/me/link/{dashboard_token(person)}/").status_code == 302
    assert client.get("/events/new/").status_code == 200
    response = client.post("/events/new/", create_form())
    event = Event.objects.get()
    assert response["Location"] == f"/events/{event.uuid}/manage/"
    assert list(event.hosts.values_list("person_id", flat=True)) == [person.pk]
    manage = client.get(f"/events/{event.uuid}/manage/")
    assert manage.status_code == 200
    assert client.get(f"/events/{event.uuid}/edit/").status_code == 200
    assert event.title in client.get("/events/mine/").content.decode()


def test_a_dashboard_link_does_not_manage_someone_elses_event(client):
    from rallypoint.ledger.dashboard import dashboard_token

    event = EventHostFactory().event
    person = person_with_email("dana@example.org", given_name="Dana")
    client.get(f"/me/link/{dashboard_token(person)}/")
    assert client.get(f"/events/{event.uuid}/manage/").status_code == 403


def test_hosting_without_a_login_says_why_and_offers_a_link_by_email(client):
    response = client.get("/events/new/")
    assert response.status_code == 302
    page = client.get(response["Location"]).content.decode()
    assert "Hosts see the names and contact details of the people who come" in page
    assert 'action="/me/email-link/"' in page
    assert 'name="next" value="/events/new/"' in page


def test_the_emailed_link_brings_a_would_be_host_back_to_the_host_form(client):
    person = person_with_email("dana@example.org", given_name="Dana")
    client.post("/me/email-link/", {"email": "dana@example.org", "next": "/events/new/"})
    link = re.search(r"https?://[^/\s]+(/me/link/[^\s]+/)", mail.outbox[-1].body).group(1)
    response = client.get(link)
    assert response["Location"] == "/events/new/"
    assert client.get("/events/new/").status_code == 200
    assert person.pk


def test_printable_sign_in_sheet_lists_who_is_going_with_blank_lines(client):
    client, event, _ = host_client(client)
    rsvp_create(event=event, person_data=PersonData(email="zed@x.org", given_name="Zed"))
    rsvp_create(event=event, person_data=PersonData(email="amy@x.org", given_name="Amy"))
    page = client.get(f"/events/{event.uuid}/sign-in-sheet/").content.decode()
    assert page.index("Amy") < page.index("Zed")
    assert "zed@x.org" in page
    assert page.count('class="blank"') == 15
    assert "window.print()" in page


def test_sign_in_sheet_is_for_hosts_only(client):
    event = EventHostFactory().event
    client.force_login(UserFactory())
    assert client.get(f"/events/{event.uuid}/sign-in-sheet/").status_code == 403
