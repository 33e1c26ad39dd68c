"""Real clients against a live server: the Action Network connector of `parsons` (only its base
URL and token changed) and a plain client that follows `next` links."""

from datetime import timedelta

import pytest
import requests
from django.utils import timezone

from rallypoint.api.models import Scope
from rallypoint.api.services import apikey_create
from rallypoint.events.models import Rsvp
from rallypoint.people.models import Person

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture
def token(organizer):
    return apikey_create(name="parsons", scope=Scope.READ_WRITE, actor=organizer)[1]


@pytest.fixture
def action_network(live_server, token, monkeypatch):
    from parsons.action_network import action_network as module

    monkeypatch.setattr(module, "API_URL", f"{live_server.url}/api/v1")
    return module.ActionNetwork(api_token=token)


def an_id(record: dict) -> str:
    """How parsons' callers read an id: the action_network identifier."""
    return next(i.split(":")[1] for i in record["identifiers"] if i.startswith("action_network:"))


def test_parsons_people_tags_and_taggings(action_network):
    created = action_network.upsert_person(
        email_address="ana@example.org",
        given_name="Ana",
        family_name="Diaz",
        postal_addresses=[{"postal_code": "80202"}],
        tags=["volunteer"],
        team="north",
    )
    assert created["created_date"] == created["modified_date"]
    person_id = an_id(created)
    updated = action_network.upsert_person(
        email_address=[{"address": "ana@example.org"}], mobile_number="+1 202 555 0123"
    )
    assert an_id(updated) == person_id
    assert Person.objects.count() == 1
    person = Person.objects.get()
    assert person.custom_fields == {"team": "north"}
    assert list(person.phone_numbers.values_list("number", flat=True)) == ["+12025550123"]

    people = action_network.get_people()
    assert people.num_rows == 1
    assert people[0]["given_name"] == "Ana"
    assert action_network.get_person(person_id)["family_name"] == "Diaz"
    filtered = action_network.get_people(filter="email_address eq 'ana@example.org'")
    assert filtered.num_rows == 1

    tag = action_network.add_tag("donor")
    tag_id = an_id(tag)
    assert sorted(row["name"] for row in action_network.get_tags()) == ["donor", "volunteer"]
    assert action_network.get_tag(tag_id)["name"] == "donor"
    href = f"https://actionnetwork.org/api/v2/people/{person_id}"
    tagging = action_network.create_tagging(tag_id, {"_links": {"osdi:person": {"href": href}}})
    tagging_id = tagging["_links"]["self"]["href"].split("/")[-1]
    assert action_network.get_taggings(tag_id).num_rows == 1
    assert action_network.get_tagging(tag_id, tagging_id)["item_type"] == "osdi:person"
    assert action_network.delete_tagging(tag_id, tagging_id) == 204
    assert action_network.get_taggings(tag_id).num_rows == 0
    assert sorted(person.taggings.values_list("tag__name", flat=True)) == ["volunteer"]


def test_parsons_events_and_attendances(action_network, live_server, token):
    start = (timezone.now() + timedelta(days=7)).replace(microsecond=0, second=0)
    event = action_network.create_event(
        "Canvass kickoff",
        start_date=start.strftime("%Y-%m-%d %H:%M:%S"),
        location={"venue": "Union Hall", "postal_code": "80202", "country": "US"},
    )
    event_id = event["event_id"]
    assert [row["title"] for row in action_network.get_events()] == ["Canvass kickoff"]
    assert action_network.get_event(event_id)["location"]["venue"] == "Union Hall"
    # parsons' create_attendance sends its payload as query parameters (no body), so an RSVP
    # is recorded the way an embedded form or any OSDI client does it.
    response = requests.post(
        f"{live_server.url}/api/v1/events/{event_id}/attendances",
        json={"person": {"email_addresses": [{"address": "ana@example.org"}]}},
        headers={"OSDI-API-Token": token},
        timeout=10,
    )
    assert response.status_code == 201
    attendances = action_network.get_event_attendances(event_id)
    assert attendances.num_rows == 1
    assert attendances[0]["status"] == "accepted"
    person_id = Rsvp.objects.get().person.uuid
    assert action_network.get_person_attendances(str(person_id)).num_rows == 1


def test_parsons_petitions_forms_signatures_submissions(action_network, live_server, token):
    petition = action_network.create_petition(
        "Fund the library", "Keep it open", "We ask the council…", [{"name": "City Council"}]
    )
    petition_id = an_id(petition)
    assert [row["title"] for row in action_network.get_petitions()] == ["Fund the library"]
    signed = requests.post(
        f"{live_server.url}/api/v1/petitions/{petition_id}/signatures",
        json={"person": {"email_addresses": [{"address": "ana@example.org"}]}, "comments": "Yes"},
        headers={"OSDI-API-Token": token},
        timeout=10,
    )
    assert signed.status_code == 201
    signatures = action_network.get_petition_signatures(petition_id)
    assert [row["comments"] for row in signatures] == ["Yes"]
    assert action_network.get_petition(petition_id)["total_signatures"] == 1

    form = requests.post(
        f"{live_server.url}/api/v1/forms",
        json={"title": "Volunteer sign-up"},
        headers={"OSDI-API-Token": token},
        timeout=10,
    ).json()
    form_id = an_id(form)
    person_id = an_id(action_network.get_people()[0])
    submission = action_network.create_submission(form_id, person_id)
    assert submission["_links"]["osdi:person"]["href"].endswith(person_id)
    assert action_network.get_form_submissions(form_id).num_rows == 1
    assert action_network.get_person_submissions(person_id).num_rows == 1
    assert action_network.get_form(form_id)["total_submissions"] == 1


def test_client_following_next_links(live_server, token):
    for n in range(7):
        requests.post(
            f"{live_server.url}/api/v1/people/",
            json={"person": {"email_addresses": [{"address": f"p{n}@example.org"}]}},
            headers={"OSDI-API-Token": token},
            timeout=10,
        ).raise_for_status()
    url, seen, pages = f"{live_server.url}/api/v1/people?per_page=3", [], 0
    while url:
        page = requests.get(url, headers={"OSDI-API-Token": token}, timeout=10).json()
        pages += 1
        seen += [p["email_addresses"][0]["address"] for p in page["_embedded"]["osdi:people"]]
        url = page["_links"].get("next", {}).get("href")
    assert pages == 3
    assert seen == [f"p{n}@example.org" for n in range(7)]
