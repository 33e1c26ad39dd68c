import hashlib
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client

from rallypoint.api.models import ApiKey
from rallypoint.api.services import apikey_revoke
from rallypoint.core.models import AuditEntry
from rallypoint.people.models import Person, Tag
from tests.factories import TagFactory

pytestmark = pytest.mark.django_db

SIGNUP = {"person": {"email_addresses": [{"address": "ana@example.org"}]}}


def test_key_is_stored_hashed(rw_key):
    key, raw = rw_key
    assert raw.startswith("rp_")
    assert len(raw) == 46
    assert key.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert key.prefix == raw[:11]
    assert not ApiKey.objects.filter(key_hash=raw).exists()


def test_request_without_key_is_401(anon_api):
    response = anon_api.get("people")
    assert response.status_code == 401
    assert response.json() == {
        "osdi:error": {
            "response_code": 401,
            "reason": "Unauthorized",
            "description": "Send your API key in the OSDI-API-Token header.",
        },
        "error": "Send your API key in the OSDI-API-Token header.",
    }


def test_wrong_key_is_401_even_on_helpers(client):
    response = client.post(
        "/api/v1/people", SIGNUP, content_type="application/json", HTTP_OSDI_API_TOKEN="rp_nope"
    )
    assert response.status_code == 401
    assert Person.objects.count() == 0


def test_revoked_key_is_401_and_changes_nothing(api, rw_key):
    apikey_revoke(key=rw_key[0])
    assert api.get("people").status_code == 401
    response = api.post("tags", {"name": "x"})
    assert response.status_code == 401
    assert "revoked" in response.json()["error"]
    assert Tag.objects.count() == 0


def test_read_only_key_reads_but_cannot_write(ro_api):
    tag = TagFactory(name="keep")
    assert ro_api.get("tags").status_code == 200
    response = ro_api.post("people", SIGNUP)
    assert response.status_code == 403
    assert (
        response.json()["error"]
        == "This API key is read-only: ask an organizer for a read-write key."
    )
    assert ro_api.post("tags", {"name": "new"}).status_code == 403
    assert ro_api.delete(f"tags/{tag.uuid}/taggings/{tag.uuid}").status_code == 403
    assert Person.objects.count() == 0
    assert list(Tag.objects.values_list("name", flat=True)) == ["keep"]


@pytest.mark.parametrize(
    "name", ["osdi-api-token", "osdi_api_token", "api_key", "apikey", "token", "access_token"]
)
def test_key_in_query_string_is_refused_naming_the_header(client, rw_key, name):
    response = client.get("/api/v1/people", {name: rw_key[1]})
    assert response.status_code == 400
    error = response.json()
    assert error["error"].startswith(
        "Send your API key in the OSDI-API-Token header (or Authorization: Bearer …), never in "
        f"the URL: the {name} query parameter is refused."
    )
    assert [e["field"] for e in error["osdi:error"]["errors"]] == [name]
    assert rw_key[1] not in response.content.decode()
    rw_key[0].refresh_from_db()
    assert rw_key[0].last_used_at is None


def test_key_in_query_string_is_refused_even_with_the_header(api, rw_key):
    response = api.post("tags", {"name": "x"}, QUERY_STRING=f"osdi-api-token={rw_key[1]}")
    assert response.status_code == 400
    assert Tag.objects.count() == 0


def test_key_in_query_string_is_refused_on_keyless_helper(client, rw_key):
    response = client.post(
        f"/api/v1/people?osdi-api-token={rw_key[1]}", SIGNUP, content_type="application/json"
    )
    assert response.status_code == 400
    assert Person.objects.count() == 0


@pytest.mark.parametrize("scheme", ["Bearer", "bearer", "Token"])
def test_key_in_authorization_header(client, rw_key, scheme):
    response = client.get("/api/v1/people", HTTP_AUTHORIZATION=f"{scheme} {rw_key[1]}")
    assert response.status_code == 200


def test_authorization_header_of_another_scheme_is_not_a_key(client, rw_key):
    assert client.get("/api/v1/people", HTTP_AUTHORIZATION="Basic dXNlcjpwYXNz").status_code == 401
    keyless = client.post(
        "/api/v1/people", SIGNUP, content_type="application/json", HTTP_AUTHORIZATION="Basic eA=="
    )
    assert (keyless.status_code, keyless.json()) == (200, {})


def test_key_last_used_is_recorded(api, rw_key):
    assert rw_key[0].last_used_at is None
    api.get("people")
    rw_key[0].refresh_from_db()
    assert rw_key[0].last_used_at is not None


