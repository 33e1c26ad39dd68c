import json
from datetime import timedelta

import pytest
from django.utils import timezone

from rallypoint.actions.services import action_create
from rallypoint.api.models import Scope
from rallypoint.api.services import apikey_create
from rallypoint.events.services import EventData, event_create
from tests.factories import EmailAddressFactory, PersonFactory, TagFactory


@pytest.fixture
def petition(organizer):
    return action_create(actor=organizer, title="Fund the library", kind="petition", status="live")


@pytest.fixture
def event(organizer):
    start = timezone.now().replace(microsecond=0) + timedelta(days=3)
    return event_create(
        data=EventData(
            title="Canvass",
            starts_at=start,
            ends_at=start + timedelta(hours=2),
            postal_code="80202",
            venue="Union Hall",
        ),
        host=PersonFactory(),
        actor=organizer,
    )


@pytest.fixture
def world(organizer, petition, event):
    """One of each thing an API route can name, and a person (Ana) to link to."""
    person = PersonFactory(given_name="Ana")
    EmailAddressFactory(person=person, address="ana@example.org")
    return {
        "person": person,
        "tag": TagFactory(name="volunteer"),
        "petition": petition,
        "form": action_create(actor=organizer, title="Volunteer", kind="form", status="live"),
        "event": event,
    }


@pytest.fixture
def rw_key(organizer):
    return apikey_create(name="sync", scope=Scope.READ_WRITE, actor=organizer)


@pytest.fixture
def ro_key(organizer):
    return apikey_create(name="reader", scope=Scope.READ_ONLY, actor=organizer)


class Api:
    """A test client that speaks to /api/v1 with a key."""

    def __init__(self, client, raw_key: str | None):
        self.client = client
        self.raw_key = raw_key

    def _headers(self, extra):
        headers = {"HTTP_OSDI_API_TOKEN": self.raw_key} if self.raw_key else {}
        headers.update(extra)
        return headers

    def url(self, path: str) -> str:
        return path if path.startswith("/") else f"/api/v1/{path}"

    def get(self, path, data=None, **extra):
        return self.client.get(self.url(path), data or {}, **self._headers(extra))

    def post(self, path, body=None, *, raw=None, content_type="application/json", **extra):
        payload = raw if raw is not None else json.dumps(body if body is not None else {})
        return self.client.post(
            self.url(path), payload, content_type=content_type, **self._headers(extra)
        )

    def put(self, path, body=None, **extra):
        return self.client.put(
            self.url(path),
            json.dumps(body or {}),
            content_type="application/json",
            **self._headers(extra),
        )

    def delete(self, path, **extra):
        return self.client.delete(self.url(path), **self._headers(extra))


@pytest.fixture
def api(client, rw_key):
    return Api(client, rw_key[1])


@pytest.fixture
def ro_api(client, ro_key):
    return Api(client, ro_key[1])


@pytest.fixture
def anon_api(client):
    return Api(client, None)
