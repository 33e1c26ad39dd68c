from datetime import timedelta

import pytest
from django.utils import timezone

from rallypoint.people.models import Person
from tests.factories import (
    EmailAddressFactory,
    PersonFactory,
    PhoneNumberFactory,
    PostalAddressFactory,
)

pytestmark = pytest.mark.django_db


def make_person(n: int, **extra) -> Person:
    person = PersonFactory(given_name=f"Given{n}", family_name=f"Family{n}", **extra)
    EmailAddressFactory(person=person, address=f"p{n}@example.org")
    return person


def test_people_list_shape_when_empty(api):
    response = api.get("people")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/hal+json; charset=utf-8"
    body = response.json()
    assert body["total_records"] == 0
    assert body["total_pages"] == 0
    assert body["page"] == 1
    assert body["per_page"] == 25
    assert body["_embedded"] == {"osdi:people": []}
    assert body["_links"]["self"]["href"] == "http://testserver/api/v1/people?page=1&per_page=25"
    assert "next" not in body["_links"]
    assert "previous" not in body["_links"]


def test_person_representation_has_osdi_fields(api):
    person = make_person(1, foreign_identifiers=["crm:77"])
    PhoneNumberFactory(person=person, number="+12025550123", sms_consent=True)
    PostalAddressFactory(person=person, address_lines=["1 Main St"])
    body = api.get(f"people/{person.uuid}").json()
    assert body["identifiers"] == [
        f"rallypoint:{person.uuid}",
        f"action_network:{person.uuid}",
        "crm:77",
    ]
    assert body["given_name"] == "Given1"
    assert body["email_addresses"] == [
        {
            "address": "p1@example.org",
            "primary": True,
            "address_type": "personal",
            "status": "subscribed",
        }
    ]
    assert body["phone_numbers"][0]["number"] == "12025550123"
    assert body["phone_numbers"][0]["status"] == "subscribed"
    assert body["postal_addresses"][0]["postal_code"] == "80202"
    assert body["postal_addresses"][0]["location"]["latitude"] == 39.7527
    assert body["_links"]["self"]["href"] == f"http://testserver/api/v1/people/{person.uuid}"
    assert body["_links"]["osdi:taggings"]["href"] == (
        f"http://testserver/api/v1/people/{person.uuid}/taggings"
    )
    assert body["created_date"].endswith("Z")


def test_person_identifiers_without_action_network_alias_when_switched_off(api, settings):
    settings.OSDI_ACTION_NETWORK_IDENTIFIERS = False
    person = make_person(1)
    body = api.get(f"people/{person.uuid}").json()
    assert body["identifiers"] == [f"rallypoint:{person.uuid}"]


def test_person_found_by_prefixed_id_and_trailing_slash(api):
    person = make_person(1)
    assert api.get(f"people/{person.uuid}/").status_code == 200
    assert api.get(f"people/action_network:{person.uuid}").json()["given_name"] == "Given1"


def test_person_unknown_or_malformed_id_is_404(api):
    response = api.get("people/not-a-uuid")
    assert response.status_code == 404
    assert response.json()["error"] == "Couldn't find person with id = not-a-uuid."
    assert response.json()["osdi:error"]["response_code"] == 404
    assert api.get("people/00000000-0000-0000-0000-000000000000").status_code == 404


def test_people_pagination_across_page_boundaries(api):
    people = [make_person(n) for n in range(5)]
    first = api.get("people", {"per_page": 2}).json()
    assert first["total_records"] == 5
    assert first["total_pages"] == 3
    assert [p["given_name"] for p in first["_embedded"]["osdi:people"]] == ["Given0", "Given1"]
    assert first["_links"]["next"]["href"] == "http://testserver/api/v1/people?page=2&per_page=2"
    seen, url = [], "http://testserver/api/v1/people?page=1&per_page=2"
    while url:
        page = api.get(url.replace("http://testserver", "")).json()
        seen += [p["identifiers"][0] for p in page["_embedded"]["osdi:people"]]
        url = page["_links"].get("next", {}).get("href")
    assert seen == [f"rallypoint:{p.uuid}" for p in people]
    last = api.get("people", {"per_page": 2, "page": 3}).json()
    assert len(last["_embedded"]["osdi:people"]) == 1
    assert last["_links"]["previous"]["href"] == "http://testserver/api/v1/people?page=2&per_page=2"
    beyond = api.get("people", {"per_page": 2, "page": 9}).json()
    assert beyond["_embedded"] == {"osdi:people": []}
    assert beyond["page"] == 9


def test_people_per_page_is_capped_at_25(api):
    assert api.get("people", {"per_page": 500}).json()["per_page"] == 25


@pytest.mark.parametrize(
    "params", [{"page": "0"}, {"page": "x"}, {"per_page": "-1"}, {"page": "1e9"}]
)
def test_people_bad_page_numbers_are_400(api, params):
    response = api.get("people", params)
    assert response.status_code == 400
    assert response.json()["osdi:error"]["errors"][0]["field"] in {"page", "per_page"}


def _count_people_list(api, django_assert_num_queries, expected_queries):
    with django_assert_num_queries(expected_queries):
        response = api.get("people")
    assert response.status_code == 200
    return response.json()["total_records"]


def test_people_list_query_count_is_flat(api, django_assert_num_queries):
    person = make_person(0)
    PhoneNumberFactory(person=person)
    api.get("tags")  # the key's last use is written at most once a minute: not on the counted calls
    # key lookup, count, page, 4 prefetches (emails, phones, addresses, taggings)
    assert _count_people_list(api, django_assert_num_queries, 7) == 1
    for n in (1, 2):
        other = make_person(n)
        PhoneNumberFactory(person=other)
        PostalAddressFactory(person=other)
    assert _count_people_list(api, django_assert_num_queries, 7) == 3


