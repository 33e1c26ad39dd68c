"""rallypoint insights spread: the JSON object, the readable table, clear errors."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from rallypoint.insights.services.grid import summary_json
from tests.insights.grid_world import build_world

pytestmark = pytest.mark.django_db

KEYS = {
    "participants",
    "roots",
    "recruits",
    "k_factor",
    "k_factor_interval",
    "by_channel",
    "generations",
    "k_by_generation",
    "max_depth",
    "cascades",
    "structural_virality",
    "backtest",
}


def spread(*args: str) -> str:
    out = StringIO()
    call_command("insights", "spread", *args, stdout=out)
    return out.getvalue()


def test_json_has_the_issue_keys_and_numbers():
    build_world()
    data = json.loads(spread("--campaign", "grid", "--json"))
    assert set(data) >= KEYS
    assert data["participants"] == 6
    assert data["roots"] == 2
    assert data["recruits"] == 4
    assert data["k_factor"] == 4 / 6
    assert data["generations"] == [2, 2, 1, 1]
    assert data["k_by_generation"] == [1.0, 0.5, 1.0, 0.0]
    assert data["max_depth"] == 3
    assert data["cascades"] == 1
    assert data["structural_virality"] == 2.0
    assert data["by_channel"]["x"] == {
        "label": "X",
        "recruits": 3,
        "k_factor": 0.5,
        "k_factor_interval": data["by_channel"]["x"]["k_factor_interval"],
        "visits": 0,
        "conversions": 3,
        "conversion_rate": None,
    }
    # Four days of history: too little for the spread model's backtest.
    assert data["backtest"] is None


@pytest.mark.parametrize("page", ["insights:overview", "insights:channels", "insights:cascades"])
@pytest.mark.parametrize("window", [{}, {"since": "2026-03-03", "until": "2026-03-04"}])
def test_json_equals_the_pages_numbers(organizer_client, page, window):
    build_world()
    args = [f"--{k}={v}" for k, v in window.items()]
    data = json.loads(spread("--campaign", "grid", "--json", *args))
    response = organizer_client.get(reverse(page), {"campaign": "grid", **window})
    shown = summary_json(response.context["summary"])
    assert {k: v for k, v in data.items() if k != "backtest"} == shown


def test_without_json_a_readable_table():
    build_world()
    text = spread("--campaign", "grid")
    assert "Spread of grid, the start to now" in text
    assert "participants" in text and "6" in text
    assert any(
        line.startswith("  K-factor (95% interval)") and "0.67 (" in line
        for line in text.splitlines()
    )
    assert "    3           1  K 0.00" in text  # generation 3: one person, K 0
    assert "x                 3  K 0.50" in text
    assert "visits 0" in text


def test_an_empty_window_prints_zeros():
    build_world()
    data = json.loads(spread("--campaign", "grid", "--since", "2031-01-01", "--json"))
    assert (data["participants"], data["k_factor"], data["generations"]) == (0, 0.0, [])
    assert "nobody acted in this window" in spread("--campaign", "grid", "--since", "2031-01-01")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--campaign", "nope"], "No campaign “nope”"),
        (["--campaign", "grid", "--since", "2026-13-01"], "--since: since must be a date"),
        (["--campaign", "grid", "--until", "soon"], "--until: until must be a date"),
        (
            ["--campaign", "grid", "--since", "2026-03-05", "--until", "2026-03-01"],
            "until (2026-03-01) is before since (2026-03-05)",
        ),
    ],
)
def test_bad_input_is_a_clear_error_with_exit_code_2(args, message):
    build_world()
    with pytest.raises(CommandError) as caught:
        spread(*args)
    assert message in str(caught.value)
    assert caught.value.returncode == 2
