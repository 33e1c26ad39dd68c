from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from rallypoint.api.models import Scope
from rallypoint.api.services import apikey_create
from rallypoint.core.concurrency import write_slots
from rallypoint.events.models import Event, Rsvp
from rallypoint.events.services import EventData, event_create, rsvp_create
from rallypoint.ledger.models import Activity, Recruitment
from rallypoint.people.models import Person
from rallypoint.people.services import PersonData
from tests.api.conftest import Api
from tests.events.factories import EventFactory
from tests.factories import EmailAddressFactory, PersonFactory

pytestmark = pytest.mark.django_db


def make_event(organizer, **extra):
    start = timezone.now().replace(microsecond=0) + timedelta(days=3)
    values = {
        "title": "Canvass kickoff",
        "starts_at": start,
        "ends_at": start + timedelta(hours=2),
        "postal_code": "80202",
        "venue": "Union Hall",
        **extra,
    }
    return event_create(data=EventData(**values), host=PersonFactory(), actor=organizer)


def rsvp_body(email, **extra):
    return {"person": {"email_addresses": [{"address": email}]}, **extra}


def test_events_list_shape(api, organizer):
    event = make_event(organizer, capacity=10)
    rsvp_create(event=event, person_data=PersonData(email="a@example.org"), notify_person=False)
    body = api.get("events").json()
    item = body["_embedded"]["osdi:events"][0]
    assert item["title"] == "Canvass kickoff"
    assert item["start_date"] == event.starts_at.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert item["timezone_identifier"] == "America/Denver"
    assert item["capacity"] == 10
    assert item["total_accepted"] == 1
    assert item["location"]["venue"] == "Union Hall"
    assert item["location"]["region"] == "CO"
    assert item["browser_url"] == f"http://127.0.0.1:8000/events/{event.uuid}/"
    assert item["_links"]["osdi:attendances"]["href"] == (
        f"http://testserver/api/v1/events/{event.uuid}/attendances"
    )


def test_events_list_query_count_is_flat(api, organizer, django_assert_num_queries):
    make_event(organizer)
    api.get("people")
    with django_assert_num_queries(3):
        assert api.get("events").json()["total_records"] == 1
    make_event(organizer), make_event(organizer)
    with django_assert_num_queries(3):
        assert api.get("events").json()["total_records"] == 3


def test_events_filter_by_start_date(api, organizer):
    soon = make_event(organizer, title="Soon")
    later = timezone.now().replace(microsecond=0) + timedelta(days=30)
    make_event(organizer, title="Later", starts_at=later, ends_at=later + timedelta(hours=1))
    cutoff = (soon.starts_at + timedelta(days=1)).strftime("%Y-%m-%d")
    body = api.get("events", {"filter": f"start_date gt '{cutoff}'"}).json()
    assert [e["title"] for e in body["_embedded"]["osdi:events"]] == ["Later"]


def test_event_create_with_local_time_and_default_end(api, organizer):
    start = (timezone.now() + timedelta(days=10)).strftime("%Y-%m-%d 18:00:00")
    response = api.post(
        "events",
        {
            "title": "House party",
            "start_date": start,
            "capacity": 20,
            "location": {"venue": "Ana's", "postal_code": "80202"},
        },
    )
    assert response.status_code == 201
    event = Event.objects.get()
    local = event.starts_at.astimezone(event.zone)
    assert (local.hour, event.timezone) == (18, "America/Denver")
    assert event.ends_at - event.starts_at == timedelta(hours=2)
    organizer.refresh_from_db()
    assert event.hosts.get().person == organizer.person
    assert organizer.person is not None
    assert response.json()["created_date"] == response.json()["modified_date"]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"title": "x"}, "start_date"),
        ({"title": "x", "start_date": "soon"}, "start_date"),
        (
            {
                "title": "x",
                "start_date": "2001-01-01T10:00:00Z",
                "location": {"postal_code": "80202"},
            },
            "start_date",
        ),
        ({"start_date": "2099-01-01T10:00:00Z", "location": {"postal_code": "80202"}}, "title"),
        ({"title": "x", "start_date": "2099-01-01T10:00:00Z"}, "location.postal_code"),
        ({"title": "x", "capacity": 0}, "capacity"),
        ({"title": "x", "timezone_identifier": "Mars/Olympus"}, "timezone_identifier"),
        ({"title": "x", "location": "Denver"}, "location"),
    ],
)
def test_event_create_bad_input_is_400(api, organizer, body, field):
    response = api.post("events", body)
    assert response.status_code == 400
    assert field in [e["field"] for e in response.json()["osdi:error"]["errors"]]
    assert Event.objects.count() == 0


