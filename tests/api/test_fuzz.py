"""Fuzzing the API's JSON bodies: documents of the right shape with any text (lone surrogates and
NULs included), wrong types and hostile values in every position never get a 5xx, and any NUL or
lone surrogate anywhere gets a 400.

The suite runs the same few examples per route every time (derandomized, a few seconds); for a
deeper search run `API_FUZZ_EXAMPLES=500 pytest tests/api/test_fuzz.py`, which also varies them."""

import json
import os
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.api.conftest import Api

pytestmark = pytest.mark.django_db

DEFAULT_EXAMPLES = 20
EXAMPLES = int(os.environ.get("API_FUZZ_EXAMPLES", DEFAULT_EXAMPLES))
BAD_TEXT = re.compile(r"[\x00\ud800-\udfff]")
HOSTILE = [
    "\ud800",
    "a\udfffb",
    "\x00",
    "ana\x00@example.org",
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "<script>alert(1)</script>",
    "x" * 6000,
    "' or 1=1 --",
    "\u202e\ufeff",
    "😀",
    "-1",
    "1e309",
    "9" * 40,
    "2024-02-30T25:61:00Z",
    "Mars/Olympus",
    "",
    " ",
]
TEXT = st.one_of(
    st.text(st.characters(exclude_categories=()), max_size=40),
    st.sampled_from(HOSTILE),
)
ANY_VALUE = st.one_of(
    TEXT,
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.just([]),
    st.just({}),
)


def shaped_like(template):
    """Documents with `template`'s shape: each leaf kept or replaced by hostile text (strings) or
    by any value (other leaves); sometimes a field with a hostile name is added to an object."""
    if isinstance(template, dict):
        fields = st.fixed_dictionaries({key: shaped_like(value) for key, value in template.items()})
        extra = st.dictionaries(TEXT, ANY_VALUE, max_size=1)
        return st.tuples(fields, extra).map(lambda pair: {**pair[1], **pair[0]})
    if isinstance(template, list):
        return st.tuples(*[shaped_like(item) for item in template]).map(list)
    if isinstance(template, str):
        return st.one_of(st.just(template), TEXT)
    return st.one_of(st.just(template), ANY_VALUE)


def has_bad_text(value) -> bool:
    if isinstance(value, str):
        return BAD_TEXT.search(value) is not None
    if isinstance(value, dict):
        return any(has_bad_text(k) or has_bad_text(v) for k, v in value.items())
    if isinstance(value, list):
        return any(has_bad_text(v) for v in value)
    return False


def person_doc(email="fuzz@example.org"):
    return {
        "given_name": "Ana",
        "family_name": "Diaz",
        "email_addresses": [{"address": email, "primary": True}],
        "phone_numbers": [{"number": "12025550123", "status": "subscribed"}],
        "postal_addresses": [{"postal_code": "80202", "country": "US"}],
    }


REFERRER = {"referrer": "k3x9pq2mza", "source": "email", "url": "https://example.org/x"}


