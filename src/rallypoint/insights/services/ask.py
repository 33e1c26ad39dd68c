"""Whom to ask next: for a budget of k people to ask to share, the set with the largest
expected reach under the calibrated spread model, against the best simple heuristic.

The graph is the campaign's recruitment graph (recruiter → recruit, ledger Recruitment) with
every participant as a node; an edge's activation probability is the posterior mean of its
channel's probability (services.simulate). Reach of a set S = the expected number of people
activated when S is activated (S included):

- independent cascade ("ic"): each edge u → v, once u is active, activates v with its
  probability, independently;
- linear threshold ("lt"): v activates when the summed weights of its active in-neighbours
  reach a threshold drawn uniformly from [0, 1]; the weights are the edge probabilities,
  scaled down to sum to 1 where they add up to more. In a recruitment graph every recruit has
  one recruiter (first touch wins), where both models activate each recruit with the same
  probability; they differ on graphs with several in-neighbours per person.

Both are simulated through their live-edge form (Kempe, Kleinberg & Tardos 2003): IC keeps each
edge with its probability, LT keeps at most one in-edge per node, chosen with the weights.

Two ways to choose, by graph size (INSIGHTS_CELF_MAX_NODES):
- CELF (Leskovec et al. 2007): greedy on Monte-Carlo estimates over `runs` sampled live-edge
  graphs, re-evaluating a candidate's marginal gain only when it reaches the top (gains only
  shrink: the reach is submodular);
- IMM (Tang, Shi & Xiao 2015): reverse-reachable sets sampled until the (1 - 1/e - epsilon)
  guarantee holds with probability 1 - 1/n, then greedy maximum coverage.

The heuristics are the top k by recruits so far and by acts in the window; the page shows the
better of the two in simulated reach (the same forward Monte-Carlo for every set).
"""

from __future__ import annotations

import heapq
import math
import random
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count

from rallypoint.ledger.models import Activity, Recruitment
from rallypoint.people.models import Person, Tag
from rallypoint.people.services import tag_add_many
from rallypoint.segments.definition import CONDITION_TYPES
from rallypoint.segments.services import segment_create

from .simulate import channel_probabilities, quantile, window_bounds

Progress = Callable[[float, str], None]
MODELS = ("ic", "lt")
CELF_RUNS = 200
REACH_RUNS = 200
IMM_EPSILON = 0.3
MAX_K = 1000
MAX_RR_SETS = 5_000_000  # a guard on memory for graphs whose reach is tiny


def celf_max_nodes() -> int:
    return int(getattr(settings, "INSIGHTS_CELF_MAX_NODES", 5000))


def _nothing(fraction: float, message: str) -> None:
    return None


# --- the graph --------------------------------------------------------------------------------


@dataclass
class SpreadGraph:
    """Nodes 0 … n-1 (people, by `ids`), edges with activation probabilities."""

    ids: list[int]
    out_edges: list[list[tuple[int, float]]]
    in_edges: list[list[tuple[int, float]]]

    @classmethod
    def build(cls, nodes: Iterable[int], edges: Iterable[tuple[int, int, float]]) -> SpreadGraph:
        ids = list(dict.fromkeys(nodes))
        index = {pk: i for i, pk in enumerate(ids)}
        edge_list = []
        for u, v, p in edges:
            if u == v:
                continue
            for node in (u, v):
                if node not in index:
                    index[node] = len(ids)
                    ids.append(node)
            edge_list.append((index[u], index[v], min(max(float(p), 0.0), 1.0)))
        out_edges: list[list[tuple[int, float]]] = [[] for _ in ids]
        in_edges: list[list[tuple[int, float]]] = [[] for _ in ids]
        for u, v, p in edge_list:
            out_edges[u].append((v, p))
            in_edges[v].append((u, p))
        return cls(ids, out_edges, in_edges)

    @property
    def n(self) -> int:
        return len(self.ids)

    @property
    def edge_count(self) -> int:
        return sum(len(e) for e in self.out_edges)

    def lt_weights(self) -> list[list[tuple[int, float]]]:
        """In-edges with weights summing to at most 1 per node."""
        weighted = []
        for edges in self.in_edges:
            total = sum(p for _, p in edges)
            scale = 1.0 / total if total > 1 else 1.0
            weighted.append([(u, p * scale) for u, p in edges])
        return weighted


