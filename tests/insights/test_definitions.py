"""Every definition of docs/insights.md on small hand-made graphs, with exact numbers."""

import math
from datetime import date, timedelta

import networkx as nx
import pytest

from rallypoint.insights.services.forest import Forest
from rallypoint.insights.services.grid import (
    Z95,
    Window,
    WindowError,
    rate_interval,
    spread_summary,
    summary_json,
    window_parse,
)
from rallypoint.ledger.models import Recruitment
from rallypoint.ledger.services import activity_record
from rallypoint.people.referral import Referral
from tests.factories import PersonFactory
from tests.insights.grid_world import acts, build_world, day, recruits
from tests.mission.factories import CampaignFactory

pytestmark = pytest.mark.django_db


def summary(campaign, since=None, until=None):
    return spread_summary(campaign, since, until, use_cache=False)


def test_participants_roots_recruits_and_k_factor_of_the_whole_campaign():
    campaign, _ = build_world()
    s = summary(campaign)
    assert s.participants == 6
    assert s.roots == 2
    assert s.recruits == 4
    assert s.k_factor == 4 / 6
    assert s.k_factor_interval == rate_interval(4, 6)


def test_generations_count_people_per_generation_and_k_per_generation():
    campaign, _ = build_world()
    s = summary(campaign)
    assert s.generations == [2, 2, 1, 1]
    assert sum(s.generations) == s.participants
    assert s.k_by_generation == [2 / 2, 1 / 2, 1 / 1, 0 / 1]
    assert s.k_by_generation_interval == [
        rate_interval(2, 2),
        rate_interval(1, 2),
        rate_interval(1, 1),
        rate_interval(0, 1),
    ]
    assert s.max_depth == 3


def test_a_cascade_is_a_root_with_everyone_they_brought_in():
    campaign, people = build_world()
    s = summary(campaign)
    # F brought nobody in: a root, not a cascade.
    assert s.cascades == 1
    assert s.cascade_sizes == {5: 1}
    assert s.cascade_depths == {3: 1}
    (largest,) = s.largest
    assert largest.root_id == people["A"].pk
    assert (largest.size, largest.depth) == (5, 3)
    # Edges A–B (3 below), A–C (1), B–D (2), D–E (1): W = 3·2 + 1·4 + 2·3 + 1·4 = 20.
    assert largest.structural_virality == 2 * 20 / (5 * 4)
    tree = nx.Graph([("A", "B"), ("A", "C"), ("B", "D"), ("D", "E")])
    assert largest.structural_virality == pytest.approx(nx.average_shortest_path_length(tree))
    assert s.structural_virality == largest.structural_virality


def test_channels_recruits_k_factor_and_conversions():
    campaign, people = build_world()
    acts(people["B"], campaign, day(5), kind="rsvp")  # a second act of someone X brought in
    s = summary(campaign)
    assert list(s.by_channel) == ["x", "email"]
    x, email = s.by_channel["x"], s.by_channel["email"]
    assert (x.recruits, x.k_factor, x.k_factor_interval) == (3, 3 / 6, rate_interval(3, 6))
    assert (email.recruits, email.k_factor) == (1, 1 / 6)
    # Acts by people who arrived through the channel ("recruit" credits left out): B signed
    # and RSVPd, D and E signed; C signed.
    assert (x.conversions, email.conversions) == (4, 1)
    # No share-link visits to the campaign's pages: no conversion rate yet.
    assert (x.visits, x.conversion_rate) == (0, None)


def test_conversion_rate_divides_by_share_link_visits_to_the_campaigns_pages():
    from django.urls import reverse

    from rallypoint.sharing.models import ShareVisit

    campaign, people = build_world()
    page = reverse("mission:detail", args=[campaign.slug])
    ShareVisit.objects.create(day=day(2).date(), code="a", channel="x", path=page, count=8)
    ShareVisit.objects.create(day=day(2).date(), code="a", channel="x", path="/other/", count=50)
    x = summary(campaign).by_channel["x"]
    assert (x.visits, x.conversions, x.conversion_rate) == (8, 3, 3 / 8)
    assert summary(campaign, since=day(3).date()).by_channel["x"].visits == 0