def routes(w):
    """(keyed?, method, path, template) for the routes that take a body."""
    person_href = f"https://act.example.org/api/v1/people/{w['person'].uuid}"
    return {
        "people": (
            True,
            "post",
            "people",
            {
                "person": {
                    **person_doc(),
                    "custom_fields": {"team": "north"},
                    "identifiers": ["crm:1"],
                    "languages_spoken": ["en"],
                    "postal_addresses": [
                        {
                            "address_lines": ["1 Main St"],
                            "locality": "Denver",
                            "region": "CO",
                            "postal_code": "80202",
                            "country": "US",
                            "location": {"latitude": 39.7, "longitude": -104.9},
                        }
                    ],
                },
                "add_tags": ["volunteer"],
                "remove_tags": ["lapsed"],
                "referrer_data": REFERRER,
            },
        ),
        "people keyless": (
            False,
            "post",
            "people",
            {"person": person_doc(), "referrer_data": REFERRER},
        ),
        "person update": (
            True,
            "put",
            f"people/{w['person'].uuid}",
            {
                "given_name": "Ana",
                "email_addresses": [{"address": "other@example.org", "status": "unsubscribed"}],
                "phone_numbers": [{"number": "12025550124", "status": "subscribed"}],
                "custom_fields": {"team": "south"},
            },
        ),
        "tagging": (
            True,
            "post",
            f"tags/{w['tag'].uuid}/taggings",
            {"_links": {"osdi:person": {"href": person_href}}},
        ),
        "petition": (
            True,
            "post",
            "petitions",
            {
                "title": "Save it",
                "summary": "Short",
                "description": "<p>Long</p>",
                "petition_text": "We ask",
                "target": [{"name": "Council"}],
            },
        ),
        "petition update": (
            True,
            "put",
            f"petitions/{w['petition'].uuid}",
            {"title": "Saved", "target": "Mayor", "petition_text": "Now"},
        ),
        "tag": (True, "post", "tags", {"name": "canvasser"}),
        "signature": (
            True,
            "post",
            f"petitions/{w['petition'].uuid}/signatures",
            {
                "_links": {"osdi:person": {"href": person_href}},
                "comments": "Yes",
                "add_tags": ["signer"],
                "action_network:referrer_data": {"website": "www.facebook.com"},
            },
        ),
        "signature keyless": (
            False,
            "post",
            f"petitions/{w['petition'].uuid}/signatures",
            {"person": person_doc(), "comments": "Yes", "referrer_data": REFERRER},
        ),
        "submission": (
            True,
            "post",
            f"forms/{w['form'].uuid}/submissions",
            {"person": person_doc(), "comment": "Yes", "add_tags": ["form"]},
        ),
        "event": (
            True,
            "post",
            "events",
            {
                "title": "Meet",
                "start_date": "2031-01-01T10:00:00Z",
                "end_date": "2031-01-01T12:00:00Z",
                "timezone_identifier": "America/Denver",
                "capacity": 10,
                "location": {
                    "venue": "Hall",
                    "address_lines": ["1 Main St"],
                    "postal_code": "80202",
                    "country": "US",
                },
                "contact": {"name": "Ana", "email_address": "ana@example.org"},
                "_links": {"osdi:organizer": {"href": person_href}},
            },
        ),
        "event update": (
            True,
            "put",
            f"events/{w['event'].uuid}",
            {
                "title": "Moved",
                "start_date": "2031-02-01T10:00",
                "capacity": 5,
                "visibility": "private",
                "status": "tentative",
                "location": {"venue": "Park", "location": {"latitude": 39.7, "longitude": -105}},
                "reminders": [{"method": "email", "minutes": 60}],
            },
        ),
        "attendance keyless": (
            False,
            "post",
            f"events/{w['event'].uuid}/attendances",
            {"person": person_doc(), "comment": "Hi", "rallypoint:guests": 1},
        ),
    }


@pytest.fixture(autouse=True)
def no_rate_limits(settings):
    settings.API_RATE_LIMIT = 10**6
    settings.API_HELPER_RATE_LIMIT = 10**6


ROUTE_NAMES = [
    "people",
    "people keyless",
    "person update",
    "tag",
    "tagging",
    "petition",
    "petition update",
    "signature",
    "signature keyless",
    "submission",
    "event",
    "event update",
    "attendance keyless",
]


@pytest.mark.parametrize("name", ROUTE_NAMES)
def test_fuzzed_bodies_never_get_a_server_error(client, rw_key, world, name):
    keyed, method, path, template = routes(world)[name]
    caller = Api(client, rw_key[1] if keyed else None)

    @settings(
        max_examples=EXAMPLES,
        derandomize=EXAMPLES == DEFAULT_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(shaped_like(template))
    def attempt(body):
        response = getattr(caller, method)(path, body)
        assert response.status_code < 500, (body, response.content[:500])
        if has_bad_text(body):
            assert response.status_code == 400, (body, response.content[:500])
        json.loads(response.content or b"{}")  # every answer is JSON (and encodable)

    attempt()
