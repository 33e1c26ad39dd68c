import io
import random

import pytest

from rallypoint.core.demo_support import DemoContext
from rallypoint.ledger.models import Activity
from rallypoint.mission import demo
from rallypoint.mission.models import Campaign
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
