import io
import random
from datetime import UTC, datetime, timedelta

import pytest

from rallypoint.core.demo_support import DemoContext, day_text
from rallypoint.ledger.models import Activity
from rallypoint.mission import demo
from rallypoint.mission.models import Campaign
from rallypoint.people.models import Person
from tests.factories import PersonFactory

pytestmark = pytest.mark.django_db


def test_demo_builds_live_campaign_with_three_goals_and_shares():
    people = [PersonFactory() for _ in range(30)]
    ctx = DemoContext(rng=random.Random(1), people_count=30, stdout=io.StringIO())
    ctx.data["people_ids"] = [p.pk for p in people]
    demo.build(ctx)
    campaign = ctx.data["campaign"]
    assert (campaign.slug, campaign.status) == ("fund-our-schools", "live")
    assert [(g.kind, g.target, g.region) for g in campaign.goals.all()] == [
        ("sign", 2500, ""),
        ("pledge", 1500, ""),
        ("sign", 150, "OH"),
    ]
    shares = Activity.objects.filter(kind="share", campaign=campaign)
    assert shares.count() >= 10
    assert set(shares.values_list("person_id", flat=True)) <= {p.pk for p in people}
    assert Campaign.objects.filter(status="draft").count() == 1


def test_demo_dates_follow_the_day_it_runs_and_shares_follow_joining():
    people = [PersonFactory() for _ in range(30)]
    now = datetime(2031, 6, 2, 9, tzinfo=UTC)
    Person.objects.filter(pk__in=[p.pk for p in people[:10]]).update(
        created_at=now - timedelta(days=3)
    )
    ctx = DemoContext(rng=random.Random(1), people_count=30, stdout=io.StringIO(), now=now)
    ctx.data["people_ids"] = [p.pk for p in people]
    demo.build(ctx)
    campaign = ctx.data["campaign"]
    cal = ctx.calendar
    assert (campaign.starts_at, campaign.ends_at.date()) == (
        now - timedelta(days=60),
        cal.budget_vote,
    )
    assert day_text(cal.budget_vote, weekday=True) in campaign.story
    assert [g.deadline.date() if g.deadline else None for g in campaign.goals.all()] == [
        cal.delivery_day,
        cal.election_day,
        None,
    ]
    joined = dict(Person.objects.values_list("pk", "created_at"))
    shares = Activity.objects.filter(kind="share", campaign=campaign)
    assert all(
        joined[pid] <= at <= now for pid, at in shares.values_list("person_id", "created_at")
    )
