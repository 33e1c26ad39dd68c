from datetime import timedelta

import factory
from django.utils import timezone

from rallypoint.events.models import (
    Event,
    EventHost,
    EventQuestion,
    HostRole,
    Rsvp,
    RsvpStatus,
    Shift,
)
from tests.factories import EmailAddressFactory, PersonFactory


class EventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Event

    title = factory.Sequence(lambda n: f"House party {n}")
    event_type = "house_party"
    location_mode = "in_person"
    venue = "Community hall"
    address_line = "1 Main St"
    locality = "Denver"
    region = "CO"
    postal_code = "80202"
    latitude = 39.7491
    longitude = -104.9946
    timezone = "America/Denver"
    starts_at = factory.LazyFunction(lambda: timezone.now() + timedelta(days=3))
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + timedelta(hours=2))


class EventHostFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EventHost

    event = factory.SubFactory(EventFactory)
    person = factory.SubFactory(PersonFactory)
    role = HostRole.HOST


def person_with_email(email: str | None = None, **kwargs):
    person = PersonFactory(**kwargs)
    if email is None:
        EmailAddressFactory(person=person)
    else:
        EmailAddressFactory(person=person, address=email)
    return person


class RsvpFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Rsvp

    event = factory.SubFactory(EventFactory)
    person = factory.LazyFunction(person_with_email)
    status = RsvpStatus.ACCEPTED


class ShiftFactory(factory.django.DjangoModelFactory):
    """A shift inside its event's time (the event's first hour unless told)."""

    class Meta:
        model = Shift

    event = factory.SubFactory(EventFactory)
    starts_at = factory.LazyAttribute(lambda o: o.event.starts_at)
    ends_at = factory.LazyAttribute(lambda o: o.starts_at + timedelta(hours=1))


class EventQuestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EventQuestion

    event = factory.SubFactory(EventFactory)
    kind = "text"
    label = factory.Sequence(lambda n: f"Question {n}")