# --- simulation -------------------------------------------------------------------------------


def _live_children(
    graph: SpreadGraph, model: str, rng: random.Random, lt: list | None
) -> Callable[[int], list[int]]:
    """A function giving a node's children in one sampled live-edge graph, sampled lazily
    (each node's edges once) so a forward run only pays for what it reaches."""
    cache: dict[int, list[int]] = {}
    if model == "ic":

        def children(u: int) -> list[int]:
            found = cache.get(u)
            if found is None:
                found = [v for v, p in graph.out_edges[u] if p >= 1 or rng.random() < p]
                cache[u] = found
            return found

        return children
    # LT: every node picks at most one live in-edge; a forward run needs, for u, the v whose
    # pick is u. Picks are drawn once per node when first asked.
    picks: dict[int, int | None] = {}

    def pick(v: int) -> int | None:
        if v not in picks:
            x, chosen = rng.random(), None
            for u, w in lt[v]:  # type: ignore[index]
                if x < w:
                    chosen = u
                    break
                x -= w
            picks[v] = chosen
        return picks[v]

    def children_lt(u: int) -> list[int]:
        found = cache.get(u)
        if found is None:
            found = [v for v, _ in graph.out_edges[u] if pick(v) == u]
            cache[u] = found
        return found

    return children_lt


def _spread(seeds: Iterable[int], children: Callable[[int], list[int]]) -> int:
    seen = set(seeds)
    stack = list(seen)
    while stack:
        for v in children(stack.pop()):
            if v not in seen:
                seen.add(v)
                stack.append(v)
    return len(seen)


@dataclass(frozen=True)
class Reach:
    mean: float
    low: float  # 5th percentile
    high: float  # 95th percentile
    runs: int


def reach_simulate(
    graph: SpreadGraph,
    seeds: Sequence[int],
    *,
    model: str = "ic",
    runs: int = REACH_RUNS,
    seed: Any = 0,
) -> Reach:
    """Forward Monte-Carlo estimate of the reach of `seeds` (node indexes)."""
    if not seeds:
        return Reach(0.0, 0.0, 0.0, runs)
    lt = graph.lt_weights() if model == "lt" else None
    sizes = []
    for run in range(runs):
        rng = random.Random(f"{seed}:{run}")
        sizes.append(float(_spread(seeds, _live_children(graph, model, rng, lt))))
    return Reach(sum(sizes) / runs, quantile(sizes, 0.05), quantile(sizes, 0.95), runs)


# --- CELF -------------------------------------------------------------------------------------


def _live_graphs(graph: SpreadGraph, model: str, runs: int, seed: Any) -> list[list[list[int]]]:
    """`runs` sampled live-edge graphs, each as children lists (only nodes with children)."""
    lt = graph.lt_weights() if model == "lt" else None
    samples = []
    for run in range(runs):
        rng = random.Random(f"{seed}:live:{run}")
        if model == "ic":
            children = [
                [v for v, p in edges if p >= 1 or rng.random() < p] for edges in graph.out_edges
            ]
        else:
            children = [[] for _ in range(graph.n)]
            for v in range(graph.n):
                x = rng.random()
                for u, w in lt[v]:  # type: ignore[index]
                    if x < w:
                        children[u].append(v)
                        break
                    x -= w
        samples.append(children)
    return samples


def _gain(start: int, children: list[list[int]], covered: set[int]) -> int:
    if start in covered:
        return 0
    seen = {start}
    stack = [start]
    while stack:
        for v in children[stack.pop()]:
            if v not in seen and v not in covered:
                seen.add(v)
                stack.append(v)
    return len(seen)


def _cover(start: int, children: list[list[int]], covered: set[int]) -> None:
    if start in covered:
        return
    covered.add(start)
    stack = [start]
    while stack:
        for v in children[stack.pop()]:
            if v not in covered:
                covered.add(v)
                stack.append(v)


