"""Text no database stores (NUL, lone surrogates), NaN, keys in URLs and non-web URLs: each
answered 400 with the field named, on every route, before anything is written."""

import pytest

from rallypoint.actions.models import Submission
from rallypoint.events.models import Event, Rsvp
from rallypoint.ledger.models import Activity
from rallypoint.people.models import Person, Tag, Tagging

pytestmark = pytest.mark.django_db

LONE_SURROGATE = "\ud800"
NUL = "\x00"


def snapshot():
    return (
        list(Person.objects.order_by("pk").values_list("given_name", "family_name")),
        Tag.objects.count(),
        Tagging.objects.count(),
        Submission.objects.count(),
        Event.objects.count(),
        Rsvp.objects.count(),
        Activity.objects.count(),
    )


def person_doc(text):
    return {"given_name": text, "email_addresses": [{"address": "new@example.org"}]}


# (method, path, body with `text` in one string, the field named). Paths take the world's ids.
ROUTES = [
    ("post", "people", lambda t: {"person": person_doc(t)}, "person.given_name"),
    (
        "post",
        "people",
        lambda t: {"person": {"email_addresses": [{"address": f"x{t}@example.org"}]}},
        "person.email_addresses[0].address",
    ),
    ("put", "people/{person}", lambda t: {"family_name": t}, "family_name"),
    ("post", "tags", lambda t: {"name": t}, "name"),
    (
        "post",
        "tags/{tag}/taggings",
        lambda t: {"_links": {"osdi:person": {"href": t}}},
        "_links.osdi:person.href",
    ),
    ("post", "petitions", lambda t: {"title": "Save it", "summary": t}, "summary"),
    ("put", "petitions/{petition}", lambda t: {"target": [{"name": t}]}, "target[0].name"),
    ("post", "forms", lambda t: {"title": t}, "title"),
    ("put", "forms/{form}", lambda t: {"description": t}, "description"),
    (
        "post",
        "petitions/{petition}/signatures",
        lambda t: {"person": person_doc("Lee"), "comments": t},
        "comments",
    ),
    (
        "post",
        "forms/{form}/submissions",
        lambda t: {"person": person_doc("Lee"), "referrer_data": {"source": t}},
        "referrer_data.source",
    ),
    (
        "post",
        "events",
        lambda t: {"title": "Meet", "start_date": "2031-01-01T10:00:00Z", "instructions": t},
        "instructions",
    ),
    ("put", "events/{event}", lambda t: {"location": {"venue": t}}, "location.venue"),
    (
        "post",
        "events/{event}/attendances",
        lambda t: {"person": person_doc(t)},
        "person.given_name",
    ),
]
KEYLESS = [
    route
    for route in ROUTES
    if route[0] == "post"
    and route[1].endswith(("people", "signatures", "submissions", "attendances"))
]


def route_path(template, world):
    return template.format(**{name: obj.uuid for name, obj in world.items()})


def send(client, method, path, body):
    return getattr(client, method)(path, body)


def assert_refused(response, field, char):
    assert response.status_code == 400
    error = response.json()
    assert [e["field"] for e in error["osdi:error"]["errors"]] == [field]
    expected = "NUL character" if char == NUL else "lone surrogate (\\ud800)"
    assert expected in error["osdi:error"]["errors"][0]["description"]
    assert error["error"] == f"Text that cannot be stored in: {field}."


@pytest.mark.parametrize("char", [LONE_SURROGATE, NUL], ids=["surrogate", "nul"])
@pytest.mark.parametrize("method, template, build, field", ROUTES)
def test_bad_text_in_any_body_is_400_naming_the_field(
    api, world, method, template, build, field, char
):
    before = snapshot()
    response = send(api, method, route_path(template, world), build(f"a{char}b"))
    assert_refused(response, field, char)
    assert snapshot() == before


@pytest.mark.parametrize("char", [LONE_SURROGATE, NUL], ids=["surrogate", "nul"])
@pytest.mark.parametrize("method, template, build, field", KEYLESS)
def test_bad_text_in_keyless_helper_body_is_400_naming_the_field(
    anon_api, world, method, template, build, field, char
):
    before = snapshot()
    response = send(anon_api, method, route_path(template, world), build(char))
    assert_refused(response, field, char)
    assert snapshot() == before


def test_bad_text_in_a_field_name_is_400_naming_it_escaped(api):
    response = api.post("people", {"person": {f"given{NUL}name": "Ana"}})
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["osdi:error"]["errors"]] == [
        "person.given\\u0000name"
    ]
    assert Person.objects.count() == 0