def test_time_from_arrival_to_first_recruit():
    campaign, _ = build_world()
    first = summary(campaign).first_recruit
    # A (day 1 → B on day 2), B (day 2 → D on day 3), D (day 3 → E on day 4).
    assert first.people == 3
    assert first.median_hours == 24.0
    assert dict(first.buckets) == {
        "under an hour": 0,
        "1 to 24 hours": 0,
        "1 to 7 days": 3,
        "7 to 30 days": 0,
        "30 days or more": 0,
    }


def test_a_window_counts_its_own_acts_and_recruits_with_generations_from_the_whole_grid():
    campaign, _ = build_world()
    s = summary(campaign, since=day(3).date())
    # Acting on day 3 or later: D (signed), B (credited for D), E (signed), D (credited).
    assert s.participants == 3
    assert s.recruits == 2
    assert s.k_factor == 2 / 3
    assert s.roots == 0
    assert s.generations == [0, 1, 1, 1]
    assert s.k_by_generation == [None, 1.0, 1.0, 0.0]
    assert s.k_by_generation_interval[0] is None
    # The cascade counts (its members acted in the window) with its size at the window's end.
    assert s.cascades == 1
    assert s.cascade_sizes == {5: 1}
    first = s.first_recruit
    assert (first.people, first.median_hours) == (2, 24.0)  # B and D; A's came on day 2


def test_a_window_ending_early_sees_the_grid_as_it_stood():
    campaign, _ = build_world()
    s = summary(campaign, until=day(2).date())
    assert (s.participants, s.recruits, s.generations) == (4, 2, [2, 2])
    assert s.cascade_sizes == {3: 1}
    assert s.max_depth == 1


def test_an_empty_window_gives_zeros():
    campaign, _ = build_world()
    s = summary(campaign, since=date(2030, 1, 1), until=date(2030, 1, 31))
    data = summary_json(s)
    assert {k: data[k] for k in data if k not in {"campaign", "since", "until"}} == {
        "participants": 0,
        "roots": 0,
        "recruits": 0,
        "k_factor": 0.0,
        "k_factor_interval": [0.0, 0.0],
        "by_channel": {},
        "generations": [],
        "k_by_generation": [],
        "k_by_generation_interval": [],
        "max_depth": 0,
        "cascades": 0,
        "cascade_sizes": {},
        "cascade_depths": {},
        "structural_virality": 0.0,
        "largest_cascades": [],
        "time_to_first_recruit": {
            "people": 0,
            "median_hours": None,
            "buckets": {
                "under an hour": 0,
                "1 to 24 hours": 0,
                "1 to 7 days": 0,
                "7 to 30 days": 0,
                "30 days or more": 0,
            },
        },
    }


def test_a_campaign_without_any_act_gives_zeros():
    s = summary(CampaignFactory())
    assert (s.participants, s.recruits, s.k_factor, s.generations, s.cascades) == (
        0,
        0,
        0.0,
        [],
        0,
    )


def test_people_in_two_campaigns_are_counted_in_each():
    grid, people = build_world()
    other = CampaignFactory(slug="other")
    # In the other campaign B is a root who brings A in.
    acts(people["B"], other, day(1))
    recruits(people["B"], people["A"], other, day(2), "whatsapp")
    s = summary(other)
    assert (s.participants, s.roots, s.recruits, s.generations) == (2, 1, 1, [1, 1])
    assert list(s.by_channel) == ["whatsapp"]
    assert summary(grid).generations == [2, 2, 1, 1]  # unchanged


def test_self_referral_is_ignored():
    campaign, people = build_world()
    g = PersonFactory(given_name="G")
    own = Referral(code=g.share_code, channel="x")
    activity_record(person=g, kind="sign", campaign=campaign, referral=own, at=day(5))
    assert not Recruitment.objects.filter(recruit=g).exists()
    s = summary(campaign)
    assert (s.participants, s.roots, s.recruits) == (7, 3, 4)


