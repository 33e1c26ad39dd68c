import io
import random
from datetime import UTC, datetime

import pytest
from django.db.models import Min

from rallypoint.actions import demo as actions_demo
from rallypoint.actions.models import Action, Submission
from rallypoint.core.demo_support import DemoContext, day_text
from rallypoint.ledger.models import Activity, Recruitment
from rallypoint.mission import demo as mission_demo
from rallypoint.people import demo as people_demo
from rallypoint.people.models import Person

pytestmark = pytest.mark.django_db


def _depth(parent: dict[int, int], person: int) -> int:
    depth = 0
    while person in parent and depth < 100:
        person, depth = parent[person], depth + 1
    return depth


def test_demo_builds_three_live_actions_with_acts_and_deep_chains():
    ctx = DemoContext(rng=random.Random(7), people_count=300, stdout=io.StringIO())
    people_demo.build(ctx)
    mission_demo.build(ctx)
    actions_demo.build(ctx)
    actions = Action.objects.filter(campaign=ctx.data["campaign"])
    assert sorted(actions.values_list("kind", flat=True)) == ["form", "petition", "pledge"]
    submissions = Submission.objects.filter(action__in=actions)
    assert submissions.count() == int(300 * 0.62) + int(300 * 0.38) + int(300 * 0.16)
    acts = Activity.objects.filter(
        kind__in=["sign", "pledge", "submit"], details__action__isnull=False
    )
    assert acts.count() == submissions.count()
    parent = dict(
        Recruitment.objects.filter(campaign=ctx.data["campaign"]).values_list(
            "recruit_id", "recruiter_id"
        )
    )
    assert max(_depth(parent, p) for p in parent) >= 4
    form = actions.get(kind="form")
    first_question = str(form.questions.first().pk)
    assert all(s.answers[first_question] for s in form.submissions.all())


@pytest.mark.parametrize(
    "today", [datetime(2031, 11, 20, tzinfo=UTC), datetime(2032, 6, 2, tzinfo=UTC)]
)
def test_demo_pledge_names_an_election_after_today_and_recruits_follow_recruiters(today):
    ctx = DemoContext(rng=random.Random(3), people_count=120, stdout=io.StringIO(), now=today)
    people_demo.build(ctx)
    mission_demo.build(ctx)
    actions_demo.build(ctx)
    election = ctx.calendar.election_day
    assert election > today.date()
    pledge = Action.objects.get(kind="pledge", campaign=ctx.data["campaign"])
    assert pledge.title == f"Pledge to vote on {day_text(election, weekday=True)}"
    assert election.strftime("%B") in pledge.pledge_headline
    assert not Submission.objects.filter(created_at__gt=today).exists()
    joined = dict(Person.objects.values_list("pk", "created_at"))
    first = dict(
        Activity.objects.values("person_id")
        .annotate(first=Min("created_at"))
        .values_list("person_id", "first")
    )
    edges = Recruitment.objects.values_list("recruiter_id", "recruit_id", "created_at")
    assert edges
    for recruiter, recruit, at in edges:
        # A newcomer joined by the act a friend's link brought, after the friend acted.
        assert joined[recruiter] <= first[recruiter] < joined[recruit] == at
