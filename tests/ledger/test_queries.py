from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone

from rallypoint.ledger.queries import (
    campaign_feed,
    leaderboard,
    person_points,
    person_rank,
    person_timeline,
    supporter_dashboard,
)
from rallypoint.ledger.services import activity_record
from rallypoint.mission.queries import goals_progress_counts
from rallypoint.people.referral import Referral
from tests.factories import PersonFactory, PostalAddressFactory, TagFactory, TaggingFactory
from tests.mission.factories import CampaignFactory, GoalFactory

pytestmark = pytest.mark.django_db


def _act(person, kind, campaign, **kwargs):
    return activity_record(person=person, kind=kind, campaign=campaign, **kwargs)


def test_progress_exact_after_fixed_sequence_of_acts():
    campaign, other = CampaignFactory(), CampaignFactory()
    signatures = GoalFactory(campaign=campaign, kind="sign", target=10)
    shares = GoalFactory(campaign=campaign, kind="share", target=5)
    money = GoalFactory(campaign=campaign, kind="donate", target=1000)
    people = [PersonFactory() for _ in range(4)]
    for person in people:
        _act(person, "sign", campaign)
    _act(people[0], "share", campaign, channel="x")
    _act(people[0], "share", campaign, channel="email")
    _act(people[1], "donate", campaign, quantity=2550)  # $25.50
    _act(people[2], "donate", campaign, quantity=10000)  # $100.00
    _act(people[3], "sign", other)  # another campaign's signature
    _act(people[3], "pledge", campaign)  # a kind no goal counts
    progress = goals_progress_counts([signatures, shares, money], use_cache=False)
    assert progress == {signatures.pk: 4, shares.pk: 2, money.pk: 125}


def test_progress_region_filter_counts_primary_address_once():
    campaign = CampaignFactory()
    ohio = GoalFactory(campaign=campaign, kind="sign", target=100, region="OH")
    everywhere = GoalFactory(campaign=campaign, kind="sign", target=100)
    columbus = PersonFactory()
    PostalAddressFactory(person=columbus, region="OH", postal_code="43215")
    PostalAddressFactory(person=columbus, region="OH", primary=False, postal_code="44101")
    moved = PersonFactory()  # used to live in Ohio; primary address is Denver now
    PostalAddressFactory(person=moved, region="CO")
    PostalAddressFactory(person=moved, region="OH", primary=False, postal_code="43004")
    nowhere = PersonFactory()
    for person in (columbus, moved, nowhere):
        _act(person, "sign", campaign)
    _act(columbus, "sign", campaign)
    progress = goals_progress_counts([ohio, everywhere], use_cache=False)
    assert progress == {ohio.pk: 2, everywhere.pk: 4}


def test_progress_is_cached_briefly_then_fresh():
    campaign = CampaignFactory()
    goal = GoalFactory(campaign=campaign, kind="sign", target=10)
    _act(PersonFactory(), "sign", campaign)
    assert goals_progress_counts([goal]) == {goal.pk: 1}
    _act(PersonFactory(), "sign", campaign)
    assert goals_progress_counts([goal]) == {goal.pk: 1}
    cache.clear()  # what the 5-second expiry does
    assert goals_progress_counts([goal]) == {goal.pk: 2}


def test_progress_is_one_query_for_many_goals(django_assert_num_queries):
    campaign = CampaignFactory()
    goals = [GoalFactory(campaign=campaign, kind=k, target=5) for k in ("sign", "join", "share")]
    with django_assert_num_queries(1):
        goals_progress_counts(goals, use_cache=False)


def test_feed_shows_first_name_initial_and_city_or_someone():
    campaign = CampaignFactory()
    ana = PersonFactory(given_name="Ana", family_name="Garcia")
    PostalAddressFactory(person=ana, locality="Denver")
    hidden = PersonFactory(given_name="Secret", public_display=False)
    PostalAddressFactory(person=hidden, locality="Austin")
    now = timezone.now()
    _act(ana, "sign", campaign, at=now - timedelta(minutes=2))
    _act(hidden, "pledge", campaign, at=now - timedelta(minutes=1))
    _act(ana, "share", campaign, channel="x", at=now)
    feed = campaign_feed(campaign, use_cache=False)
    assert [item.sentence for item in feed] == [
        "Someone made a pledge",
        "Ana G. from Denver signed the petition",
    ]


