import pytest
from django.db import transaction

from rallypoint.core.inserts import insert_or_skip
from rallypoint.people.models import EmailAddress
from tests.factories import EmailAddressFactory, PersonFactory

pytestmark = pytest.mark.django_db


def test_insert_or_skip_writes_new_row_with_defaults():
    person = PersonFactory()
    email = EmailAddress(person=person, address="Ana@example.org", address_normalized="ana@x.org")
    assert insert_or_skip(email) is True
    stored = EmailAddress.objects.get(pk=email.pk)
    assert (stored.person_id, stored.status, stored.created_at is not None) == (
        person.pk,
        "subscribed",
        True,
    )
    assert email._state.adding is False


def test_insert_or_skip_conflict_writes_nothing_and_keeps_transaction_usable():
    taken = EmailAddressFactory(address="ana@example.org")
    other = PersonFactory()
    twin = EmailAddress(person=other, address="ANA@example.org", address_normalized=taken.address)
    with transaction.atomic():
        assert insert_or_skip(twin) is False
        # The surrounding transaction still works: no savepoint was needed.
        assert EmailAddress.objects.filter(address_normalized="ana@example.org").count() == 1
    assert twin.pk is None
    assert list(EmailAddress.objects.values_list("person_id", flat=True)) == [taken.person_id]
