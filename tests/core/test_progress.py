"""One rule for every progress percentage: rounded down, at most 100."""

from decimal import Decimal

import pytest
from django.template import Context, Template
from django.urls import reverse

from rallypoint.actions.queries import action_progress
from rallypoint.core.progress import percent
from rallypoint.ledger.services import activity_record
from rallypoint.mission.queries import goals_progress
from tests.actions.factories import ActionFactory, SubmissionFactory
from tests.factories import OrganizerFactory, PersonFactory
from tests.mission.factories import GoalFactory


@pytest.mark.parametrize(
    ("value", "target", "expected"),
    [
        (0, 100, 0),
        (59.5, 100, 59),
        (Decimal("59.5"), 100, 59),
        (99.9, 100, 99),
        (999, 1000, 99),
        (1499, 2500, 59),
        (0.29, 1, 29),
        (100, 100, 100),
        (101, 100, 100),
        (7, 3, 100),
        (5, 0, 0),
        (0, 0, 0),
        (-2, 100, 0),
        (3, -1, 0),
    ],
)
def test_percent_rounds_down_and_stops_at_100(value, target, expected):
    assert percent(value, target) == expected


@pytest.mark.parametrize(
    ("value", "target", "expected"),
    [("1499", "2500", "59"), ("120", "100", "100"), ("3", "0", "0"), ("x", "10", "0")],
)
def test_percent_of_filter_uses_the_same_rule(value, target, expected):
    template = Template("{% load progress %}{{ value|percent_of:target }}")
    rendered = template.render(Context({"value": _number(value), "target": _number(target)}))
    assert rendered == expected


def _number(text: str):
    return int(text) if text.isdigit() else text


@pytest.mark.django_db
def test_goal_and_action_pages_show_the_same_percent(client):
    action = ActionFactory(goal=8)
    goal = GoalFactory(campaign=action.campaign, kind="sign", target=8)
    for _ in range(7):  # 87.5%: rounding would say 88 here and 87 there
        person = PersonFactory()
        SubmissionFactory(action=action, person=person)
        activity_record(person=person, kind="sign", campaign=action.campaign)
    assert goals_progress([goal], use_cache=False)[0].percent == 87
    assert action_progress(action)["percent"] == 87
    client.force_login(OrganizerFactory())
    html = client.get(reverse("actions:organize_detail", args=[action.pk])).content.decode()
    assert '<div class="stat">87%</div>' in html
