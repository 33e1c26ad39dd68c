"""The tools announce their acts to webhooks: RSVPs as attendances, signatures, submissions."""

import pytest

from rallypoint.people.services import PersonData
from rallypoint.webhooks.services import hook_create
from tests.events.factories import EventFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_rsvp_reaches_an_attendance_hook(organizer, receiver):
    from rallypoint.events.services.rsvps import rsvp_create

    hook_create(name="CRM", url=receiver.url, event_types=["attendance"], actor=organizer)
    event = EventFactory(capacity=10)
    rsvp_create(event=event, person_data=PersonData(email="ana@example.org", given_name="Ana"))
    events = [item for batch in receiver.bodies() for item in batch]
    assert [e["event_type"] for e in events] == ["attendance"]
    assert events[0]["osdi:attendance"]["status"] == "accepted"


def test_rsvp_without_attendance_hook_sends_nothing(organizer, receiver):
    from rallypoint.events.services.rsvps import rsvp_create

    hook_create(name="CRM", url=receiver.url, event_types=["person.created"], actor=organizer)
    event = EventFactory(capacity=10)
    rsvp_create(event=event, person_data=PersonData(email="ana@example.org"))
    events = [item for batch in receiver.bodies() for item in batch]
    assert [e["event_type"] for e in events] == ["person.created"]