def test_event_update_changes_title(api, organizer):
    event = make_event(organizer)
    response = api.put(f"events/{event.uuid}", {"title": "New title"})
    assert response.status_code == 200
    event.refresh_from_db()
    assert event.title == "New title"
    assert event.venue == "Union Hall"


def test_attendance_helper_records_rsvp_act_and_recruitment(api, organizer):
    event = make_event(organizer)
    recruiter = PersonFactory()
    response = api.post(
        f"events/{event.uuid}/attendances",
        rsvp_body(
            "new@example.org",
            comment="Bringing snacks",
            referrer_data={"referrer": recruiter.share_code, "source": "sms"},
        ),
    )
    assert response.status_code == 201
    person = Person.objects.get(email_addresses__address="new@example.org")
    rsvp = Rsvp.objects.get()
    assert (rsvp.person, rsvp.status, rsvp.comment, rsvp.source) == (
        person,
        "accepted",
        "Bringing snacks",
        "api",
    )
    act = Activity.objects.get(kind="rsvp")
    assert (act.person, act.referrer, act.channel) == (person, recruiter, "sms")
    assert Recruitment.objects.get().recruiter == recruiter
    body = response.json()
    assert body["status"] == "accepted"
    assert body["referrer_data"] == {"referrer": recruiter.share_code, "source": "sms"}
    again = api.post(f"events/{event.uuid}/attendances/", rsvp_body("new@example.org"))
    assert again.status_code == 200
    assert Rsvp.objects.count() == 1


def test_attendance_helper_respects_capacity(api, organizer):
    event = make_event(organizer, capacity=1, waitlist_enabled=False)
    assert (
        api.post(f"events/{event.uuid}/attendances", rsvp_body("a@example.org")).status_code == 201
    )
    full = api.post(f"events/{event.uuid}/attendances", rsvp_body("b@example.org"))
    assert full.status_code == 400
    assert full.json()["error"] == "Sorry, this event is full."
    assert Rsvp.objects.count() == 1
    event.refresh_from_db()
    assert event.seats_taken == 1


def test_attendance_helper_waitlists_when_full(api, organizer):
    event = make_event(organizer, capacity=1)
    api.post(f"events/{event.uuid}/attendances", rsvp_body("a@example.org"))
    response = api.post(f"events/{event.uuid}/attendances", rsvp_body("b@example.org"))
    assert response.status_code == 201
    assert response.json()["status"] == "needs action"
    assert response.json()["rallypoint:waitlisted"] is True
    assert Activity.objects.filter(kind="rsvp").count() == 1


def test_attendance_helper_keyless_and_linked_person(api, anon_api, organizer):
    event = make_event(organizer)
    keyless = anon_api.post(f"events/{event.uuid}/attendances", rsvp_body("a@example.org"))
    assert (keyless.status_code, keyless.json()) == (200, {})
    person = PersonFactory()
    EmailAddressFactory(person=person)
    href = f"https://elsewhere.example/api/v2/people/{person.uuid}"
    linked = api.post(
        f"events/{event.uuid}/attendances",
        {"_links": {"osdi:person": {"href": href}}, "add_tags": ["host-prospect"]},
    )
    assert linked.status_code == 201
    assert list(person.taggings.values_list("tag__name", flat=True)) == ["host-prospect"]
    assert sorted(Rsvp.objects.values_list("source", flat=True)) == ["api", "embed"]


