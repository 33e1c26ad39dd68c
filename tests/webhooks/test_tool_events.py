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


def _events(receiver) -> list[str]:
    return [item["event_type"] for batch in receiver.bodies() for item in batch]


def test_petition_signature_reaches_a_signature_hook_once(organizer, receiver):
    from rallypoint.actions.services import submission_record
    from tests.actions.factories import ActionFactory

    hook_create(name="CRM", url=receiver.url, event_types=["signature"], actor=organizer)
    petition = ActionFactory()
    for _ in range(2):  # the second signature is answered politely, not recorded
        submission_record(action=petition, person_data=PersonData(email="ana@example.org"))
    assert _events(receiver) == ["signature"]


def test_form_answer_reaches_a_submission_hook(organizer, receiver):
    from rallypoint.actions.services import submission_record
    from tests.actions.factories import FormFactory

    hook_create(
        name="CRM", url=receiver.url, event_types=["signature", "submission"], actor=organizer
    )
    submission_record(action=FormFactory(), person_data=PersonData(email="ana@example.org"))
    assert _events(receiver) == ["submission"]


def test_explicit_unsubscribe_reaches_an_unsubscribe_hook(organizer, receiver):
    from rallypoint.people.services import person_match_or_create

    hook_create(name="CRM", url=receiver.url, event_types=["unsubscribe"], actor=organizer)
    person_match_or_create(PersonData(email="ana@example.org"))
    person_match_or_create(PersonData(email="ANA@example.org", email_status="unsubscribed"))
    person_match_or_create(PersonData(email="ana@example.org", email_status="unsubscribed"))
    assert _events(receiver) == ["unsubscribe"]


def test_organizer_edit_reaches_a_person_updated_hook(organizer, receiver):
    from rallypoint.people.services import person_match_or_create, person_update

    person, _ = person_match_or_create(PersonData(email="ana@example.org"))
    hook_create(name="CRM", url=receiver.url, event_types=["person.updated"], actor=organizer)
    person_update(person=person, actor=organizer, given_name="Ana")
    assert _events(receiver) == ["person.updated"]
