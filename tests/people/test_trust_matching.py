"""Anonymous submissions never take a record over: each test is an attack on a known supporter.

An anonymous submission (public form, embed, keyless API helper, RSVP, group join) may create a
person, add an act and fill blanks; it never replaces a name, address or contact, never attaches
a new email or phone to someone matched by the other one, never removes tags and never opts an
unsubscribed channel back in. What it said that was not applied is kept in the history.
"""

import pytest
from django.urls import reverse
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from rallypoint.core.models import AuditEntry
from rallypoint.ledger.models import Activity
from rallypoint.people.models import EmailAddress, EmailStatus, Person, PhoneNumber, Tagging
from rallypoint.people.services import (
    PersonData,
    person_join,
    person_match,
    person_match_or_create,
    tag_add,
)
from tests.factories import (
    EmailAddressFactory,
    PersonFactory,
    PhoneNumberFactory,
    PostalAddressFactory,
)

pytestmark = pytest.mark.django_db

VICTIM_PHONE = "+12025550143"


def victim() -> Person:
    person = PersonFactory(given_name="Vera", family_name="Vance")
    EmailAddressFactory(person=person, address="vera@example.org")
    PhoneNumberFactory(person=person, number=VICTIM_PHONE)
    PostalAddressFactory(person=person)
    tag_add(person=person, name="host")
    return person


def record(person: Person) -> tuple:
    person.refresh_from_db()
    return (
        person.given_name,
        person.family_name,
        sorted(person.email_addresses.values_list("address_normalized", "status")),
        sorted(person.phone_numbers.values_list("number", "sms_consent")),
        sorted(person.postal_addresses.values_list("postal_code", "locality")),
        sorted(person.taggings.values_list("tag__name", flat=True)),
    )


def test_match_victims_phone_with_new_email_makes_a_new_person():
    vera = victim()
    before = record(vera)
    match = person_match(
        PersonData(email="mallory@example.org", phone="(202) 555-0143", given_name="Mallory")
    )
    assert match.created is True
    assert match.person.pk != vera.pk
    assert match.possible_duplicate_of == vera.pk
    assert record(vera) == before
    assert EmailAddress.objects.get(address="mallory@example.org").person_id == match.person.pk


def test_join_page_with_victims_phone_never_reaches_their_record(client):
    vera = victim()
    before = record(vera)
    response = client.post(
        reverse("people:join"),
        {
            "given_name": "Mallory",
            "family_name": "Moss",
            "email": "mallory@example.org",
            "phone": "202-555-0143",
            "postal_code": "10001",
            "country": "US",
            "website": "",
        },
    )
    assert response.status_code == 302
    assert record(vera) == before
    mallory = EmailAddress.objects.get(address="mallory@example.org").person
    assert mallory.pk != vera.pk
    # The pair is one an organizer reviews: both records carry the number.
    assert sorted(
        PhoneNumber.objects.filter(number=VICTIM_PHONE).values_list("person_id", flat=True)
    ) == sorted([vera.pk, mallory.pk])
    join = Activity.objects.get(person=mallory, kind="join")
    assert join.details["possible_duplicate_of"] == vera.pk


def test_match_victims_email_keeps_their_name_phone_and_address():
    vera = victim()
    before = record(vera)
    match = person_match(
        PersonData(
            email="VERA@example.org",
            phone="202-555-0199",
            given_name="Mallory",
            family_name="Moss",
            postal_code="10001",
            tags=["volunteer"],
        )
    )
    assert (match.person.pk, match.created) == (vera.pk, False)
    name, family, emails, phones, addresses, tags = record(vera)
    assert (name, family, emails, phones, addresses) == before[:5]
    assert tags == ["host", "volunteer"]  # adding a tag is allowed; removing never
    assert match.kept_aside == {
        "given_name": "Mallory",
        "family_name": "Moss",
        "phone": "+12025550199",
        "address": {"postal_code": "10001", "country": "US"},
    }
    entry = AuditEntry.objects.get(action="person.kept_aside")
    assert (entry.object_id, entry.data["kept_aside"]["phone"]) == (str(vera.pk), "+12025550199")


def test_match_victims_phone_alone_fills_blanks_only():
    vera = victim()
    vera.family_name = ""
    vera.save()
    person_match_or_create(PersonData(phone="2025550143", given_name="Mallory", family_name="V."))
    vera.refresh_from_db()
    assert (vera.given_name, vera.family_name) == ("Vera", "V.")


def test_match_anonymous_never_resubscribes_an_address():
    vera = victim()
    vera.email_addresses.update(status=EmailStatus.UNSUBSCRIBED)
    match = person_match(PersonData(email="vera@example.org", email_status="subscribed"))
    assert vera.email_addresses.get().status == EmailStatus.UNSUBSCRIBED
    assert match.kept_aside == {"email_status": "subscribed"}


def test_match_anonymous_never_opts_a_phone_back_in():
    vera = victim()
    vera.phone_numbers.update(sms_consent=False, sms_consent_at=timezone.now())
    match = person_match(PersonData(phone="2025550143", sms_consent=True))
    assert vera.phone_numbers.get().sms_consent is False
    assert match.kept_aside == {"sms_consent": True}