def test_rate_limit_answers_429_with_retry_after(api, settings):
    settings.API_RATE_LIMIT = 3
    settings.API_RATE_WINDOW = 60
    assert [api.get("people").status_code for _ in range(3)] == [200, 200, 200]
    response = api.get("people")
    assert response.status_code == 429
    assert 1 <= int(response["Retry-After"]) <= 60
    assert response.json()["osdi:error"]["response_code"] == 429
    assert api.post("tags", {"name": "x"}).status_code == 429
    assert Tag.objects.count() == 0


def test_rate_limit_for_keyless_helper_is_per_address(anon_api, settings):
    settings.API_HELPER_RATE_LIMIT = 2
    codes = [anon_api.post("people", SIGNUP).status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def test_keys_page_creates_key_shown_once(organizer_client):
    response = organizer_client.post("/api/keys/", {"name": "Warehouse", "scope": "read-write"})
    assert response.status_code == 200
    key = ApiKey.objects.get()
    raw = response.context["new_key"]
    assert key.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw in response.content.decode()
    assert response["Cache-Control"] == "no-store"
    assert key.created_by.pk == response.wsgi_request.user.pk
    assert AuditEntry.objects.filter(action="api.key.created").count() == 1
    listing = organizer_client.get("/api/keys/")
    assert raw not in listing.content.decode()
    assert key.prefix in listing.content.decode()


def test_keys_page_rejects_duplicate_and_blank_names(organizer_client):
    organizer_client.post("/api/keys/", {"name": "Warehouse", "scope": "read-only"})
    response = organizer_client.post("/api/keys/", {"name": "warehouse", "scope": "read-only"})
    assert response.status_code == 400
    assert "A key with this name is already active." in response.content.decode()
    blank = organizer_client.post("/api/keys/", {"name": "", "scope": "read-only"})
    assert blank.status_code == 400
    assert ApiKey.objects.count() == 1


def test_keys_page_revokes(organizer_client, rw_key):
    response = organizer_client.post(f"/api/keys/{rw_key[0].pk}/revoke/")
    assert response.status_code == 302
    rw_key[0].refresh_from_db()
    assert rw_key[0].revoked_at is not None


def test_keys_pages_are_for_organizers_only(supporter_client, rw_key):
    assert supporter_client.get("/api/keys/").status_code == 403
    assert (
        supporter_client.post("/api/keys/", {"name": "x", "scope": "read-write"}).status_code == 403
    )
    assert supporter_client.post(f"/api/keys/{rw_key[0].pk}/revoke/").status_code == 403
    assert Client().get("/api/keys/").status_code == 302
    rw_key[0].refresh_from_db()
    assert rw_key[0].revoked_at is None
    assert ApiKey.objects.count() == 1


def test_keys_page_query_count_is_flat(organizer_client, organizer, django_assert_num_queries):
    from rallypoint.api.services import apikey_create

    apikey_create(name="k0", scope="read-only", actor=organizer)
    organizer_client.get("/api/keys/")
    with django_assert_num_queries(3):  # session, user, keys with creators
        assert organizer_client.get("/api/keys/").status_code == 200
    apikey_create(name="k1", scope="read-only", actor=organizer)
    apikey_create(name="k2", scope="read-write", actor=organizer)
    with django_assert_num_queries(3):
        assert organizer_client.get("/api/keys/").status_code == 200


def test_apikey_command_create_list_revoke():
    out, err = StringIO(), StringIO()
    call_command(
        "apikey", "create", "--name", "cli", "--scope", "read-write", stdout=out, stderr=err
    )
    raw = out.getvalue().strip()
    key = ApiKey.objects.get()
    assert key.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert key.scope == "read-write"
    listing = StringIO()
    call_command("apikey", "list", stdout=listing)
    assert key.prefix in listing.getvalue()
    assert raw not in listing.getvalue()
    call_command("apikey", "revoke", key.prefix, stdout=StringIO())
    key.refresh_from_db()
    assert key.revoked_at is not None
    with pytest.raises(CommandError, match="No active key"):
        call_command("apikey", "revoke", "cli")


def test_apikey_command_refuses_bad_scope_and_duplicates():
    call_command("apikey", "create", "--name", "cli", stdout=StringIO(), stderr=StringIO())
    with pytest.raises(CommandError, match="already active"):
        call_command("apikey", "create", "--name", "CLI", stdout=StringIO(), stderr=StringIO())
    with pytest.raises(CommandError):
        call_command("apikey", "create", "--name", "x", "--scope", "admin")
    assert ApiKey.objects.count() == 1
