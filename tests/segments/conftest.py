"""A small fixed population: each segment test names exactly who should match."""

from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from rallypoint.core.geo import lookup_postal_code
from rallypoint.ledger.models import Activity
from rallypoint.mission.models import Campaign
from rallypoint.people.models import EmailStatus, Person, Tag
from tests.factories import (
    EmailAddressFactory,
    PersonFactory,
    PhoneNumberFactory,
    PostalAddressFactory,
    TagFactory,
    TaggingFactory,
)


@dataclass
class World:
    people: dict[str, Person]
    tags: dict[str, Tag]
    campaigns: dict[str, Campaign]

    def names(self, queryset) -> list[str]:
        by_id = {p.pk: name for name, p in self.people.items()}
        return sorted(by_id[pk] for pk in queryset.values_list("pk", flat=True))


def _at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


def _lives_in(person, postal_code):
    place = lookup_postal_code(postal_code)
    PostalAddressFactory(
        person=person,
        postal_code=postal_code,
        locality=place.locality,
        region=place.region,
        latitude=place.latitude,
        longitude=place.longitude,
    )


@pytest.fixture
def world(db) -> World:
    tags = {name: TagFactory(name=name) for name in ("volunteer", "host", "donor")}
    campaigns = {
        slug: Campaign.objects.create(name=slug.title(), slug=slug)
        for slug in ("clean-air", "vote")
    }
    ana = PersonFactory(given_name="Ana", source="join page", custom_fields={"team": "north"})
    ben = PersonFactory(given_name="Ben", source="Join Page")
    cy = PersonFactory(given_name="Cy", source="spring.csv")
    dee = PersonFactory(given_name="Dee", custom_fields={"team": "south"})
    eve = PersonFactory(given_name="Eve")
    people = {"ana": ana, "ben": ben, "cy": cy, "dee": dee, "eve": eve}
    for name, day in [("ana", "2024-01-10"), ("ben", "2024-02-01"), ("cy", "2024-06-01")]:
        Person.objects.filter(pk=people[name].pk).update(created_at=_at(day))
    Person.objects.filter(pk=dee.pk).update(created_at=_at("2023-05-05"))
    Person.objects.filter(pk=eve.pk).update(created_at=_at("2025-01-01"))

    for person, names in [(ana, ["volunteer", "host"]), (ben, ["volunteer"]), (cy, ["donor"])]:
        for name in names:
            TaggingFactory(person=person, tag=tags[name])
    EmailAddressFactory(person=ana, address="ana@example.org")
    EmailAddressFactory(person=ben, address="ben@example.org", status=EmailStatus.UNSUBSCRIBED)
    EmailAddressFactory(person=dee, address="dee@example.org", status=EmailStatus.BOUNCING)
    EmailAddressFactory(person=eve, address="eve@example.org")
    PhoneNumberFactory(person=ana, number="+13035550101", sms_consent=True)
    PhoneNumberFactory(person=cy, number="+17195550102", sms_consent=False)
    _lives_in(ana, "80202")  # Denver
    _lives_in(ben, "80302")  # Boulder, 24 miles from Denver
    _lives_in(cy, "80903")  # Colorado Springs, 64 miles
    _lives_in(dee, "10001")  # New York
    Activity.objects.create(
        person=ana, kind="sign", campaign=campaigns["clean-air"], created_at=_at("2024-03-01")
    )
    Activity.objects.create(person=dee, kind="rsvp", campaign=None, created_at=_at("2023-06-01"))
    return World(people=people, tags=tags, campaigns=campaigns)
