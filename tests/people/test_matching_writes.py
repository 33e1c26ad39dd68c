"""How matching writes: the statements it costs, and what happens when a concurrent submission
takes the same new address between the lookup and the insert."""

import threading
import time

import pytest
from django.db import connection, connections, transaction

from rallypoint.people.models import EmailAddress, Person, PostalAddress
from rallypoint.people.services import (
    PersonData,
    find_person,
    person_match_or_create,
)
from tests.factories import EmailAddressFactory, PhoneNumberFactory

pytestmark = pytest.mark.django_db


def test_match_new_person_statements(django_assert_num_queries):
    data = PersonData(email="ana@example.org", given_name="Ana", postal_code="80202")
    person_match_or_create(PersonData(email="warm@example.org"))  # per-process caches
    # match, person, email, address, the person.created outbox event (no savepoint, no
    # re-reads, no follow-up update)
    with django_assert_num_queries(5):
        person, created = person_match_or_create(data)
    assert created is True
    assert (person.given_name, person.email_addresses.get().primary) == ("Ana", True)
    assert PostalAddress.objects.get(person=person).locality == "Denver"


def test_match_known_person_unchanged_address_statements(django_assert_num_queries):
    data = PersonData(email="ana@example.org", postal_code="80202")
    known, _ = person_match_or_create(data)
    before = PostalAddress.objects.get(person=known).modified_at
    # match, their addresses, person update (modified_at), the person.updated outbox event:
    # the address is left alone
    with django_assert_num_queries(4):
        person, created = person_match_or_create(
            PersonData(email="ANA@example.org", postal_code="80202")
        )
    assert (person.pk, created) == (known.pk, False)
    assert PostalAddress.objects.get(person=known).modified_at == before


def test_match_email_and_phone_found_in_one_lookup(django_assert_num_queries):
    owner = PhoneNumberFactory(number="+12025550143").person
    with django_assert_num_queries(1):
        found = find_person(email="nobody@example.org", phone="+12025550143")
    assert found == owner


def test_match_email_wins_over_phone_in_one_lookup():
    by_phone = PhoneNumberFactory(number="+12025550143").person
    by_email = EmailAddressFactory(address="ana@example.org").person
    assert find_person(email="ana@example.org", phone="+12025550143") == by_email
    assert by_phone != by_email


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql", reason="SQLite runs one writer at a time: no race"
)
def test_match_concurrent_same_new_email_makes_one_person():
    first_written = threading.Event()

    def first_submission():
        try:
            with transaction.atomic():
                person_match_or_create(PersonData(email="race@example.org", given_name="Ana"))
                first_written.set()
                time.sleep(0.5)  # the second submission reaches the email insert meanwhile
        finally:
            connections.close_all()

    thread = threading.Thread(target=first_submission)
    thread.start()
    assert first_written.wait(10)
    person, created = person_match_or_create(
        PersonData(email="RACE@example.org", family_name="Ruiz")
    )
    thread.join()
    assert created is False
    assert list(Person.objects.values_list("given_name", "family_name")) == [("Ana", "Ruiz")]
    assert EmailAddress.objects.get().person_id == person.pk
