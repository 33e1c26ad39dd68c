import pytest
from django.urls import reverse

from rallypoint.core.models import AuditEntry
from rallypoint.imports.dedupe import duplicate_group_count, duplicate_groups, typo_email_pairs
from rallypoint.people.models import Person
from tests.factories import (
    EmailAddressFactory,
    PersonFactory,
    PhoneNumberFactory,
    PostalAddressFactory,
)

pytestmark = pytest.mark.django_db


def person(given="", family="", email="", phone="", postal=""):
    p = PersonFactory(given_name=given, family_name=family)
    if email:
        EmailAddressFactory(person=p, address=email)
    if phone:
        PhoneNumberFactory(person=p, number=phone)
    if postal:
        PostalAddressFactory(person=p, postal_code=postal)
    return p


def test_duplicates_by_phone():
    a = person("Ana", "Diaz", "ana@example.org", "+13035550101")
    b = person("A.", "Diaz", "work@example.org", "+13035550101")
    person("Ben", "Berg", "ben@example.org", "+13035550102")
    groups = duplicate_groups("phone")
    assert [(g.key, [p.pk for p in g.people]) for g in groups] == [("+13035550101", [a.pk, b.pk])]
    assert groups[0].keep == a
    assert duplicate_group_count("phone") == 1


def test_duplicates_by_name_and_postal_code_ignore_case():
    a = person("Ana", "Diaz", "ana@example.org", postal="80202")
    b = person("ANA", "diaz", "other@example.org", postal="80202")
    person("Ana", "Diaz", "third@example.org", postal="10001")
    person("", "", "x@example.org", postal="80202")
    person("", "", "y@example.org", postal="80202")
    groups = duplicate_groups("name")
    assert [(g.key, [p.pk for p in g.people]) for g in groups] == [
        ("ana diaz · 80202", [a.pk, b.pk])
    ]


def test_duplicates_by_misspelt_email_domain():
    a = person("Ana", "", "ana@gmail.com")
    b = person("Ana", "", "ana@gmial.com")
    same = person("Ben", "", "ben@yahoo.com")
    EmailAddressFactory(person=same, address="ben@yaho.com")  # one person: not a duplicate
    assert typo_email_pairs() == [("ana@gmial.com", "ana@gmail.com")]
    groups = duplicate_groups("email")
    assert [(g.key, [p.pk for p in g.people]) for g in groups] == [
        ("ana@gmial.com → ana@gmail.com", [a.pk, b.pk])
    ]


def test_duplicate_merge_merges_ticked_groups_and_audits(organizer_client, organizer):
    a = person("Ana", "Diaz", "ana@example.org", "+13035550101")
    b = person("", "Diaz", "work@example.org", "+13035550101")
    c = person("Cy", "", "cy@example.org", "+13035550103")
    d = person("Cy", "", "cy2@example.org", "+13035550103")
    response = organizer_client.post(
        reverse("imports:duplicates_merge"),
        {
            "kind": "phone",
            "merge": ["1"],
            "people-1": f"{a.pk},{b.pk}",
            "keep-1": str(a.pk),
            "people-2": f"{c.pk},{d.pk}",
            "keep-2": str(c.pk),
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse("imports:duplicates") + "?kind=phone"
    assert sorted(Person.objects.values_list("pk", flat=True)) == [a.pk, c.pk, d.pk]
    assert sorted(a.email_addresses.values_list("address", flat=True)) == [
        "ana@example.org",
        "work@example.org",
    ]
    entry = AuditEntry.objects.get(action="person.merged")
    assert (entry.object_id, entry.actor_id) == (str(a.pk), organizer.pk)


def test_duplicate_merge_by_supporter_changes_nothing(supporter_client):
    a = person("Ana", "", "ana@example.org", "+13035550101")
    b = person("Ana", "", "b@example.org", "+13035550101")
    response = supporter_client.post(
        reverse("imports:duplicates_merge"),
        {"merge": ["1"], "people-1": f"{a.pk},{b.pk}", "keep-1": str(a.pk)},
    )
    assert response.status_code == 403
    assert Person.objects.count() == 2
    assert AuditEntry.objects.count() == 0


def test_duplicate_merge_with_nothing_ticked_says_so(organizer_client):
    response = organizer_client.post(reverse("imports:duplicates_merge"), {}, follow=True)
    assert [str(m) for m in response.context["messages"]] == [
        "Tick the groups to merge (and who to keep in each) first."
    ]


@pytest.mark.parametrize("groups", [1, 3])
def test_duplicate_list_query_count_does_not_grow(
    organizer_client, django_assert_num_queries, groups
):
    for i in range(groups):
        person("A", "", f"a{i}@example.org", f"+1303555010{i}")
        person("B", "", f"b{i}@example.org", f"+1303555010{i}")
    # session, user, group count, group page, members, people + 4 prefetches
    with django_assert_num_queries(10):
        response = organizer_client.get(reverse("imports:duplicates"), {"kind": "phone"})
    assert len(response.context["groups"]) == groups
    assert b"Merge ticked groups" in response.content