def test_structural_virality_of_a_star_and_a_path():
    # A star of 4 (one person brought 3): mean distance 1.5. A path of 4: 5/3.
    star = Forest.build([(1, 2), (1, 3), (1, 4)]).cascade(1)
    path = Forest.build([(1, 2), (2, 3), (3, 4)]).cascade(1)
    assert (star.size, star.depth, star.structural_virality) == (4, 1, 1.5)
    assert (path.size, path.depth, path.structural_virality) == (4, 3, 5 / 3)
    assert star.structural_virality == nx.average_shortest_path_length(nx.star_graph(3))
    assert path.structural_virality == pytest.approx(
        nx.average_shortest_path_length(nx.path_graph(4))
    )


def test_structural_virality_in_the_summary_is_the_mean_over_cascades():
    campaign = CampaignFactory()
    star_root, path_root = PersonFactory(), PersonFactory()
    acts(star_root, campaign, day(1))
    acts(path_root, campaign, day(1))
    for _ in range(3):
        recruits(star_root, PersonFactory(), campaign, day(2))
    previous = path_root
    for n in range(3):
        person = PersonFactory()
        recruits(previous, person, campaign, day(2 + n))
        previous = person
    s = summary(campaign)
    assert s.cascades == 2
    assert s.cascade_sizes == {4: 2}
    assert s.cascade_depths == {1: 1, 3: 1}
    assert s.structural_virality == (1.5 + 5 / 3) / 2
    assert s.virality_distribution == [("1.5–2.0", 2)]


def test_wiener_index_formula_matches_networkx_on_a_bigger_tree():
    tree = nx.random_labeled_tree(60, seed=16)
    directed = nx.bfs_tree(tree, 0)
    forest = Forest.build(directed.edges)
    assert forest.cascade(0).structural_virality == pytest.approx(
        nx.average_shortest_path_length(tree)
    )
    assert forest.wiener_index(0) == nx.wiener_index(tree)


def test_the_k_factor_interval_is_the_poisson_score_interval():
    low, high = rate_interval(4, 6)
    half = Z95 * math.sqrt(4 + Z95**2 / 4)
    assert (low, high) == ((4 + Z95**2 / 2 - half) / 6, (4 + Z95**2 / 2 + half) / 6)
    assert rate_interval(0, 10) == (0.0, Z95**2 / 10)
    assert rate_interval(3, 0) == (0.0, 0.0)


def test_windows_are_whole_days_and_bad_dates_are_refused_clearly():
    assert window_parse("2026-03-01", "2026-03-31") == Window(date(2026, 3, 1), date(2026, 3, 31))
    assert window_parse("", None) == Window()
    with pytest.raises(WindowError, match="since must be a date written as YYYY-MM-DD"):
        window_parse("March 1st", None)
    with pytest.raises(WindowError, match=r"until \(2026-02-01\) is before since") as caught:
        window_parse("2026-03-01", "2026-02-01")
    assert caught.value.field == "until"
    with pytest.raises(WindowError) as caught:
        window_parse("2026-13-01\x00", None)
    assert "\\x00" in str(caught.value)


def test_the_summary_reads_the_grid_in_a_fixed_number_of_queries(django_assert_num_queries):
    small, _ = build_world()
    big = CampaignFactory()
    root = PersonFactory()
    acts(root, big, day(1))
    people = [root]
    for n in range(30):
        person = PersonFactory()
        recruits(people[n // 3], person, big, day(2 + n // 10), ["x", "email", "sms"][n % 3])
        people.append(person)
    # The edges and the acts (each in one query, whatever their number), the campaign's pages
    # (its own, its actions', its events') and their visits.
    for campaign in (small, big):
        with django_assert_num_queries(6):
            summary(campaign)
        with django_assert_num_queries(6):
            summary(campaign, since=day(1).date())


def test_a_window_starts_to_the_microsecond():
    campaign, _ = build_world()
    start = Window(since=day(6).date()).start
    early, on_time = PersonFactory(), PersonFactory()
    acts(early, campaign, start - timedelta(microseconds=1))
    acts(on_time, campaign, start)
    s = summary(campaign, since=day(6).date())
    assert (s.participants, s.roots) == (1, 1)