def test_match_anonymous_may_opt_out():
    vera = victim()
    person_match(PersonData(email="vera@example.org", email_status="unsubscribed"))
    assert vera.email_addresses.get().status == EmailStatus.UNSUBSCRIBED


def test_match_anonymous_cannot_add_identifiers_or_replace_custom_fields():
    vera = victim()
    vera.custom_fields = {"shirt": "M"}
    vera.save()
    match = person_match(
        PersonData(
            email="vera@example.org",
            custom_fields={"shirt": "XL", "team": "north"},
            identifiers=["crm:1"],
        )
    )
    vera.refresh_from_db()
    assert vera.custom_fields == {"shirt": "M", "team": "north"}
    assert vera.foreign_identifiers == []
    assert match.kept_aside == {"custom_fields": {"shirt": "XL"}, "identifiers": ["crm:1"]}


def test_match_trusted_may_update_by_phone():
    vera = victim()
    match = person_match(
        PersonData(email="vera.work@example.org", phone="2025550143", given_name="Verity"),
        trusted=True,
    )
    assert match.person.pk == vera.pk
    vera.refresh_from_db()
    assert vera.given_name == "Verity"
    assert vera.email_addresses.count() == 2


def test_person_join_keeps_what_was_typed_with_the_act():
    vera = victim()
    person, created = person_join(data=PersonData(email="vera@example.org", given_name="Mal"))
    assert (person.pk, created) == (vera.pk, False)
    assert Activity.objects.get(person=vera, kind="join").details == {
        "kept_aside": {"given_name": "Mal"}
    }


def test_person_page_shows_what_was_kept_aside(organizer_client):
    vera = victim()
    person_match(PersonData(email="vera@example.org", given_name="Mallory"))
    page = organizer_client.get(reverse("people:detail", args=[vera.pk])).content.decode()
    assert "Typed by the visitor, not applied" in page
    assert "Mallory" in page


# --- any sequence of anonymous submissions -------------------------------------------------

KNOWN_EMAILS = ["ana@example.org", "ben@example.org", "cy@example.org"]
KNOWN_PHONES = ["+12025550101", "+12025550102", "+12025550103"]

submissions = st.lists(
    st.builds(
        PersonData,
        email=st.sampled_from(["", *KNOWN_EMAILS, "ANA@example.org", "new1@example.org"]),
        phone=st.sampled_from(["", *KNOWN_PHONES, "+12025550199"]),
        given_name=st.sampled_from(["", "Mallory", "Ana"]),
        family_name=st.sampled_from(["", "Moss"]),
        postal_code=st.sampled_from(["", "10001", "80202"]),
        sms_consent=st.sampled_from([None, True, False]),
        email_status=st.sampled_from([None, "subscribed", "unsubscribed"]),
        tags=st.lists(st.sampled_from(["volunteer", "donor"]), max_size=2),
    ).filter(lambda d: d.email or d.phone),
    max_size=8,
)


def known_people() -> list[Person]:
    ana = PersonFactory(given_name="Ana", family_name="")
    EmailAddressFactory(person=ana, address=KNOWN_EMAILS[0])
    PhoneNumberFactory(person=ana, number=KNOWN_PHONES[0])
    PostalAddressFactory(person=ana)
    tag_add(person=ana, name="host")
    ben = PersonFactory(given_name="", family_name="Berg")
    EmailAddressFactory(person=ben, address=KNOWN_EMAILS[1], status=EmailStatus.UNSUBSCRIBED)
    PhoneNumberFactory(
        person=ben, number=KNOWN_PHONES[1], sms_consent=False, sms_consent_at=timezone.now()
    )
    cy = PersonFactory(given_name="Cy", family_name="Cole")
    EmailAddressFactory(person=cy, address=KNOWN_EMAILS[2])
    PhoneNumberFactory(person=cy, number=KNOWN_PHONES[2], sms_consent=True)
    return [ana, ben, cy]


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(sequence=submissions)
def test_anonymous_submissions_only_fill_blanks(sequence):
    from django.db import transaction

    with transaction.atomic():
        people = known_people()
        before = {p.pk: record(p) for p in people}
        opted_out = set(
            PhoneNumber.objects.filter(sms_consent=False, sms_consent_at__isnull=False).values_list(
                "pk", flat=True
            )
        )
        for data in sequence:
            person_match_or_create(data)
        for person in people:
            name, family, emails, phones, addresses, tags = record(person)
            old_name, old_family, old_emails, old_phones, old_addresses, old_tags = before[
                person.pk
            ]
            assert name == old_name or not old_name
            assert family == old_family or not old_family
            # The same addresses; a status only ever moves to unsubscribed.
            assert [e for e, _ in emails] == [e for e, _ in old_emails]
            for (_, status), (_, old_status) in zip(emails, old_emails, strict=True):
                assert status == old_status or status == EmailStatus.UNSUBSCRIBED
            # The same numbers; an opted-out one stays out.
            assert [n for n, _ in phones] == [n for n, _ in old_phones]
            assert addresses == old_addresses or not old_addresses
            assert set(old_tags) <= set(tags)
        assert not PhoneNumber.objects.filter(pk__in=opted_out, sms_consent=True).exists()
        assert Tagging.objects.filter(person__in=people, tag__name="host").count() == 1
        transaction.set_rollback(True)
