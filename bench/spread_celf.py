"""Whom to ask next at scale: choose k people on a synthetic recruitment forest and compare
their simulated reach with the "most recruits so far" heuristic's.

    .venv/bin/python bench/spread_celf.py                      # IMM, k = 50, 100,000 people
    .venv/bin/python bench/spread_celf.py --method celf --nodes 5000

The forest is grown root by root, breadth first: each person recruits a power-law number of
people (P(d) ∝ d^-2.3 for d ≥ 1, for the 20% who recruit at all: under one recruit per person
on average, so most cascades stay small and a few grow large), each edge on one of several
channels with its own activation probability (80% of a recruiter's recruits through their
favourite channel, so whom they recruited through matters, not only how many). No database:
the graph is what `insights.services.ask.campaign_graph` builds from the ledger, and reading
it is measured with the spread summary (bench/spread.py). Prints the time to choose, the
reach of the chosen set and of the heuristic (forward Monte-Carlo, the same runs for both),
and the peak RSS.
"""

import argparse
import os
import random
import resource
import sys
import time
from collections import deque
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rallypoint.settings")

import django  # noqa: E402

django.setup()

from rallypoint.insights.services.ask import (  # noqa: E402
    IMM_EPSILON,
    SpreadGraph,
    celf,
    imm,
    reach_simulate,
    top_by,
)

CHANNELS = {"email": 0.30, "whatsapp": 0.20, "facebook": 0.10, "x": 0.05, "direct": 0.15}
CHANNEL_SHARE = {"email": 0.25, "whatsapp": 0.15, "facebook": 0.3, "x": 0.2, "direct": 0.1}
RECRUITER_SHARE = 0.2  # of people recruit anyone at all
EXPONENT = 2.3  # of the recruits' power law: mean ~4 recruits per recruiter
MAX_DEGREE = 2000
FAVOURITE_SHARE = 0.8  # of a recruiter's recruits come through their favourite channel


def power_law_degree(rng: random.Random) -> int:
    """A degree ≥ 1 with P(d) ∝ d^-EXPONENT (inverse transform of the continuous law)."""
    u = rng.random()
    return min(int((1 - u) ** (-1 / (EXPONENT - 1))), MAX_DEGREE)


def synthetic_forest(nodes: int, seed: int) -> tuple[SpreadGraph, dict[int, int]]:
    rng = random.Random(seed)
    channels = list(CHANNEL_SHARE)
    weights = [CHANNEL_SHARE[c] for c in channels]
    edges: list[tuple[int, int, float]] = []
    recruits: dict[int, int] = {}
    made = 0
    queue: deque[int] = deque()
    while made < nodes:
        root = made
        made += 1
        queue.append(root)
        while queue and made < nodes:
            person = queue.popleft()
            if rng.random() >= RECRUITER_SHARE:
                continue
            favourite = rng.choices(channels, weights)[0]
            for _ in range(power_law_degree(rng)):
                if made >= nodes:
                    break
                channel = (
                    favourite
                    if rng.random() < FAVOURITE_SHARE
                    else rng.choices(channels, weights)[0]
                )
                edges.append((person, made, CHANNELS[channel]))
                recruits[person] = recruits.get(person, 0) + 1
                queue.append(made)
                made += 1
    return SpreadGraph.build(range(nodes), edges), recruits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--nodes", type=int, default=100_000)
    parser.add_argument("--k", type=int, default=50)
    parser.add_argument("--method", choices=["imm", "celf"], default="imm")
    parser.add_argument("--model", choices=["ic", "lt"], default="ic")
    parser.add_argument("--epsilon", type=float, default=IMM_EPSILON, help="IMM's slack")
    parser.add_argument("--runs", type=int, default=200, help="forward simulations of reach")
    parser.add_argument("--seed", type=int, default=2008)
    args = parser.parse_args()

    began = time.perf_counter()
    graph, recruits = synthetic_forest(args.nodes, args.seed)
    built = time.perf_counter() - began
    recruiters = len(recruits)
    print(
        f"forest: {graph.n:,} people, {graph.edge_count:,} edges, {recruiters:,} recruiters, "
        f"largest {max(recruits.values()):,} recruits ({built:.1f} s to build)"
    )

    began = time.perf_counter()
    if args.method == "imm":
        chosen = imm(graph, args.k, model=args.model, epsilon=args.epsilon, seed=args.seed)
    else:
        chosen = celf(graph, args.k, model=args.model, seed=args.seed)
    chose = time.perf_counter() - began
    print(f"{args.method} (k = {args.k}, {args.model}): {chose:.1f} s")

    began = time.perf_counter()
    heuristic = top_by(recruits, args.k, graph)
    ours = reach_simulate(graph, chosen, model=args.model, runs=args.runs, seed=args.seed)
    theirs = reach_simulate(graph, heuristic, model=args.model, runs=args.runs, seed=args.seed)
    simulated = time.perf_counter() - began
    print(
        f"reach ({args.runs} runs, {simulated:.1f} s): chosen {ours.mean:,.1f} "
        f"[{ours.low:,.0f}–{ours.high:,.0f}], most recruits {theirs.mean:,.1f} "
        f"[{theirs.low:,.0f}–{theirs.high:,.0f}], ratio {ours.mean / theirs.mean:.3f}"
    )
    overlap = len(set(chosen) & set(heuristic))
    print(f"chosen sets share {overlap} of {args.k} people")
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS: {peak:,.0f} MB")


if __name__ == "__main__":
    main()
