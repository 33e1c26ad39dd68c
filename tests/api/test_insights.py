"""GET /api/v1/insights/spread: the numbers of `rallypoint insights spread --json` for keys."""

import json
from io import StringIO

import pytest
from django.core.management import call_command

from tests.insights.grid_world import build_world

pytestmark = pytest.mark.django_db

URL = "insights/spread"


def test_a_key_reads_the_same_numbers_as_the_command(ro_api):
    campaign, _ = build_world()
    out = StringIO()
    call_command(
        "insights", "spread", "--campaign", "grid", "--since", "2026-03-03", "--json", stdout=out
    )
    expected = json.loads(out.getvalue())
    for key in ["grid", str(campaign.pk), str(campaign.uuid)]:
        response = ro_api.get(URL, {"campaign": key, "since": "2026-03-03"})
        assert response.status_code == 200
        assert response["Content-Type"].startswith("application/hal+json")
        body = response.json()
        links = body.pop("_links")
        assert body == expected
        assert links["self"]["href"] == (
            "http://testserver/api/v1/insights/spread?campaign=grid&since=2026-03-03"
        )
    assert body["participants"] == 5  # everyone but F, who acted on the first day only
    assert body["backtest"] is None


def test_without_a_key_nothing_is_shown(anon_api):
    build_world()
    response = anon_api.get(URL, {"campaign": "grid"})
    assert response.status_code == 401
    assert "participants" not in response.content.decode()


@pytest.mark.parametrize(
    ("params", "status", "field", "text"),
    [
        ({}, 400, "campaign", "Name the campaign"),
        ({"campaign": "nope"}, 404, None, "Couldn't find a campaign"),
        ({"campaign": "99999999999999999999999"}, 404, None, "Couldn't find a campaign"),
        ({"campaign": "grid", "since": "March"}, 400, "since", "YYYY-MM-DD"),
        ({"campaign": "grid", "until": "2026-02-30"}, 400, "until", "YYYY-MM-DD"),
        (
            {"campaign": "grid", "since": "2026-03-05", "until": "2026-03-01"},
            400,
            "until",
            "before",
        ),
    ],
)
def test_bad_input_names_the_problem(api, params, status, field, text):
    build_world()
    response = api.get(URL, params)
    assert response.status_code == status
    body = response.json()
    assert text in body["error"]
    if field:
        assert body["osdi:error"]["errors"][0]["field"] == field


def test_writes_are_not_allowed(api):
    build_world()
    assert api.post(URL, {"campaign": "grid"}).status_code == 405


def test_the_openapi_document_describes_it(client):
    document = client.get("/api/v1/openapi.json").json()
    operation = document["paths"]["/insights/spread"]["get"]
    assert [p["name"] for p in operation["parameters"]] == ["campaign", "since", "until"]
    schema = document["components"]["schemas"]["SpreadSummary"]
    assert {"participants", "k_factor_interval", "by_channel", "backtest"} <= set(
        schema["required"]
    )