def test_bad_text_everywhere_names_every_field(api):
    body = {
        "person": {
            "given_name": LONE_SURROGATE,
            "email_addresses": [{"address": "a@example.org"}, {"address": NUL}],
        },
        "add_tags": ["ok", f"x{LONE_SURROGATE}"],
    }
    response = api.post("people", body)
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["osdi:error"]["errors"]] == [
        "person.given_name",
        "person.email_addresses[1].address",
        "add_tags[1]",
    ]
    assert Person.objects.count() == 0


def test_nul_in_keyless_html_form_is_400_naming_the_field(anon_api):
    response = anon_api.client.post(
        "/api/v1/people", {"email": "ana@example.org", "given_name": f"A{NUL}na"}
    )
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["osdi:error"]["errors"]] == ["given_name"]
    assert Person.objects.count() == 0


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_json_constants_outside_json_are_400(api, constant):
    raw = '{"person": {"email_addresses": [{"address": "a@example.org"}]}, "x": ' + constant + "}"
    response = api.post("people", raw=raw)
    assert response.status_code == 400
    assert response.json()["error"] == (
        f"The body is not valid JSON: {constant} is not a JSON value."
    )
    assert Person.objects.count() == 0


@pytest.mark.parametrize(
    "path, params, field",
    [
        ("people", {"filter": f"given_name eq 'a{NUL}'"}, "filter"),
        ("tags", {"filter": f"name eq '{NUL}'"}, "filter"),
        ("petitions", {"filter": f"title ne 'x{NUL}y'"}, "filter"),
        ("forms", {"filter": f"title eq '{NUL}'"}, "filter"),
        ("events", {"filter": f"region eq '{NUL}'"}, "filter"),
        ("lists", {"filter": f"name eq '{NUL}'"}, "filter"),
        ("people", {f"x{NUL}": "1"}, "x\\u0000"),
        ("events", {"per_page": "5", "q": f"{NUL}"}, "q"),
    ],
)
def test_nul_in_query_string_is_400_naming_the_parameter(api, world, path, params, field):
    response = api.get(route_path(path, world), params)
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["osdi:error"]["errors"]] == [field]


def test_filter_with_nul_on_related_field_is_400(api, world):
    response = api.get("people", {"filter": f"email_address eq 'ana{NUL}@example.org'"})
    assert response.status_code == 400
    assert response.json()["error"] == "Text that cannot be stored in: filter."


# --- URL fields -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(document.cookie)",
        "JavaScript:alert(1)",
        "java\tscript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "file:///etc/passwd",
    ],
)
@pytest.mark.parametrize("key", ["url", "website"])
def test_referrer_url_other_than_http_is_400(anon_api, world, url, key):
    body = {"person": person_doc("Lee"), "referrer_data": {key: url}}
    before = snapshot()
    response = anon_api.post("people", body)
    assert response.status_code == 400
    assert [e["field"] for e in response.json()["osdi:error"]["errors"]] == [f"referrer_data.{key}"]
    assert snapshot() == before


def test_referrer_url_other_than_http_is_400_with_a_key_too(api, world):
    response = api.post(
        route_path("petitions/{petition}/signatures", world),
        {
            "person": person_doc("Lee"),
            "action_network:referrer_data": {"url": "javascript:alert(1)"},
        },
    )
    assert response.status_code == 400
    assert response.json()["error"] == (
        "action_network:referrer_data.url must be an http(s) address, not javascript:."
    )
    assert Submission.objects.count() == 0


@pytest.mark.parametrize(
    "referrer_data",
    [
        {"url": "https://example.org/petition?ref=1", "website": "www.facebook.com"},
        {"url": "http://example.org/", "website": "https://m.facebook.com"},
    ],
)
def test_referrer_web_urls_are_accepted(anon_api, referrer_data):
    body = {"person": person_doc("Lee"), "referrer_data": referrer_data}
    assert anon_api.post("people", body).status_code == 200
    assert Person.objects.count() == 1


def test_link_href_other_than_http_is_400(api, world):
    href = f"javascript:alert(1)//people/{world['person'].uuid}"
    response = api.post(
        route_path("tags/{tag}/taggings", world), {"_links": {"osdi:person": {"href": href}}}
    )
    assert response.status_code == 400
    assert response.json()["error"] == (
        "_links.osdi:person.href must be an http(s) address, not javascript:."
    )
    assert Tagging.objects.count() == 0