def celf(
    graph: SpreadGraph,
    k: int,
    *,
    model: str = "ic",
    runs: int = CELF_RUNS,
    seed: Any = 0,
    progress: Progress = _nothing,
) -> list[int]:
    """CELF greedy: node indexes, in the order chosen."""
    k = min(k, graph.n)
    samples = _live_graphs(graph, model, runs, seed)
    covered: list[set[int]] = [set() for _ in range(runs)]
    # Nodes without out-edges all gain exactly 1 at first: they are evaluated without a walk.
    heap: list[tuple[float, int, int]] = []
    spreaders = [u for u in range(graph.n) if graph.out_edges[u]]
    for position, u in enumerate(spreaders):
        gain = sum(_gain(u, samples[r], covered[r]) for r in range(runs)) / runs
        heap.append((-gain, u, 0))
        if position % 500 == 0:
            progress(0.5 * position / max(len(spreaders), 1), "Estimating each person's reach")
    heap.extend((-1.0, u, 0) for u in range(graph.n) if not graph.out_edges[u])
    heapq.heapify(heap)
    chosen: list[int] = []
    while heap and len(chosen) < k:
        negative_gain, u, round_seen = heapq.heappop(heap)
        if round_seen == len(chosen):
            chosen.append(u)
            for r in range(runs):
                _cover(u, samples[r], covered[r])
            progress(0.5 + 0.5 * len(chosen) / k, f"Chose {len(chosen)} of {k}")
            continue
        gain = sum(_gain(u, samples[r], covered[r]) for r in range(runs)) / runs
        heapq.heappush(heap, (-gain, u, len(chosen)))
    return chosen


# --- IMM (reverse-reachable sets) -------------------------------------------------------------


def _log_binomial(n: int, k: int) -> float:
    return math.lgamma(n + 1) - math.lgamma(k + 1) - math.lgamma(n - k + 1)


class _RRSampler:
    def __init__(self, graph: SpreadGraph, model: str, seed: Any):
        self.graph = graph
        self.model = model
        self.rng = random.Random(f"{seed}:rr")
        self.lt = graph.lt_weights() if model == "lt" else None
        self.sets: list[list[int]] = []
        self.node_sets: list[list[int]] = [[] for _ in range(graph.n)]

    def sample(self, count: int) -> None:
        rng, n, in_edges, lt = self.rng, self.graph.n, self.graph.in_edges, self.lt
        sets, node_sets = self.sets, self.node_sets
        for _ in range(count):
            v = int(rng.random() * n)
            if self.model == "ic":
                found = [v]
                if in_edges[v]:
                    seen = {v}
                    stack = [v]
                    while stack:
                        for u, p in in_edges[stack.pop()]:
                            if u not in seen and (p >= 1 or rng.random() < p):
                                seen.add(u)
                                found.append(u)
                                stack.append(u)
            else:
                found, seen, current = [v], {v}, v
                while True:
                    x, chosen = rng.random(), None
                    for u, w in lt[current]:  # type: ignore[index]
                        if x < w:
                            chosen = u
                            break
                        x -= w
                    if chosen is None or chosen in seen:
                        break
                    seen.add(chosen)
                    found.append(chosen)
                    current = chosen
            index = len(sets)
            sets.append(found)
            for u in found:
                node_sets[u].append(index)

    def greedy(self, k: int) -> tuple[list[int], int]:
        """Greedy maximum coverage of the sets so far: (nodes, sets covered)."""
        counts = [len(s) for s in self.node_sets]
        heap = [(-c, u) for u, c in enumerate(counts) if c]
        heapq.heapify(heap)
        done = bytearray(len(self.sets))
        chosen: list[int] = []
        covered = 0
        while heap and len(chosen) < k:
            negative, u = heapq.heappop(heap)
            if -negative != counts[u]:
                if counts[u]:
                    heapq.heappush(heap, (-counts[u], u))
                continue
            chosen.append(u)
            covered += counts[u]
            for index in self.node_sets[u]:
                if not done[index]:
                    done[index] = 1
                    for w in self.sets[index]:
                        counts[w] -= 1
        if len(chosen) < k:  # every set is covered: fill with anyone not chosen yet
            taken = set(chosen)
            chosen.extend(u for u in range(self.graph.n) if u not in taken)
            chosen = chosen[:k]
        return chosen, covered


