import re

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from django.urls import get_resolver
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from rallypoint.api.models import Scope
from rallypoint.api.services import apikey_create
from tests.factories import EmailAddressFactory, PersonFactory, TagFactory

pytestmark = pytest.mark.django_db


def api_routes() -> set[str]:
    """Every /api/v1 route the URL conf serves, written the OpenAPI way."""
    resolver = get_resolver()
    routes = set()
    for pattern in resolver.url_patterns:
        if str(pattern.pattern) != "api/":
            continue
        for inner in pattern.url_patterns:
            regex = str(inner.pattern)
            if not regex.startswith("^v1"):
                continue
            path = regex.removeprefix("^v1").removesuffix("/?$").removesuffix("$")
            path = re.sub(r"\(\?P<(\w+)>\[\^/\]\+\)", r"{\1}", path).replace("\\.", ".")
            routes.add(path or "/")
    return routes


def test_openapi_document_describes_every_path(client):
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    document = response.json()
    assert document["openapi"] == "3.1.0"
    assert document["servers"] == [{"url": "http://testserver/api/v1"}]
    assert set(document["paths"]) | {"/openapi.json"} == api_routes()
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method == "parameters":
                continue
            assert operation["responses"], (path, method)


def test_openapi_document_is_a_valid_schema(client):
    schema = schemathesis.openapi.from_dict(client.get("/api/v1/openapi.json").json())
    operations = [op.ok() for op in schema.get_all_operations()]
    assert len(operations) == sum(
        len([m for m in item if m != "parameters"]) for item in schema.raw_schema["paths"].values()
    )


# Loaded at import: the document needs no database, and every operation becomes its own test.
fuzzed = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", get_wsgi_application())


@pytest.fixture
def fuzz_key(organizer, settings, request):
    """A read-write key, a person and a tag, so generated ids sometimes hit real records.
    Requests go through the WSGI application, not Django's test client: like the client, keep
    the start and end of a request from closing the test's connection (on PostgreSQL they would,
    seeing the test's transaction open, and every later query would fail)."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
        request.addfinalizer(lambda signal=signal: signal.connect(close_old_connections))
    settings.API_RATE_LIMIT = 100_000
    settings.API_HELPER_RATE_LIMIT = 100_000
    TagFactory(name="volunteer")
    EmailAddressFactory(person=PersonFactory())
    return apikey_create(name="fuzz", scope=Scope.READ_WRITE, actor=organizer)[1]


@fuzzed.parametrize()
@hypothesis_settings(
    max_examples=8, deadline=None, suppress_health_check=list(HealthCheck), derandomize=True
)
def test_api_never_answers_500_to_generated_requests(case, fuzz_key):
    case.headers = {**(case.headers or {}), "OSDI-API-Token": fuzz_key}
    case.call_and_validate(
        checks=[
            not_a_server_error,
            status_code_conformance,
            content_type_conformance,
            response_schema_conformance,
        ]
    )
