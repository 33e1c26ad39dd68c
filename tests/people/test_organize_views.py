import pytest
from django.urls import reverse

from rallypoint.core.models import AuditEntry
from rallypoint.people.models import EmailAddress, EmailStatus, Person, PhoneNumber, Tag, Tagging
from rallypoint.people.services import PersonData, person_match_or_create
from tests.factories import (
    EmailAddressFactory,
    PersonFactory,
    PhoneNumberFactory,
    PostalAddressFactory,
    TaggingFactory,
)
from tests.people.factories import ActivityFactory

pytestmark = pytest.mark.django_db
LIST = reverse("people:list")


def _full_person(n: int) -> Person:
    person = PersonFactory(given_name=f"Given{n}", family_name=f"Family{n}")
    EmailAddressFactory(person=person, address=f"p{n}@example.org")
    PhoneNumberFactory(person=person, number=f"+120255502{n:02d}")
    PostalAddressFactory(person=person)
    TaggingFactory(person=person)
    TaggingFactory(person=person)
    return person


def _list_queries(client, django_assert_num_queries, count: int) -> None:
    for n in range(count):
        _full_person(n)
    # session, user, count, page, emails, phones, addresses, taggings+tags
    with django_assert_num_queries(8):
        response = client.get(LIST)
    assert response.status_code == 200
    assert len(response.context["page"].object_list) == count


def test_people_list_queries_with_one_person(organizer_client, django_assert_num_queries):
    _list_queries(organizer_client, django_assert_num_queries, 1)


def test_people_list_queries_with_three_people(organizer_client, django_assert_num_queries):
    _list_queries(organizer_client, django_assert_num_queries, 3)


def test_people_list_shows_contacts_and_tags(organizer_client):
    person = _full_person(7)
    content = organizer_client.get(LIST).content.decode()
    assert "Given7 Family7" in content
    assert "p7@example.org" in content
    assert "(202) 555-0207" in content
    assert "Denver, CO 80202" in content
    for tagging in person.taggings.all():
        assert tagging.tag.name in content


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "Ana"}, ["Ana Ruiz"]),
        ({"q": "ruiz ana"}, []),
        ({"q": "ANA@EXAMPLE"}, ["Ana Ruiz"]),
        ({"q": "(303) 555-0150"}, ["Ben Cole"]),
        ({"q": "0150"}, ["Ben Cole"]),
        ({"tag": "Volunteer"}, ["Ben Cole"]),
        ({"postal_code": "10001"}, ["Ana Ruiz"]),
        ({"region": "co"}, ["Ben Cole"]),
        ({"q": "nobody"}, []),
        ({"q": "ben@"}, ["Ben Cole"]),
        ({"q": "@example.org"}, ["Ben Cole", "Ana Ruiz"]),
        ({"q": "+1 303 555 0150"}, ["Ben Cole"]),
        ({"q": "555-01"}, ["Ben Cole"]),
        ({"q": "  Ana   Ruiz "}, ["Ana Ruiz"]),
        ({"tag": "volunteer", "region": "NY"}, []),
        ({"postal_code": "8"}, ["Ben Cole"]),
    ],
)
def test_people_list_search_filters(organizer_client, params, expected):
    person_match_or_create(
        PersonData(
            email="ana@example.org", given_name="Ana", family_name="Ruiz", postal_code="10001"
        )
    )
    person_match_or_create(
        PersonData(
            email="ben@example.org",
            given_name="Ben",
            family_name="Cole",
            phone="303-555-0150",
            postal_code="80202",
            tags=["volunteer"],
        )
    )
    response = organizer_client.get(LIST, params)
    assert [p.full_name for p in response.context["page"].object_list] == expected


def test_people_list_paginates_by_25(organizer_client):
    PersonFactory.create_batch(30)
    first = organizer_client.get(LIST)
    second = organizer_client.get(LIST, {"page": 2})
    assert len(first.context["page"].object_list) == 25
    assert len(second.context["page"].object_list) == 5
    assert organizer_client.get(LIST, {"page": "abc"}).status_code == 200


def test_people_list_overlong_search_is_a_message_not_500(organizer_client):
    response = organizer_client.get(LIST, {"q": "x" * 10_000})
    assert response.status_code == 200
    assert response.context["form"].errors["q"][0].startswith("Ensure this value has at most 200")


def test_people_pages_anonymous_go_to_login(client):
    person = PersonFactory()
    for url in (LIST, reverse("people:detail", args=[person.pk])):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/accounts/login/?next=")