def imm(
    graph: SpreadGraph,
    k: int,
    *,
    model: str = "ic",
    epsilon: float = IMM_EPSILON,
    seed: Any = 0,
    progress: Progress = _nothing,
) -> list[int]:
    """IMM: node indexes of a (1 - 1/e - epsilon)-approximate set with probability 1 - 1/n."""
    n = graph.n
    k = min(k, n)
    if n <= 1 or k == 0:
        return list(range(k))
    ell = 1.0 * (1 + math.log(2) / math.log(n))
    log_nk = _log_binomial(n, k)
    eps_prime = math.sqrt(2) * epsilon
    lambda_prime = (
        (2 + 2 * eps_prime / 3)
        * (log_nk + ell * math.log(n) + math.log(max(math.log2(n), 1.0)))
        * n
        / eps_prime**2
    )
    sampler = _RRSampler(graph, model, seed)
    lower_bound = 1.0
    steps = max(int(math.log2(n)) - 1, 1)
    for i in range(1, steps + 1):
        x = n / 2**i
        wanted = min(math.ceil(lambda_prime / x), MAX_RR_SETS)
        sampler.sample(max(wanted - len(sampler.sets), 0))
        progress(0.6 * i / steps, f"Sampling who could reach whom ({len(sampler.sets):,} sets)")
        _, covered = sampler.greedy(k)
        if n * covered / len(sampler.sets) >= (1 + eps_prime) * x:
            lower_bound = n * covered / (len(sampler.sets) * (1 + eps_prime))
            break
        if wanted >= MAX_RR_SETS:
            break
    alpha = math.sqrt(ell * math.log(n) + math.log(2))
    beta = math.sqrt((1 - 1 / math.e) * (log_nk + ell * math.log(n) + math.log(2)))
    lambda_star = 2 * n * ((1 - 1 / math.e) * alpha + beta) ** 2 / epsilon**2
    theta = min(math.ceil(lambda_star / lower_bound), MAX_RR_SETS)
    sampler.sample(max(theta - len(sampler.sets), 0))
    progress(0.9, f"Choosing from {len(sampler.sets):,} sets")
    chosen, _ = sampler.greedy(k)
    return chosen


# --- heuristics -------------------------------------------------------------------------------


def top_by(scores: dict[int, int], k: int, graph: SpreadGraph) -> list[int]:
    """The k node indexes with the highest scores (ties: the smaller person id first)."""
    index = {pk: i for i, pk in enumerate(graph.ids)}
    ranked = sorted((pk for pk in scores if pk in index), key=lambda pk: (-scores[pk], pk))
    chosen = [index[pk] for pk in ranked[:k]]
    if len(chosen) < k:  # fewer people with a score than the budget: add the rest by id
        taken = set(chosen)
        chosen.extend(
            i for i in sorted(range(graph.n), key=lambda i: graph.ids[i]) if i not in taken
        )
    return chosen[:k]


# --- for a campaign ---------------------------------------------------------------------------


@dataclass(frozen=True)
class AskPerson:
    person_id: int
    recruits: int
    acts: int


@dataclass(frozen=True)
class SetReach:
    name: str
    person_ids: list[int]
    reach: float
    low: float
    high: float


@dataclass
class AskResult:
    k: int
    model: str
    method: str  # "celf" or "imm"
    nodes: int
    edges: int
    chosen: list[AskPerson]
    reach: SetReach
    heuristics: list[SetReach]
    probabilities: dict[str, float]
    seconds: float
    notes: list[str] = field(default_factory=list)

    @property
    def best_heuristic(self) -> SetReach | None:
        return max(self.heuristics, key=lambda h: h.reach, default=None)

    def as_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)


def campaign_graph(
    campaign: Any, *, since: datetime | None, until: datetime
) -> tuple[SpreadGraph, dict[str, float], dict[int, int], dict[int, int]]:
    """(graph, channel → probability, recruits per person, acts per person) of the window:
    four queries."""
    posteriors = channel_probabilities(campaign, since=since, until=until)
    probabilities = {c: p.mean for c, p in posteriors.items()}
    acts_query = Activity.objects.filter(campaign=campaign, created_at__lt=until)
    edges_query = Recruitment.objects.filter(campaign=campaign, created_at__lt=until)
    if since is not None:
        acts_query = acts_query.filter(created_at__gte=since)
        edges_query = edges_query.filter(created_at__gte=since)
    acts = dict(
        acts_query.exclude(kind="recruit")
        .order_by()
        .values_list("person_id")
        .annotate(n=Count("id"))
        .values_list("person_id", "n")
    )
    edges = list(edges_query.order_by().values_list("recruiter_id", "recruit_id", "channel"))
    recruits: dict[int, int] = {}
    for recruiter, _, _ in edges:
        recruits[recruiter] = recruits.get(recruiter, 0) + 1
    graph = SpreadGraph.build(
        sorted(acts),
        ((u, v, probabilities.get(channel or "", 0.0)) for u, v, channel in edges),
    )
    return graph, probabilities, recruits, acts


