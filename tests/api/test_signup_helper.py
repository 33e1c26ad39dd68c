from datetime import UTC, datetime

import pytest

from rallypoint.people.models import EmailAddress, Person, PhoneNumber, Tag
from tests.factories import (
    EmailAddressFactory,
    PersonFactory,
    PhoneNumberFactory,
    TagFactory,
    TaggingFactory,
)

pytestmark = pytest.mark.django_db


def signup(api, person, **extra):
    return api.post("people", {"person": person, **extra})


def test_signup_creates_person_with_equal_dates(api):
    response = signup(
        api,
        {
            "given_name": "Ana",
            "family_name": "Diaz",
            "email_addresses": [{"address": "ana@example.org"}],
            "postal_addresses": [{"postal_code": "80202"}],
            "custom_fields": {"team": "north", "shifts": 3},
            "identifiers": ["crm:123"],
        },
        add_tags=["volunteer", "Volunteer"],
    )
    assert response.status_code == 201
    body = response.json()
    assert body["created_date"] == body["modified_date"]
    person = Person.objects.get()
    assert body["identifiers"] == [
        f"rallypoint:{person.uuid}",
        f"action_network:{person.uuid}",
        "crm:123",
    ]
    assert (person.given_name, person.family_name) == ("Ana", "Diaz")
    assert person.custom_fields == {"team": "north", "shifts": "3"}
    assert person.postal_addresses.get().region == "CO"
    assert list(person.taggings.values_list("tag__name", flat=True)) == ["volunteer"]
    assert person.email_addresses.get().status == "subscribed"


def test_signup_matches_by_email_and_keeps_other_addresses(api):
    person = PersonFactory(given_name="Ana", family_name="")
    EmailAddressFactory(person=person, address="ana@example.org", primary=True)
    EmailAddressFactory(person=person, address="ana@work.example", primary=False)
    PhoneNumberFactory(person=person, number="+12025550123")
    Person.objects.filter(pk=person.pk).update(created_at=datetime(2020, 1, 2, 3, 4, 5, tzinfo=UTC))
    response = signup(
        api,
        {"family_name": "Diaz", "email_addresses": [{"address": "ANA@example.org"}]},
    )
    assert response.status_code == 200
    body = response.json()
    assert body["created_date"] == "2020-01-02T03:04:05Z"
    assert body["modified_date"] != body["created_date"]
    assert Person.objects.count() == 1
    person.refresh_from_db()
    assert person.family_name == "Diaz"
    assert sorted(person.email_addresses.values_list("address", flat=True)) == [
        "ana@example.org",
        "ana@work.example",
    ]
    assert list(person.phone_numbers.values_list("number", flat=True)) == ["+12025550123"]
    assert [e["address"] for e in body["email_addresses"]] == [
        "ana@example.org",
        "ana@work.example",
    ]


def test_signup_matches_by_phone_when_email_is_new(api):
    person = PersonFactory()
    PhoneNumberFactory(person=person, number="+12025550123")
    response = signup(
        api,
        {
            "email_addresses": [{"address": "new@example.org"}],
            "phone_numbers": [{"number": "12025550123"}],
        },
    )
    assert response.status_code == 200
    assert Person.objects.count() == 1
    assert list(person.email_addresses.values_list("address", flat=True)) == ["new@example.org"]


def test_signup_keeps_email_status_unless_told(api):
    person = PersonFactory()
    EmailAddressFactory(person=person, address="ana@example.org", status="unsubscribed")
    signup(api, {"email_addresses": [{"address": "ana@example.org"}]})
    assert EmailAddress.objects.get().status == "unsubscribed"
    signup(api, {"email_addresses": [{"address": "ana@example.org", "status": "bouncing"}]})
    assert EmailAddress.objects.get().status == "unsubscribed"
    signup(api, {"email_addresses": [{"address": "ana@example.org", "status": "subscribed"}]})
    assert EmailAddress.objects.get().status == "subscribed"


def test_signup_new_person_can_start_unsubscribed(api):
    signup(api, {"email_addresses": [{"address": "ana@example.org", "status": "unsubscribed"}]})
    assert EmailAddress.objects.get().status == "unsubscribed"


def test_signup_phone_status_sets_sms_consent(api):
    signup(api, {"phone_numbers": [{"number": "12025550123", "status": "subscribed"}]})
    assert PhoneNumber.objects.get().sms_consent is True


def test_signup_uses_primary_email(api):
    signup(
        api,
        {
            "email_addresses": [
                {"address": "second@example.org"},
                {"address": "first@example.org", "primary": True},
            ]
        },
    )
    assert list(EmailAddress.objects.values_list("address", flat=True)) == ["first@example.org"]


def test_signup_remove_tags_removes_known_tags_only(api):
    person = PersonFactory()
    EmailAddressFactory(person=person, address="ana@example.org")
    TaggingFactory(person=person, tag=TagFactory(name="lapsed"))
    response = signup(
        api,
        {"email_addresses": [{"address": "ana@example.org"}]},
        add_tags=["active"],
        remove_tags=["Lapsed", "never-existed"],
    )
    assert response.status_code == 200
    assert list(person.taggings.values_list("tag__name", flat=True)) == ["active"]
    assert sorted(Tag.objects.values_list("name", flat=True)) == ["active", "lapsed"]


