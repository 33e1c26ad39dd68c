from datetime import timedelta

import pytest
from django.utils import timezone

from rallypoint.ledger.queries import reach, recruits_of
from rallypoint.ledger.services import activity_record
from rallypoint.people.referral import Referral
from rallypoint.sharing.queries import (
    chain_to_root,
    generation_counts,
    generations,
    max_generation,
    per_channel_counts,
    recruiter_of,
    top_recruiters,
)
from tests.factories import PersonFactory
from tests.mission.factories import CampaignFactory

pytestmark = pytest.mark.django_db


def _recruit(recruiter, campaign, channel="x", *, at=None):
    person = PersonFactory()
    activity_record(
        person=person,
        kind="sign",
        campaign=campaign,
        referral=Referral(code=recruiter.share_code, channel=channel),
        person_created=True,
        at=at,
    )
    return person


@pytest.fixture
def tree():
    """root → a → b → c (a chain four generations deep), root → d (sms), a → e (email)."""
    campaign = CampaignFactory()
    root = PersonFactory()
    activity_record(person=root, kind="sign", campaign=campaign)
    a = _recruit(root, campaign, "whatsapp")
    b = _recruit(a, campaign, "x")
    c = _recruit(b, campaign, "x")
    d = _recruit(root, campaign, "sms")
    e = _recruit(a, campaign, "email")
    return campaign, root, a, b, c, d, e


def test_recruits_of_lists_direct_recruits_newest_first(tree):
    campaign, root, a, b, c, d, e = tree
    assert [edge.recruit for edge in recruits_of(root, campaign)] == [d, a]
    assert [edge.recruit for edge in recruits_of(a)] == [e, b]
    assert list(recruits_of(c)) == []


def test_chain_to_root_walks_up_generations(tree, django_assert_num_queries):
    campaign, root, a, b, c, d, e = tree
    with django_assert_num_queries(2):
        assert chain_to_root(c, campaign) == [c, b, a, root]
    with django_assert_num_queries(2):
        assert chain_to_root(d, campaign) == [d, root]
    assert chain_to_root(root, campaign) == [root]


def test_chain_to_root_stays_within_campaign(tree):
    campaign, root, a, b, c, d, e = tree
    other = CampaignFactory()
    assert chain_to_root(c, other) == [c]


def test_recruiter_of(tree):
    campaign, root, a, b, c, d, e = tree
    assert recruiter_of(b, campaign) == a
    assert recruiter_of(root, campaign) is None


def test_reach_counts_everyone_downstream(tree):
    campaign, root, a, b, c, d, e = tree
    assert (reach(root), reach(a), reach(b), reach(c)) == (5, 3, 1, 0)
    assert reach(root, campaign) == 5
    assert reach(root, CampaignFactory()) == 0


def test_generations_and_counts(tree):
    campaign, root, a, b, c, d, e = tree
    depth = generations(campaign)
    assert depth == {root.pk: 0, a.pk: 1, d.pk: 1, b.pk: 2, e.pk: 2, c.pk: 3}
    assert generation_counts(campaign) == {0: 1, 1: 2, 2: 2, 3: 1}
    assert max_generation(campaign) == 3


def test_generations_of_empty_campaign():
    campaign = CampaignFactory()
    assert (generations(campaign), max_generation(campaign)) == ({}, 0)


def test_per_channel_counts(tree):
    campaign, root, a, b, c, d, e = tree
    activity_record(person=a, kind="share", campaign=campaign, channel="x")
    activity_record(person=a, kind="share", campaign=campaign, channel="facebook")
    rows = per_channel_counts(campaign)
    assert rows == [
        {"channel": "x", "label": "X", "recruits": 2, "shares": 1, "referred_acts": 2},
        {"channel": "email", "label": "Email", "recruits": 1, "shares": 0, "referred_acts": 1},
        {"channel": "sms", "label": "SMS", "recruits": 1, "shares": 0, "referred_acts": 1},
        {
            "channel": "whatsapp",
            "label": "WhatsApp",
            "recruits": 1,
            "shares": 0,
            "referred_acts": 1,
        },
        {
            "channel": "facebook",
            "label": "Facebook",
            "recruits": 0,
            "shares": 1,
            "referred_acts": 0,
        },
    ]


def test_top_recruiters(tree):
    campaign, root, a, b, c, d, e = tree
    rows = top_recruiters(campaign)
    assert [(row["recruiter_id"], row["recruits"]) for row in rows] == [
        (root.pk, 2),
        (a.pk, 2),
        (b.pk, 1),
    ]


def test_chain_ignores_time_order_of_edges():
    campaign = CampaignFactory()
    root = PersonFactory()
    activity_record(person=root, kind="sign", campaign=campaign)
    later = timezone.now() + timedelta(days=1)
    child = _recruit(root, campaign, at=later)
    grandchild = _recruit(child, campaign)
    assert chain_to_root(grandchild, campaign) == [grandchild, child, root]
