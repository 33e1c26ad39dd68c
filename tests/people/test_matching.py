import pytest
from django.core.exceptions import ValidationError

from rallypoint.people.models import EmailAddress, EmailStatus, Person, PhoneNumber, Tagging
from rallypoint.people.services import PersonData, find_person, person_match_or_create

pytestmark = pytest.mark.django_db


def test_match_email_ignores_case_and_surrounding_space():
    first, created_first = person_match_or_create(PersonData(email="Ana.Ruiz@Example.org"))
    again, created_again = person_match_or_create(PersonData(email="  ana.ruiz@example.ORG "))
    assert (created_first, created_again) == (True, False)
    assert again.pk == first.pk
    assert list(EmailAddress.objects.values_list("address", flat=True)) == ["Ana.Ruiz@Example.org"]


def test_match_email_dots_and_plus_tags_stay_distinct_people():
    a, _ = person_match_or_create(PersonData(email="anaruiz@example.org"))
    b, _ = person_match_or_create(PersonData(email="ana.ruiz@example.org"))
    c, _ = person_match_or_create(PersonData(email="anaruiz+news@example.org"))
    assert len({a.pk, b.pk, c.pk}) == 3
    assert Person.objects.count() == 3


def test_match_phone_when_email_unknown():
    person, _ = person_match_or_create(PersonData(phone="(202) 555-0143", given_name="Kofi"))
    again, created = person_match_or_create(
        PersonData(email="kofi@example.org", phone="+1 202 555 0143"), trusted=True
    )
    assert created is False
    assert again.pk == person.pk
    assert list(again.email_addresses.values_list("address", flat=True)) == ["kofi@example.org"]
    assert list(PhoneNumber.objects.values_list("number", flat=True)) == ["+12025550143"]


def test_match_email_wins_over_phone():
    by_email, _ = person_match_or_create(PersonData(email="a@example.org"))
    by_phone, _ = person_match_or_create(PersonData(phone="202-555-0100"))
    found, created = person_match_or_create(PersonData(email="a@example.org", phone="2025550100"))
    assert (found.pk, created) == (by_email.pk, False)
    assert by_phone.pk != by_email.pk


def test_match_never_overwrites_known_value_with_blank():
    person, _ = person_match_or_create(
        PersonData(email="b@example.org", given_name="Rosa", family_name="Lopez")
    )
    person_match_or_create(PersonData(email="b@example.org", given_name="", family_name=""))
    person.refresh_from_db()
    assert (person.given_name, person.family_name) == ("Rosa", "Lopez")


def test_match_new_value_replaces_old_name():
    person, _ = person_match_or_create(PersonData(email="c@example.org", given_name="Sam"))
    person_match_or_create(PersonData(email="c@example.org", given_name="Samantha"), trusted=True)
    person.refresh_from_db()
    assert person.given_name == "Samantha"


def test_match_unsubscribed_stays_unsubscribed_without_explicit_choice():
    person, _ = person_match_or_create(
        PersonData(email="d@example.org", email_status=EmailStatus.UNSUBSCRIBED)
    )
    person_match_or_create(PersonData(email="d@example.org", given_name="Dev"))
    assert EmailAddress.objects.get().status == EmailStatus.UNSUBSCRIBED


def test_match_explicit_resubscribe_changes_status():
    person_match_or_create(PersonData(email="e@example.org", email_status="unsubscribed"))
    person_match_or_create(
        PersonData(email="e@example.org", email_status="subscribed"), trusted=True
    )
    assert EmailAddress.objects.get().status == EmailStatus.SUBSCRIBED


def test_match_bouncing_is_not_reset_by_a_new_signup():
    person, _ = person_match_or_create(PersonData(email="f@example.org"))
    EmailAddress.objects.filter(person=person).update(status=EmailStatus.BOUNCING)
    person_match_or_create(PersonData(email="F@example.org", given_name="Farah"))
    assert EmailAddress.objects.get().status == EmailStatus.BOUNCING


def test_match_merges_arrays_instead_of_replacing():
    person, _ = person_match_or_create(
        PersonData(
            email="g@example.org",
            tags=["volunteer"],
            languages_spoken=["en"],
            custom_fields={"shirt": "M"},
            identifiers=["vendor:1"],
        )
    )
    person_match_or_create(
        PersonData(
            email="g@example.org",
            tags=["donor"],
            languages_spoken=["es"],
            custom_fields={"team": "north"},
            identifiers=["vendor:2"],
        ),
        trusted=True,
    )
    person.refresh_from_db()
    assert person.languages_spoken == ["en", "es"]
    assert person.custom_fields == {"shirt": "M", "team": "north"}
    assert person.foreign_identifiers == ["vendor:1", "vendor:2"]
    tags = sorted(Tagging.objects.filter(person=person).values_list("tag__name", flat=True))
    assert tags == ["donor", "volunteer"]


def test_match_second_email_and_phone_are_added():
    person, _ = person_match_or_create(PersonData(email="h@example.org", phone="2025550101"))
    person_match_or_create(PersonData(phone="2025550101", email="h.work@example.org"), trusted=True)
    person_match_or_create(PersonData(email="h@example.org", phone="2025550102"), trusted=True)
    emails = list(person.email_addresses.order_by("id").values_list("address", "primary"))
    phones = list(person.phone_numbers.order_by("id").values_list("number", "primary"))
    assert emails == [("h@example.org", True), ("h.work@example.org", False)]
    assert phones == [("+12025550101", True), ("+12025550102", False)]


def test_match_sms_consent_only_changes_when_given():
    person_match_or_create(PersonData(email="i@example.org", phone="2025550103", sms_consent=True))
    person_match_or_create(PersonData(email="i@example.org", phone="2025550103"))
    phone = PhoneNumber.objects.get()
    assert phone.sms_consent is True
    assert phone.sms_consent_at is not None


def test_match_postal_code_fills_location_from_zip():
    person, _ = person_match_or_create(PersonData(email="j@example.org", postal_code="80202"))
    address = person.postal_addresses.get()
    assert (address.locality, address.region, address.country) == ("Denver", "CO", "US")
    assert address.latitude is not None and address.longitude is not None


@pytest.mark.parametrize(
    ("data", "field"),
    [
        (PersonData(email="not-an-email"), "email"),
        (PersonData(email="a@example.org", phone="123"), "phone"),
        (PersonData(), "email"),
        (PersonData(email="a@example.org", given_name="x" * 10_000), "given_name"),
    ],
)
def test_match_bad_input_raises_validation_error_and_stores_nothing(data, field):
    with pytest.raises(ValidationError) as excinfo:
        person_match_or_create(data)
    assert field in excinfo.value.message_dict
    assert Person.objects.count() == 0


def test_find_person_returns_none_for_unknown():
    assert find_person(email="nobody@example.org", phone="+12025550199") is None
