"""Keyless helper posts (embedded forms: anyone at all) take the Join page's fields only; a key
keeps the whole OSDI document."""

import pytest

from rallypoint.actions.models import Submission
from rallypoint.events.models import Rsvp
from rallypoint.ledger.models import Activity
from rallypoint.people.models import Person, Tag
from tests.factories import (
    EmailAddressFactory,
    PersonFactory,
    PhoneNumberFactory,
    TagFactory,
    TaggingFactory,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def victim():
    person = PersonFactory(given_name="Vera", family_name="Lind", custom_fields={"team": "north"})
    EmailAddressFactory(person=person, address="vera@example.org", status="unsubscribed")
    PhoneNumberFactory(person=person, number="+12025550100")
    TaggingFactory(person=person, tag=TagFactory(name="staff"))
    return person


def record(person):
    person = Person.objects.get(pk=person.pk)
    return {
        "names": (person.given_name, person.family_name, person.additional_name),
        "custom_fields": person.custom_fields,
        "identifiers": person.foreign_identifiers,
        "languages": person.languages_spoken,
        "source": person.source,
        "emails": list(person.email_addresses.values_list("address", "status")),
        "phones": list(person.phone_numbers.values_list("number", "sms_consent")),
        "addresses": list(person.postal_addresses.values_list("postal_code", "address_lines")),
        "tags": sorted(person.taggings.values_list("tag__name", flat=True)),
    }


def counts():
    return (
        Person.objects.count(),
        Tag.objects.count(),
        Activity.objects.count(),
        Submission.objects.count(),
        Rsvp.objects.count(),
    )


def refused_fields(response):
    assert response.status_code == 400
    return [e["field"] for e in response.json()["osdi:error"]["errors"]]


def test_keyless_signup_cannot_rewrite_a_record(anon_api, victim):
    before, numbers = record(victim), counts()
    response = anon_api.post(
        "people",
        {
            "person": {
                "given_name": "Mallory",
                "email_addresses": [{"address": "vera@example.org", "status": "subscribed"}],
                "custom_fields": {"team": "south"},
                "identifiers": ["crm:999"],
                "postal_addresses": [{"postal_code": "80202", "address_lines": ["1 Main St"]}],
                "languages_spoken": ["fr"],
            },
            "add_tags": ["mallory"],
            "remove_tags": ["staff"],
        },
    )
    assert refused_fields(response) == [
        "person.email_addresses[0].status",
        "person.custom_fields",
        "person.identifiers",
        "person.postal_addresses[0].address_lines",
        "person.languages_spoken",
        "add_tags",
        "remove_tags",
    ]
    assert response.json()["error"] == (
        "Without an API key only the sign-up fields are accepted; refused: "
        "person.email_addresses[0].status, person.custom_fields, person.identifiers, "
        "person.postal_addresses[0].address_lines, person.languages_spoken, add_tags, "
        "remove_tags."
    )
    assert record(victim) == before
    assert counts() == numbers


@pytest.mark.parametrize(
    "extra, field",
    [
        ({"person": {"additional_name": "Q"}}, "person.additional_name"),
        ({"person": {"honorific_prefix": "Dr"}}, "person.honorific_prefix"),
        ({"person": {"source": "import"}}, "person.source"),
        ({"person": {"email_addresses": [{"address_type": "work"}]}}, "address_type"),
        ({"person": {"phone_numbers": [{"number_type": "home"}]}}, "number_type"),
        ({"person": {"postal_addresses": [{"locality": "Denver"}]}}, "locality"),
        ({"person": {"postal_addresses": [{"region": "CO"}]}}, "region"),
        (
            {"person": {"postal_addresses": [{"location": {"latitude": 1, "longitude": 1}}]}},
            "location",
        ),
        ({"_links": {"osdi:person": {"href": "x"}}}, "_links"),
        ({"triggers": {"autoresponse": {"enabled": True}}}, "triggers"),
        ({"remove_tags": []}, "remove_tags"),
    ],
)
def test_keyless_signup_refuses_each_field_beyond_the_join_page(anon_api, victim, extra, field):
    person = {"given_name": "Vera", "email_addresses": [{"address": "new@example.org"}]}
    for name, value in extra.get("person", {}).items():
        if isinstance(value, list):
            person[name] = [{**(person.get(name) or [{}])[0], **value[0]}]
        else:
            person[name] = value
    body = {**{k: v for k, v in extra.items() if k != "person"}, "person": person}
    numbers = counts()
    fields = refused_fields(anon_api.post("people", body))
    assert len(fields) == 1
    assert fields[0].endswith(field)
    assert counts() == numbers


def test_keyless_signup_refuses_unsubscribing_a_phone(anon_api, victim):
    body = {"person": {"phone_numbers": [{"number": "+12025550100", "status": "unsubscribed"}]}}
    response = anon_api.post("people", body)
    assert refused_fields(response) == ["person.phone_numbers[0].status"]
    assert response.json()["osdi:error"]["errors"][0]["description"] == (
        'Without an API key this may only be "subscribed" (or left out).'
    )
    assert record(victim)["phones"] == [("+12025550100", False)]


def test_keyless_signup_takes_every_join_page_field(anon_api):
    sharer = PersonFactory()
    response = anon_api.post(
        "people",
        {
            "person": {
                "given_name": "Lee",
                "family_name": "Park",
                "email_addresses": [{"address": "lee@example.org", "primary": True}],
                "phone_numbers": [{"number": "12025550199", "status": "subscribed"}],
                "postal_addresses": [{"postal_code": "80202", "country": "US", "primary": True}],
            },
            "referrer_data": {
                "referrer": sharer.share_code,
                "source": "email",
                "url": "https://example.org/join",
                "website": "example.org",
            },
        },
    )
    assert (response.status_code, response.json()) == (200, {})
    lee = Person.objects.get(email_addresses__address_normalized="lee@example.org")
    assert record(lee) == {
        "names": ("Lee", "Park", ""),
        "custom_fields": {},
        "identifiers": [],
        "languages": [],
        "source": "",
        "emails": [("lee@example.org", "subscribed")],
        "phones": [("+12025550199", True)],
        "addresses": [("80202", [])],
        "tags": [],
    }
    assert Activity.objects.get(person=lee).referrer_id == sharer.pk


@pytest.mark.parametrize(
    "fields, refused",
    [
        ({"add_tags": "staff"}, ["add_tags"]),
        ({"remove_tags": "staff", "source": "x"}, ["remove_tags", "source"]),
        ({"custom_fields": "x"}, ["custom_fields"]),
    ],
)
def test_keyless_html_form_refuses_fields_beyond_the_join_page(anon_api, victim, fields, refused):
    numbers = counts()
    response = anon_api.client.post("/api/v1/people", {"email": "vera@example.org", **fields})
    assert refused_fields(response) == refused
    assert counts() == numbers
    assert record(victim)["tags"] == ["staff"]


@pytest.mark.parametrize("opt_in", ["true", "on"])
def test_keyless_html_form_takes_the_join_page_fields(anon_api, opt_in):
    response = anon_api.client.post(
        "/api/v1/people",
        {
            "email": "lee@example.org",
            "first_name": "Lee",
            "last_name": "Park",
            "phone": "+12025550199",
            "sms_opt_in": opt_in,
            "zip": "80202",
            "country": "us",
            "ref": "",
            "ch": "email",
        },
    )
    assert (response.status_code, response.json()) == (200, {})
    lee = Person.objects.get()
    assert record(lee)["names"] == ("Lee", "Park", "")
    assert record(lee)["phones"] == [("+12025550199", True)]


def test_keyless_signature_cannot_sign_for_a_linked_person_or_tag(anon_api, petition, victim):
    href = f"https://act.example.org/api/v1/people/{victim.uuid}"
    numbers = counts()
    response = anon_api.post(
        f"petitions/{petition.uuid}/signatures",
        {"_links": {"osdi:person": {"href": href}}, "add_tags": ["signer"]},
    )
    assert refused_fields(response) == ["_links", "add_tags"]
    assert counts() == numbers
    assert record(victim)["tags"] == ["staff"]


def test_keyless_signature_takes_a_comment(anon_api, petition):
    response = anon_api.post(
        f"petitions/{petition.uuid}/signatures",
        {"person": {"email_addresses": [{"address": "a@example.org"}]}, "comments": "Yes!"},
    )
    assert (response.status_code, response.json()) == (200, {})
    assert Submission.objects.get().comment == "Yes!"


def test_keyless_attendance_refuses_attended_tags_and_links(anon_api, event, victim):
    href = f"https://act.example.org/api/v1/people/{victim.uuid}"
    numbers = counts()
    response = anon_api.post(
        f"events/{event.uuid}/attendances",
        {"_links": {"osdi:person": {"href": href}}, "attended": True, "add_tags": ["host"]},
    )
    assert refused_fields(response) == ["_links", "attended", "add_tags"]
    assert counts() == numbers


def test_keyless_attendance_takes_comment_and_guests(anon_api, event):
    response = anon_api.post(
        f"events/{event.uuid}/attendances",
        {
            "person": {"email_addresses": [{"address": "a@example.org"}]},
            "comment": "Bringing snacks",
            "rallypoint:guests": 1,
        },
    )
    assert (response.status_code, response.json()) == (200, {})
    assert list(Rsvp.objects.values_list("comment", "guests")) == [("Bringing snacks", 1)]


def test_keyed_signup_keeps_the_whole_document_and_organizer_matching(api, victim):
    response = api.post(
        "people",
        {
            "person": {
                "given_name": "Veronica",
                "email_addresses": [{"address": "vera@example.org", "status": "subscribed"}],
                "custom_fields": {"team": "south"},
                "identifiers": ["crm:999"],
            },
            "add_tags": ["volunteer"],
            "remove_tags": ["staff"],
        },
    )
    assert response.status_code == 200
    after = record(victim)
    assert after["names"] == ("Veronica", "Lind", "")
    assert after["custom_fields"] == {"team": "south"}
    assert after["identifiers"] == ["crm:999"]
    assert after["emails"] == [("vera@example.org", "subscribed")]
    assert after["tags"] == ["volunteer"]