def test_attendances_lists_and_query_counts(api, organizer, django_assert_num_queries):
    event = make_event(organizer)
    first = rsvp_create(
        event=event, person_data=PersonData(email="a@example.org"), notify_person=False
    )
    api.get("people")
    path = f"events/{event.uuid}/attendances"
    with django_assert_num_queries(4):  # key, event, count, page with people joined
        assert api.get(path).json()["total_records"] == 1
    for n in range(2):
        rsvp_create(
            event=event, person_data=PersonData(email=f"p{n}@example.org"), notify_person=False
        )
    with django_assert_num_queries(4):
        assert api.get(path).json()["total_records"] == 3
    one = api.get(f"{path}/{first.uuid}").json()
    assert one["_links"]["osdi:person"]["href"] == (
        f"http://testserver/api/v1/people/{first.person.uuid}"
    )
    mine = api.get(f"people/{first.person.uuid}/attendances").json()
    assert mine["total_records"] == 1


# --- events without an organizer link ------------------------------------------------------


def test_event_create_with_a_key_of_no_person_is_the_organisations(client, settings):
    settings.RALLYPOINT_BRAND = {**settings.RALLYPOINT_BRAND, "name": "Clean Air Now"}
    settings.EVENTS_REQUIRE_APPROVAL = True
    _, raw = apikey_create(name="made on the command line", scope=Scope.READ_WRITE)
    start = (timezone.now() + timedelta(days=10)).strftime("%Y-%m-%dT18:00:00")
    response = Api(client, raw).post(
        "events",
        {"title": "Town hall", "start_date": start, "location": {"postal_code": "80202"}},
    )
    assert response.status_code == 201
    event = Event.objects.get()
    assert (event.hosts.count(), event.contact_name, event.approval) == (
        0,
        "Clean Air Now",
        "approved",
    )
    assert response.json()["contact"] == {
        "name": "Clean Air Now",
        "email_address": "",
        "phone_number": "",
    }
    page = client.get(event.get_absolute_url()).content.decode()
    assert "Hosted by</strong><br>Clean Air Now" in page


def test_event_create_with_a_key_of_no_person_keeps_the_contact_it_is_given(client):
    _, raw = apikey_create(name="cli", scope=Scope.READ_WRITE)
    start = (timezone.now() + timedelta(days=10)).strftime("%Y-%m-%dT18:00:00")
    response = Api(client, raw).post(
        "events",
        {
            "title": "Town hall",
            "start_date": start,
            "location": {"postal_code": "80202"},
            "contact": {"name": "Field team", "email_address": "field@example.org"},
        },
    )
    assert response.status_code == 201
    event = Event.objects.get()
    assert (event.contact_name, event.contact_email) == ("Field team", "field@example.org")
    assert not event.hosts.exists()


def test_event_update_with_a_key_of_no_person_edits_the_organisations_event(client):
    _, raw = apikey_create(name="cli", scope=Scope.READ_WRITE)
    api = Api(client, raw)
    start = (timezone.now() + timedelta(days=10)).strftime("%Y-%m-%dT18:00:00")
    created = api.post(
        "events", {"title": "Town hall", "start_date": start, "location": {"postal_code": "80202"}}
    )
    event = Event.objects.get()
    response = api.put(f"events/{event.uuid}", {"title": "Town hall (moved)"})
    assert (created.status_code, response.status_code) == (201, 200)
    event.refresh_from_db()
    assert event.title == "Town hall (moved)"


