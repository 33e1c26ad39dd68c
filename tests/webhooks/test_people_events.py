import json

import pytest

from rallypoint.api.models import Scope
from rallypoint.api.services import apikey_create
from rallypoint.people.models import Person
from rallypoint.webhooks.services import hook_create

pytestmark = pytest.mark.django_db


def test_signup_through_the_api_reaches_a_person_hook(
    client, organizer, receiver, django_capture_on_commit_callbacks
):
    hook_create(
        name="CRM",
        url=receiver.url,
        event_types=["person.created", "person.updated"],
        actor=organizer,
    )
    _, raw = apikey_create(name="k", scope=Scope.READ_WRITE, actor=organizer)
    body = {"person": {"given_name": "Ana", "email_addresses": [{"address": "ana@example.org"}]}}
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            client.post(
                "/api/v1/people",
                json.dumps(body),
                content_type="application/json",
                HTTP_OSDI_API_TOKEN=raw,
            )
    person = Person.objects.get()
    events = [item for batch in receiver.bodies() for item in batch]
    assert [e["event_type"] for e in events] == ["person.created", "person.updated"]
    record = events[0]["osdi:person"]
    assert record["identifiers"][0] == f"rallypoint:{person.uuid}"
    assert record["given_name"] == "Ana"
    assert record["_links"]["self"]["href"] == f"http://127.0.0.1:8000/api/v1/people/{person.uuid}"


def test_person_events_without_hooks_cost_nothing_after_the_first(
    client, organizer, django_capture_on_commit_callbacks, django_assert_num_queries
):
    from rallypoint.people.services import PersonData, person_match_or_create

    with django_capture_on_commit_callbacks(execute=True):
        person_match_or_create(PersonData(email="a@example.org"))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        person_match_or_create(PersonData(email="a@example.org"))
    with django_assert_num_queries(0):
        for callback in callbacks:
            callback()
