import pytest

from rallypoint.accounts.services import account_link_person
from rallypoint.people.models import Person
from rallypoint.people.services import PersonData, person_match_or_create
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def test_account_link_person_matches_existing_person():
    person, _ = person_match_or_create(PersonData(email="Ana@example.org"))
    user = account_link_person(user=UserFactory(email="ana@example.org"))
    assert user.person_id == person.pk
    assert Person.objects.count() == 1


def test_account_link_person_creates_person_when_none():
    user = account_link_person(user=UserFactory(email="new@example.org"), given_name="Nia")
    assert user.person.given_name == "Nia"
    assert list(user.person.email_addresses.values_list("address", flat=True)) == [
        "new@example.org"
    ]


def test_account_link_person_reserved_domain_stays_unlinked():
    user = account_link_person(user=UserFactory(email="organizer@demo.rallypoint.localhost"))
    assert user.person_id is None
    assert Person.objects.count() == 0


def test_account_link_person_never_steals_another_accounts_person():
    person, _ = person_match_or_create(
        PersonData(email="a@example.org", phone="2025550190"), trusted=True
    )
    person_match_or_create(PersonData(email="b@example.org", phone="2025550190"), trusted=True)
    UserFactory(email="a@example.org", person=person)
    second = account_link_person(user=UserFactory(email="b@example.org"))
    assert second.person_id is None
    assert Person.objects.count() == 1
