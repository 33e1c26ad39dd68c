"""Factories for the people tests, on top of the suite-wide ones."""

import factory

from rallypoint.ledger.models import Activity
from tests.factories import EmailAddressFactory, PersonFactory


class ActivityFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Activity

    person = factory.SubFactory(PersonFactory)
    kind = "sign"
    points = 1
    created_at = factory.Faker("date_time_this_year", tzinfo=__import__("datetime").timezone.utc)


def person_with_email(address: str, **kwargs):
    person = PersonFactory(**kwargs)
    EmailAddressFactory(person=person, address=address)
    return person