def test_signup_without_key_answers_empty_object(anon_api):
    response = signup(anon_api, {"email_addresses": [{"address": "ana@example.org"}]})
    assert response.status_code == 200
    assert response.json() == {}
    assert response["Access-Control-Allow-Origin"] == "*"
    assert Person.objects.get().email_addresses.get().address == "ana@example.org"


def test_signup_without_key_from_html_form(anon_api):
    response = anon_api.client.post(
        "/api/v1/people/",
        {"email": "ana@example.org", "given_name": "Ana", "postal_code": "80202"},
    )
    assert response.status_code == 200
    assert response.json() == {}
    person = Person.objects.get()
    assert person.given_name == "Ana"
    assert person.postal_addresses.get().postal_code == "80202"


@pytest.mark.parametrize(
    "body, field",
    [
        ({"person": {"email_addresses": [{"address": "not an email"}]}}, "email_addresses"),
        ({"person": {}}, "email_addresses"),
        ({"person": "ana@example.org"}, "person"),
        ({}, "person"),
        ({"person": {"email_addresses": "ana@example.org"}}, "person.email_addresses"),
        (
            {"person": {"email_addresses": [{"address": "a@b.org"}], "given_name": ["x"]}},
            "person.given_name",
        ),
        (
            {"person": {"email_addresses": [{"address": "a@b.org", "status": "maybe"}]}},
            "person.email_addresses[0].status",
        ),
        ({"person": {"email_addresses": [{"address": "a@b.org"}]}, "add_tags": "x"}, "add_tags"),
        (
            {"person": {"email_addresses": [{"address": "a@b.org"}], "given_name": "x" * 101}},
            "person.given_name",
        ),
        ({"person": {"phone_numbers": [{"number": "123"}]}}, "phone_numbers"),
        (
            {
                "person": {
                    "email_addresses": [{"address": "a@b.org"}],
                    "postal_addresses": [{"country": "USA"}],
                }
            },
            "person.postal_addresses[0].country",
        ),
        (
            {
                "person": {
                    "email_addresses": [{"address": "a@b.org"}],
                    "postal_addresses": [{"location": {"latitude": 91, "longitude": 0}}],
                }
            },
            "person.postal_addresses[0].location",
        ),
    ],
)
def test_signup_bad_input_is_400_naming_the_field(api, body, field):
    response = api.post("people", body)
    assert response.status_code == 400
    error = response.json()
    assert error["osdi:error"]["response_code"] == 400
    assert [e["field"] for e in error["osdi:error"]["errors"]][0] == field
    assert Person.objects.count() == 0


@pytest.mark.parametrize(
    "raw, message",
    [
        ("{not json", "The body is not valid JSON"),
        ("[1, 2]", "The body must be a JSON object"),
        ("[" * 100000 + "]" * 100000, "The JSON body is nested too deeply."),
        ('"just a string"', "The body must be a JSON object"),
    ],
)
def test_signup_malformed_body_is_400(api, raw, message):
    response = api.post("people", raw=raw)
    assert response.status_code == 400
    assert message in response.json()["error"]
    assert Person.objects.count() == 0


def test_signup_huge_body_is_413(api):
    response = api.post("people", raw='{"person": "' + "x" * (2 * 1024 * 1024) + '"}')
    assert response.status_code == 413
    assert response.json()["osdi:error"]["response_code"] == 413


def test_signup_liberal_about_content_type(api):
    response = api.post(
        "people",
        raw='{"person": {"email_addresses": [{"address": "ana@example.org"}]}}',
        content_type="text/plain",
    )
    assert response.status_code == 201


def test_keyless_signup_is_a_join_with_referral_and_confirmation(anon_api, mailoutbox):
    from rallypoint.core.models import OutboundEmail
    from rallypoint.ledger.models import Activity, Recruitment
    from rallypoint.people.models import Person
    from tests.factories import PersonFactory

    sharer = PersonFactory()
    body = {
        "person": {"given_name": "Lee", "email_addresses": [{"address": "lee@example.org"}]},
        "referrer_data": {"referrer": sharer.share_code, "source": "whatsapp"},
    }
    for _ in range(2):  # a double submit joins once
        response = anon_api.post("people", body)
        assert response.status_code == 200
        assert response.json() == {}
    lee = Person.objects.get(email_addresses__address_normalized="lee@example.org")
    joins = Activity.objects.filter(person=lee, kind="join")
    assert [(a.referrer_id, a.channel) for a in joins] == [(sharer.pk, "whatsapp")]
    assert Recruitment.objects.filter(recruiter=sharer, recruit=lee).count() == 1
    assert OutboundEmail.objects.filter(to="lee@example.org").count() == 1


def test_keyed_signup_records_no_join_act(api):
    from rallypoint.ledger.models import Activity

    body = {"person": {"email_addresses": [{"address": "sync@example.org"}]}}
    assert api.post("people", body).status_code == 201
    assert Activity.objects.filter(kind="join").count() == 0