def ask_compute(
    campaign: Any,
    *,
    k: int,
    model: str = "ic",
    since: datetime | None = None,
    until: datetime | None = None,
    runs: int = REACH_RUNS,
    progress: Progress = _nothing,
) -> AskResult:
    """Choose k people to ask, and compare their simulated reach with the heuristics'."""
    if model not in MODELS:
        raise ValueError(f"model must be one of {MODELS}")
    began = time.monotonic()
    progress(0.0, "Reading the recruitment graph")
    since, until = window_bounds(since, until)
    graph, probabilities, recruits, acts = campaign_graph(campaign, since=since, until=until)
    k = max(0, min(k, graph.n, MAX_K))
    seed = f"{getattr(campaign, 'pk', campaign)}:{until.isoformat()}:{model}"

    def scaled(start: float, width: float) -> Progress:
        return lambda fraction, message: progress(start + width * fraction, message)

    if graph.n <= celf_max_nodes():
        method = "celf"
        chosen = celf(graph, k, model=model, seed=seed, progress=scaled(0.05, 0.75))
    else:
        method = "imm"
        chosen = imm(graph, k, model=model, seed=seed, progress=scaled(0.05, 0.75))
    progress(0.85, "Simulating the reach of each choice")
    reach = reach_simulate(graph, chosen, model=model, runs=runs, seed=seed)
    heuristics = []
    for name, scores in (("Most recruits so far", recruits), ("Most acts", acts)):
        picked = top_by(scores, k, graph)
        simulated = reach_simulate(graph, picked, model=model, runs=runs, seed=seed)
        heuristics.append(
            SetReach(
                name,
                [graph.ids[i] for i in picked],
                round(simulated.mean, 1),
                round(simulated.low, 1),
                round(simulated.high, 1),
            )
        )
    notes = []
    if not graph.edge_count:
        notes.append("Nobody has recruited anyone yet: every choice reaches only itself.")
    progress(1.0, "Done")
    return AskResult(
        k=k,
        model=model,
        method=method,
        nodes=graph.n,
        edges=graph.edge_count,
        chosen=[
            AskPerson(graph.ids[i], recruits.get(graph.ids[i], 0), acts.get(graph.ids[i], 0))
            for i in chosen
        ],
        reach=SetReach(
            "Chosen by the model",
            [graph.ids[i] for i in chosen],
            round(reach.mean, 1),
            round(reach.low, 1),
            round(reach.high, 1),
        ),
        heuristics=heuristics,
        probabilities={c: round(p, 4) for c, p in probabilities.items()},
        seconds=round(time.monotonic() - began, 2),
        notes=notes,
    )


# --- saving the choice as a segment -----------------------------------------------------------


def ask_segment_save(*, person_ids: list[int], name: str, actor: Any, description: str = ""):
    """A segment whose members are exactly these people, to email or text them.

    The segment lists them by id through the segments' "people" condition when segments
    offer one; until then the people get a tag of the segment's name and the segment selects
    that tag (segments.definition has no "these people" condition yet)."""
    ids = list(Person.objects.filter(pk__in=person_ids).order_by("pk").values_list("pk", flat=True))
    name = (name or "").strip()
    if "people" in CONDITION_TYPES:
        definition = {"match": "all", "conditions": [{"type": "people", "people": ids}]}
        return segment_create(
            name=name, description=description, definition=definition, actor=actor
        )
    if not name:
        raise ValidationError({"name": "Give the segment a name."})
    if Tag.objects.filter(name__iexact=name[:100]).exists():
        raise ValidationError({"name": "A tag with this name exists already: choose another name."})
    with transaction.atomic():
        tag_add_many(person_ids=ids, name=name[:100], actor=actor)
        tag = Tag.objects.get(name__iexact=name[:100])
        definition = {
            "match": "all",
            "conditions": [{"type": "tags", "mode": "any", "tags": [tag.pk]}],
        }
        return segment_create(
            name=name, description=description, definition=definition, actor=actor
        )