def test_event_update_with_a_read_only_key_changes_nothing(client):
    _, raw = apikey_create(name="reader", scope=Scope.READ_ONLY)
    event = EventFactory(title="Town hall")
    response = Api(client, raw).put(f"events/{event.uuid}", {"title": "Taken over"})
    assert response.status_code == 403
    event.refresh_from_db()
    assert event.title == "Town hall"


# --- join links are web addresses ----------------------------------------------------------


@pytest.mark.parametrize(
    "join_url",
    [
        "javascript:alert(document.cookie)",
        "JavaScript:alert(1)",
        "java\tscript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "ftp://files.example.org/x",
        "https://" + "a" * 600 + ".example.org/",
    ],
)
def test_event_create_with_a_non_web_join_url_is_400_naming_it(api, organizer, join_url):
    start = (timezone.now() + timedelta(days=10)).strftime("%Y-%m-%dT18:00:00")
    response = api.post(
        "events",
        {
            "title": "Online",
            "start_date": start,
            "timezone_identifier": "America/Denver",
            "join_url": join_url,
        },
    )
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["osdi:error"]["errors"]] == ["join_url"]
    assert Event.objects.count() == 0


def test_event_update_to_a_javascript_join_url_is_400_and_unchanged(api, organizer):
    event = make_event(organizer, join_url="https://meet.example.org/a", location_mode="hybrid")
    response = api.put(f"events/{event.uuid}", {"join_url": "javascript:alert(1)"})
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["osdi:error"]["errors"]] == ["join_url"]
    event.refresh_from_db()
    assert event.join_url == "https://meet.example.org/a"


def test_event_with_a_stored_non_web_join_url_is_read_without_it(api, organizer):
    event = make_event(organizer, join_url="https://meet.example.org/a", location_mode="hybrid")
    Event.objects.filter(pk=event.pk).update(join_url="javascript:alert(1)")
    body = api.get(f"events/{event.uuid}").json()
    assert "join_url" not in body


def test_event_online_with_a_web_join_url_is_created(api, organizer):
    start = (timezone.now() + timedelta(days=10)).strftime("%Y-%m-%dT18:00:00")
    response = api.post(
        "events",
        {
            "title": "Online",
            "start_date": start,
            "timezone_identifier": "America/Denver",
            "join_url": "https://meet.example.org/a",
        },
    )
    assert response.status_code == 201
    assert response.json()["join_url"] == "https://meet.example.org/a"
    assert Event.objects.get().location_mode == "virtual"


# --- keyless attendance posts reveal nothing -----------------------------------------------


def test_attendance_helper_keyless_with_someone_elses_email_emails_only_them(
    anon_api, organizer, django_capture_on_commit_callbacks
):
    event = make_event(organizer)
    victim = PersonFactory(given_name="Victoria")
    EmailAddressFactory(person=victim, address="victim@example.org")
    theirs = rsvp_create(event=event, person=victim, comment="Bringing my kids")
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = anon_api.post(
            f"events/{event.uuid}/attendances", rsvp_body("victim@example.org")
        )
    assert (response.status_code, response.json()) == (200, {})
    theirs.refresh_from_db()
    assert (theirs.comment, Rsvp.objects.count()) == ("Bringing my kids", 1)
    assert [m.to for m in mail.outbox] == [["victim@example.org"]]


def test_attendance_helper_busy_answers_503_and_writes_nothing(api, organizer, settings):
    settings.WRITE_CONCURRENCY = 1
    settings.WRITE_WAIT_SECONDS = 0.05
    event = make_event(organizer)
    with write_slots():  # every write slot of this process is taken
        response = api.post(f"events/{event.uuid}/attendances", rsvp_body("late@example.org"))
    assert response.status_code == 503
    assert response["Retry-After"] == "10"
    assert Rsvp.objects.count() == 0
    assert not Person.objects.filter(email_addresses__address="late@example.org").exists()
    # With the slot free again the same request goes through.
    again = api.post(f"events/{event.uuid}/attendances", rsvp_body("late@example.org"))
    assert again.status_code == 201