def test_people_filter_by_email_address(api):
    make_person(1)
    target = make_person(2)
    body = api.get("people", {"filter": "email_address eq 'P2@Example.org'"}).json()
    assert body["total_records"] == 1
    assert body["_embedded"]["osdi:people"][0]["identifiers"][0] == f"rallypoint:{target.uuid}"
    assert "filter=email_address" in body["_links"]["self"]["href"]


def test_people_filter_by_modified_and_created_date(api):
    old = make_person(1)
    new = make_person(2)
    long_ago = timezone.now() - timedelta(days=30)
    Person.objects.filter(pk=old.pk).update(created_at=long_ago, modified_at=long_ago)
    cutoff = (timezone.now() - timedelta(days=1)).strftime("%Y-%m-%d")
    recent = api.get("people", {"filter": f"modified_date gt '{cutoff}'"}).json()
    assert [p["given_name"] for p in recent["_embedded"]["osdi:people"]] == [new.given_name]
    older = api.get("people", {"filter": f"created_date lt '{cutoff}'"}).json()
    assert [p["given_name"] for p in older["_embedded"]["osdi:people"]] == [old.given_name]


def test_people_filter_by_postal_code_region_with_and_or(api):
    a, b, c = make_person(1), make_person(2), make_person(3)
    PostalAddressFactory(person=a, postal_code="80202", region="CO")
    PostalAddressFactory(person=b, postal_code="10001", region="NY")
    PostalAddressFactory(person=c, postal_code="80301", region="CO")
    names = lambda body: sorted(p["given_name"] for p in body["_embedded"]["osdi:people"])  # noqa: E731
    co = api.get("people", {"filter": "region eq 'co'"}).json()
    assert names(co) == ["Given1", "Given3"]
    both = api.get(
        "people",
        {"filter": "postal_code eq '10001' or (region eq 'CO' and postal_code ne '80202')"},
    ).json()
    assert names(both) == ["Given2", "Given3"]


def test_people_filter_by_foreign_identifier(api):
    make_person(1, foreign_identifiers=["crm:1"])
    target = make_person(2, foreign_identifiers=["crm:12", "van:9"])
    body = api.get("people", {"filter": "identifier eq 'crm:12'"}).json()
    assert [p["identifiers"][0] for p in body["_embedded"]["osdi:people"]] == [
        f"rallypoint:{target.uuid}"
    ]
    ours = api.get("people", {"filter": f"identifier eq 'action_network:{target.uuid}'"}).json()
    assert ours["total_records"] == 1


@pytest.mark.parametrize(
    "text, message",
    [
        ("shoe_size eq '9'", "Cannot filter on 'shoe_size'"),
        ("email_address gt 'a'", "'email_address' can be compared with eq, ne, not gt"),
        ("modified_date gt 'yesterday'", "is not a date"),
        ("region eq 'CO", "has no closing '"),
        ("(region eq 'CO'", "is never closed"),
    ],
)
def test_people_bad_filter_is_400_with_reason(api, text, message):
    response = api.get("people", {"filter": text})
    assert response.status_code == 400
    assert message in response.json()["error"]
    assert response.json()["osdi:error"]["errors"][0]["field"] == "filter"


def test_person_put_changes_names_and_adds_contacts(api):
    person = make_person(1, foreign_identifiers=[])
    PostalAddressFactory(person=person, postal_code="80202")
    response = api.put(
        f"people/{person.uuid}",
        {
            "given_name": "Ana",
            "family_name": None,
            "email_addresses": [
                {"address": "p1@example.org", "status": "unsubscribed"},
                {"address": "ana@new.example"},
            ],
            "phone_numbers": [{"number": "12025550188", "status": "subscribed"}],
            "custom_fields": {"team": "north"},
            "identifiers": ["crm:9"],
            "postal_addresses": [{"postal_code": "10001"}],
        },
    )
    assert response.status_code == 200
    person.refresh_from_db()
    assert (person.given_name, person.family_name) == ("Ana", "")
    assert person.custom_fields == {"team": "north"}
    assert person.foreign_identifiers == ["crm:9"]
    emails = dict(person.email_addresses.values_list("address", "status"))
    assert emails == {"p1@example.org": "unsubscribed", "ana@new.example": "subscribed"}
    assert list(person.phone_numbers.values_list("number", "sms_consent")) == [
        ("+12025550188", True)
    ]
    assert sorted(person.postal_addresses.values_list("postal_code", flat=True)) == [
        "10001",
        "80202",
    ]
    assert response.json()["given_name"] == "Ana"


def test_person_put_refuses_someone_elses_email_and_changes_nothing(api):
    person = make_person(1)
    make_person(2)
    response = api.put(
        f"people/{person.uuid}/",
        {"given_name": "Changed", "email_addresses": [{"address": "p2@example.org"}]},
    )
    assert response.status_code == 400
    assert response.json()["osdi:error"]["errors"][0]["field"] == "email_addresses[0].address"
    person.refresh_from_db()
    assert person.given_name == "Given1"
    assert list(person.email_addresses.values_list("address", flat=True)) == ["p1@example.org"]


def test_person_put_with_read_only_key_is_403(ro_api):
    person = make_person(1)
    assert ro_api.put(f"people/{person.uuid}", {"given_name": "X"}).status_code == 403
    person.refresh_from_db()
    assert person.given_name == "Given1"