def test_leaderboard_ranks_points_skips_hidden_people_and_shares_ties():
    campaign = CampaignFactory()
    ana = PersonFactory(given_name="Ana", family_name="Lopez")
    ben = PersonFactory(given_name="Ben", family_name="Kim")
    cal = PersonFactory(given_name="Cal", family_name="")
    hidden = PersonFactory(public_display=False)
    _act(ana, "host", campaign)  # 10
    _act(ben, "sign", campaign)  # 1
    _act(cal, "sign", campaign)  # 1
    _act(hidden, "host", campaign)
    _act(hidden, "host", campaign)
    board = leaderboard(campaign, use_cache=False)
    assert [(r.rank, r.name, r.points) for r in board] == [
        (1, "Ana L.", 10),
        (2, "Ben K.", 1),
        (2, "Cal", 1),
    ]
    assert person_rank(ben, campaign) == 2
    assert person_rank(hidden, campaign) is None


def test_person_points_by_campaign_and_overall():
    first, second = CampaignFactory(), CampaignFactory(points={"sign": 3})
    ana, ben = PersonFactory(), PersonFactory()
    _act(ana, "sign", first)
    _act(ana, "sign", second)
    _act(ben, "sign", second, referral=Referral(code=ana.share_code), person_created=True)
    assert person_points(ana, first) == 1
    assert person_points(ana, second) == 3 + 5
    assert person_points(ana) == 9


def test_person_timeline_query_count_same_for_one_and_three_acts(django_assert_num_queries):
    campaign = CampaignFactory()
    person = PersonFactory()
    target = PersonFactory()
    _act(person, "sign", campaign, target=target)
    with django_assert_num_queries(2):  # acts with campaign/referrer/type, then targets
        assert len(list(person_timeline(person))) == 1
    _act(person, "share", campaign, target=target, channel="x")
    _act(person, "join", None, target=target)
    with django_assert_num_queries(2):
        rows = list(person_timeline(person))
    assert [row.kind for row in rows] == ["join", "share", "sign"]
    assert rows[0].target == target


def test_supporter_dashboard_query_count_same_for_one_and_three_recruits(
    django_assert_num_queries,
):
    campaign = CampaignFactory()
    ana = PersonFactory()
    _act(ana, "sign", campaign)

    def recruit():
        _act(
            PersonFactory(),
            "sign",
            campaign,
            referral=Referral(code=ana.share_code, channel="x"),
            person_created=True,
        )

    recruit()
    with django_assert_num_queries(9):
        data = supporter_dashboard(ana)
    assert (data["recruit_count"], data["reach"], data["points"]) == (1, 1, 6)
    recruit()
    recruit()
    with django_assert_num_queries(9):
        data = supporter_dashboard(ana)
    assert (data["recruit_count"], data["reach"], data["points"]) == (3, 3, 16)
    assert [row["campaign"] for row in data["campaigns"]] == [campaign]


def test_progress_segment_filter_counts_only_segment_members():
    from rallypoint.segments.models import Segment

    campaign = CampaignFactory()
    volunteers = TagFactory(name="volunteer")
    segment = Segment.objects.create(
        name="Volunteers",
        slug="volunteers",
        definition={
            "match": "all",
            "conditions": [{"type": "tags", "mode": "any", "tags": [volunteers.pk]}],
            "exclude_segments": [],
        },
    )
    members = GoalFactory(campaign=campaign, kind="sign", target=10, segment=segment)
    everyone = GoalFactory(campaign=campaign, kind="sign", target=10)
    inside, outside = PersonFactory(), PersonFactory()
    TaggingFactory(person=inside, tag=volunteers)
    _act(inside, "sign", campaign)
    _act(inside, "sign", campaign)
    _act(outside, "sign", campaign)
    assert goals_progress_counts([members, everyone], use_cache=False) == {
        members.pk: 2,
        everyone.pk: 3,
    }
    assert members.display_title == "10 signatures from Volunteers"
