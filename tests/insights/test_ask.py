"""Whom to ask next: CELF and IMM on graphs whose best answer is known, against the heuristics,
and the choice saved as a segment."""

import pytest

from rallypoint.insights.services.ask import (
    SpreadGraph,
    ask_compute,
    ask_segment_save,
    celf,
    imm,
    reach_simulate,
    top_by,
)
from rallypoint.ledger.models import Activity, Recruitment
from rallypoint.segments.queries import segment_people
from tests.factories import OrganizerFactory, PersonFactory
from tests.insights.test_simulate import start_of_today
from tests.mission.factories import CampaignFactory


def two_stars(p: float = 1.0) -> SpreadGraph:
    """A (10 recruits), B (5 recruits) and five people on their own."""
    edges = [("A", f"a{i}", p) for i in range(10)] + [("B", f"b{i}", p) for i in range(5)]
    return SpreadGraph.build(["A", "B", *(f"z{i}" for i in range(5))], edges)


def nested_stars() -> SpreadGraph:
    """A has 10 recruits, one of whom (a0) has 8 of their own; B has 5. Most recruits picks A
    and a0, whose reach overlaps; the best pair is A and B."""
    edges = (
        [("A", f"a{i}", 1.0) for i in range(10)]
        + [("a0", f"c{i}", 1.0) for i in range(8)]
        + [("B", f"b{i}", 1.0) for i in range(5)]
    )
    return SpreadGraph.build(["A", "B", "z"], edges)


def names(graph: SpreadGraph, nodes) -> set[str]:
    return {graph.ids[i] for i in nodes}


def recruits_of(graph: SpreadGraph) -> dict:
    return {graph.ids[u]: len(edges) for u, edges in enumerate(graph.out_edges) if edges}


@pytest.mark.parametrize("model", ["ic", "lt"])
def test_celf_finds_the_two_hubs_of_two_stars(model):
    graph = two_stars()
    chosen = celf(graph, 2, model=model, runs=10)
    assert names(graph, chosen) == {"A", "B"}
    assert reach_simulate(graph, chosen, model=model, runs=10).mean == 17.0
    heuristic = top_by(recruits_of(graph), 2, graph)
    assert reach_simulate(graph, heuristic, model=model, runs=10).mean == 17.0


@pytest.mark.parametrize("model", ["ic", "lt"])
def test_celf_beats_most_recruits_when_their_reach_overlaps(model):
    graph = nested_stars()
    chosen = celf(graph, 2, model=model, runs=10)
    assert names(graph, chosen) == {"A", "B"}
    heuristic = top_by(recruits_of(graph), 2, graph)
    assert names(graph, heuristic) == {"A", "a0"}
    best = reach_simulate(graph, chosen, model=model, runs=10).mean
    assert best == 25.0  # A, 10 recruits, a0's 8, B and 5
    assert reach_simulate(graph, heuristic, model=model, runs=10).mean == 19.0


@pytest.mark.parametrize("model", ["ic", "lt"])
def test_imm_finds_the_same_answers(model):
    graph = nested_stars()
    assert names(graph, imm(graph, 2, model=model, seed=1)) == {"A", "B"}
    stars = two_stars(p=0.8)
    assert names(stars, imm(stars, 2, model=model, seed=1)) == {"A", "B"}


def test_celf_with_probabilities_prefers_the_expected_reach():
    # A: 10 recruits at 0.1 (expected reach 2); B: 3 recruits at 0.9 (3.7).
    edges = [("A", f"a{i}", 0.1) for i in range(10)] + [("B", f"b{i}", 0.9) for i in range(3)]
    graph = SpreadGraph.build(["A", "B"], edges)
    chosen = celf(graph, 1, runs=400, seed=5)
    assert names(graph, chosen) == {"B"}
    reach = reach_simulate(graph, chosen, runs=2000, seed=5)
    assert reach.mean == pytest.approx(3.7, abs=0.1)


def test_linear_threshold_differs_from_independent_cascade_with_several_in_neighbours():
    # C listens to A and B (0.5 each). Both active: under LT their weights reach any threshold
    # (C always activates); under IC C activates with 1 - 0.5 * 0.5 = 0.75.
    graph = SpreadGraph.build(["A", "B", "C"], [("A", "C", 0.5), ("B", "C", 0.5)])
    both = [graph.ids.index("A"), graph.ids.index("B")]
    assert reach_simulate(graph, both, model="lt", runs=500).mean == 3.0
    assert reach_simulate(graph, both, model="ic", runs=4000).mean == pytest.approx(2.75, abs=0.03)


def test_budget_larger_than_the_graph_takes_everyone():
    graph = two_stars()
    assert len(celf(graph, 100, runs=5)) == graph.n
    assert len(imm(graph, 100)) == graph.n
    assert len(top_by({}, 3, graph)) == 3


def _campaign_with_stars():
    """A campaign where `hub` recruited 6 people by email, `small` 2, and 3 people acted alone;
    email conversions are high (few shares)."""
    campaign = CampaignFactory()
    at = start_of_today()
    hub, small = PersonFactory(), PersonFactory()
    loners = PersonFactory.create_batch(3)
    recruits = PersonFactory.create_batch(8)
    acts = [Activity(person=p, kind="sign", campaign=campaign, created_at=at) for p in [hub, small]]
    acts += [Activity(person=p, kind="sign", campaign=campaign, created_at=at) for p in loners]
    acts += [
        Activity(person=hub, kind="share", campaign=campaign, channel="email", created_at=at)
        for _ in range(6)
    ]
    edges = []
    for i, person in enumerate(recruits):
        recruiter = hub if i < 6 else small
        acts.append(
            Activity(
                person=person,
                kind="sign",
                campaign=campaign,
                created_at=at,
                referrer=recruiter,
                channel="email",
            )
        )
        edges.append(
            Recruitment(
                recruiter=recruiter,
                recruit=person,
                campaign=campaign,
                channel="email",
                created_at=at,
            )
        )
    Activity.objects.bulk_create(acts)
    Recruitment.objects.bulk_create(edges)
    return campaign, hub, small, loners


@pytest.mark.django_db
def test_ask_compute_chooses_recruiters_and_compares_with_the_heuristics():
    campaign, hub, small, loners = _campaign_with_stars()
    result = ask_compute(
        campaign, k=2, until=start_of_today() + __import__("datetime").timedelta(days=1)
    )
    assert result.method == "celf"
    assert result.nodes == 13
    assert result.edges == 8
    assert [person.person_id for person in result.chosen] == [hub.pk, small.pk]
    assert result.chosen[0].recruits == 6
    names_ = [h.name for h in result.heuristics]
    assert names_ == ["Most recruits so far", "Most acts"]
    assert result.reach.reach >= max(h.reach for h in result.heuristics)
    assert result.probabilities["email"] > 0.5


@pytest.mark.django_db
def test_ask_choice_saved_as_a_segment_holds_exactly_those_people():
    campaign, hub, small, loners = _campaign_with_stars()
    organizer = OrganizerFactory()
    segment = ask_segment_save(
        person_ids=[hub.pk, small.pk], name="Ask to share: spring", actor=organizer
    )
    assert set(segment_people(segment).values_list("pk", flat=True)) == {hub.pk, small.pk}