def test_people_pages_forbidden_for_supporter_and_nothing_changes(supporter_client):
    person = PersonFactory(given_name="Ana")
    other = PersonFactory()
    tag = TaggingFactory(person=person).tag
    assert supporter_client.get(LIST).status_code == 403
    detail = supporter_client.get(reverse("people:detail", args=[person.pk]))
    assert detail.status_code == 403
    assert b"This page is for organizers" in detail.content
    posts = [
        (reverse("people:tag_add", args=[person.pk]), {"name": "hacked"}),
        (reverse("people:tag_remove", args=[person.pk, tag.pk]), {}),
        (reverse("people:edit", args=[person.pk]), {"given_name": "Mallory"}),
        (reverse("people:contact_add", args=[person.pk]), {"email": "m@example.org"}),
        (reverse("people:merge_confirm", args=[person.pk, other.pk]), {}),
    ]
    for url, data in posts:
        assert supporter_client.post(url, data).status_code == 403
    person.refresh_from_db()
    assert person.given_name == "Ana"
    assert list(Tagging.objects.filter(person=person).values_list("tag_id", flat=True)) == [tag.pk]
    assert Person.objects.count() == 2
    assert not Tag.objects.filter(name="hacked").exists()
    assert EmailAddress.objects.count() == 0
    assert AuditEntry.objects.count() == 0


def test_person_detail_shows_contacts_timeline_and_history(organizer_client, organizer):
    person, _ = person_match_or_create(
        PersonData(
            email="ana@example.org",
            given_name="Ana",
            phone="2025550160",
            sms_consent=True,
            postal_code="80202",
        )
    )
    ActivityFactory(person=person, kind="rsvp")
    organizer_client.post(reverse("people:tag_add", args=[person.pk]), {"name": "captain"})
    response = organizer_client.get(reverse("people:detail", args=[person.pk]))
    content = response.content.decode()
    assert "ana@example.org" in content
    assert "(202) 555-0160" in content
    assert "texts OK" in content
    assert "Denver, CO 80202" in content
    assert "RSVP&#x27;d to an event" in content
    assert f"{organizer.email}</strong> added a tag" in content
    assert [a.kind for a in response.context["timeline"]] == ["rsvp"]


def test_person_detail_empty_timeline_message(organizer_client):
    person = PersonFactory(given_name="Quinn")
    content = organizer_client.get(reverse("people:detail", args=[person.pk])).content.decode()
    assert "Nothing yet. When Quinn signs, RSVPs, calls or shares, it shows up here." in content


def test_person_detail_unknown_id_is_404(organizer_client):
    assert organizer_client.get(reverse("people:detail", args=[999999])).status_code == 404


def test_person_timeline_newest_first(organizer_client):
    person = PersonFactory()
    older = ActivityFactory(person=person, kind="sign", created_at="2025-01-01T10:00Z")
    newer = ActivityFactory(person=person, kind="call", created_at="2025-03-01T10:00Z")
    response = organizer_client.get(reverse("people:detail", args=[person.pk]))
    assert [a.pk for a in response.context["timeline"]] == [newer.pk, older.pk]


def test_tag_add_and_remove_without_javascript(organizer_client, organizer):
    person = PersonFactory()
    url = reverse("people:tag_add", args=[person.pk])
    add = organizer_client.post(url, {"name": " Phone  bank "})
    assert add.status_code == 302
    tag = Tag.objects.get()
    assert tag.name == "Phone bank"
    assert list(person.taggings.values_list("tag__name", flat=True)) == ["Phone bank"]
    remove = organizer_client.post(reverse("people:tag_remove", args=[person.pk, tag.pk]))
    assert remove.status_code == 302
    assert person.taggings.count() == 0
    actions = list(AuditEntry.objects.order_by("id").values_list("action", "actor_id", "data"))
    assert actions == [
        ("person.tag.added", organizer.pk, {"tag": "Phone bank"}),
        ("person.tag.removed", organizer.pk, {"tag": "Phone bank"}),
    ]


