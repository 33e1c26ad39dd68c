import io
import random

import pytest

from rallypoint.actions import demo as actions_demo
from rallypoint.actions.models import Action, Submission
from rallypoint.core.demo_support import DemoContext
from rallypoint.ledger.models import Activity, Recruitment
from rallypoint.mission import demo as mission_demo
from rallypoint.people import demo as people_demo

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