def test_tag_add_with_htmx_returns_tag_box(organizer_client):
    person = PersonFactory()
    response = organizer_client.post(
        reverse("people:tag_add", args=[person.pk]), {"name": "host"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert response.templates[0].name == "people/_tags.html"
    assert b"Remove tag host" in response.content


def test_tag_add_blank_or_too_long_is_a_form_error(organizer_client):
    person = PersonFactory()
    blank = organizer_client.post(reverse("people:tag_add", args=[person.pk]), {"name": "   "})
    long = organizer_client.post(reverse("people:tag_add", args=[person.pk]), {"name": "x" * 500})
    assert (blank.status_code, long.status_code) == (400, 400)
    assert blank.context["tag_form"].errors["name"] == ["This field is required."]
    assert long.context["tag_form"].errors["name"][0].startswith("Ensure this value has at most")
    assert Tag.objects.count() == 0


def test_tag_add_get_is_not_allowed(organizer_client):
    person = PersonFactory()
    assert organizer_client.get(reverse("people:tag_add", args=[person.pk])).status_code == 405


def test_person_edit_is_audited_with_before_and_after(organizer_client, organizer):
    person = PersonFactory(given_name="Sam", family_name="Lee", source="")
    response = organizer_client.post(
        reverse("people:edit", args=[person.pk]),
        {"given_name": " Samantha ", "family_name": "Lee", "public_display": "on"},
    )
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.given_name == "Samantha"
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.actor_id) == ("person.updated", organizer.pk)
    assert entry.data == {"before": {"given_name": "Sam"}, "after": {"given_name": "Samantha"}}
    detail = organizer_client.get(reverse("people:detail", args=[person.pk])).content.decode()
    assert "<td>given name</td><td>Sam</td><td>Samantha</td>" in detail


def test_person_edit_overlong_name_keeps_form_and_changes_nothing(organizer_client):
    person = PersonFactory(given_name="Sam")
    response = organizer_client.post(
        reverse("people:edit", args=[person.pk]), {"given_name": "y" * 10_000, "family_name": "Z"}
    )
    assert response.status_code == 200
    assert (
        response.context["form"]
        .errors["given_name"][0]
        .startswith("Ensure this value has at most 100")
    )
    assert b'value="Z"' in response.content
    person.refresh_from_db()
    assert person.given_name == "Sam"
    assert AuditEntry.objects.count() == 0


def test_contact_add_adds_email_phone_and_address(organizer_client):
    person = PersonFactory()
    response = organizer_client.post(
        reverse("people:contact_add", args=[person.pk]),
        {
            "email": "new@example.org",
            "phone": "2025550170",
            "postal_code": "60614",
            "country": "US",
        },
    )
    assert response.status_code == 302
    assert list(person.email_addresses.values_list("address", flat=True)) == ["new@example.org"]
    assert list(person.phone_numbers.values_list("number", "sms_consent")) == [
        ("+12025550170", False)
    ]
    assert list(person.postal_addresses.values_list("locality", flat=True)) == ["Chicago"]
    assert AuditEntry.objects.get().action == "person.contact.added"


def test_contact_add_email_of_someone_else_suggests_merge(organizer_client):
    owner = PersonFactory(given_name="Owner", family_name="One")
    EmailAddressFactory(person=owner, address="taken@example.org")
    person = PersonFactory()
    response = organizer_client.post(
        reverse("people:contact_add", args=[person.pk]),
        {"email": "TAKEN@example.org", "country": "US"},
    )
    assert response.status_code == 400
    assert response.context["contact_form"].errors["email"] == [
        f"That address belongs to Owner One (#{owner.pk}): merge them instead."
    ]
    assert person.email_addresses.count() == 0


def test_contact_add_bad_phone_is_a_form_error(organizer_client):
    person = PersonFactory()
    response = organizer_client.post(
        reverse("people:contact_add", args=[person.pk]), {"phone": "12", "country": "US"}
    )
    assert response.status_code == 400
    assert response.context["contact_form"].errors["phone"] == [
        "That phone number isn't a real, dialable number."
    ]
    assert PhoneNumber.objects.count() == 0


def test_email_status_change_is_audited(organizer_client, organizer):
    email = EmailAddressFactory(address="s@example.org")
    url = reverse("people:email_status", args=[email.person_id, email.pk])
    organizer_client.post(url, {"status": "unsubscribed"})
    email.refresh_from_db()
    assert email.status == EmailStatus.UNSUBSCRIBED
    entry = AuditEntry.objects.get()
    assert entry.data["before"] == {"status": "subscribed"}
    assert entry.data["after"] == {"status": "unsubscribed"}
    organizer_client.post(url, {"status": "made-up"})
    email.refresh_from_db()
    assert email.status == EmailStatus.UNSUBSCRIBED


def test_merge_pick_lists_candidates_except_self(organizer_client):
    person, _ = person_match_or_create(PersonData(email="ana@example.org", given_name="Ana"))
    other, _ = person_match_or_create(PersonData(email="ana.r@example.org", given_name="Ana"))
    response = organizer_client.get(reverse("people:merge", args=[person.pk]), {"q": "ana"})
    assert [p.pk for p in response.context["candidates"]] == [other.pk]


def test_merge_confirm_shows_both_then_merges(organizer_client, organizer):
    keep, _ = person_match_or_create(PersonData(email="ana@example.org", given_name="Ana"))
    other, _ = person_match_or_create(
        PersonData(email="ana.r@example.org", family_name="Ruiz", tags=["donor"])
    )
    url = reverse("people:merge_confirm", args=[keep.pk, other.pk])
    page = organizer_client.get(url).content.decode()
    assert "ana@example.org" in page and "ana.r@example.org" in page
    assert Person.objects.count() == 2
    response = organizer_client.post(url, {"confirm": "merge"})
    assert response["Location"] == reverse("people:detail", args=[keep.pk])
    assert list(Person.objects.values_list("pk", flat=True)) == [keep.pk]
    assert sorted(keep.email_addresses.values_list("address", flat=True)) == [
        "ana.r@example.org",
        "ana@example.org",
    ]
    assert list(keep.taggings.values_list("tag__name", flat=True)) == ["donor"]
    assert AuditEntry.objects.get().action == "person.merged"


def test_merge_confirm_with_self_or_missing_person_changes_nothing(organizer_client):
    person = PersonFactory()
    same = organizer_client.post(reverse("people:merge_confirm", args=[person.pk, person.pk]))
    missing = organizer_client.post(reverse("people:merge_confirm", args=[person.pk, 999999]))
    assert same.status_code == 302
    assert missing.status_code == 404
    assert Person.objects.count() == 1
    assert AuditEntry.objects.count() == 0
