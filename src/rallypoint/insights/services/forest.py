"""A campaign's recruitment forest as numpy arrays: each person's generation and root, the size
of the subtree below them, and each tree's depth and Wiener index.

Each recruit has one recruiter per campaign (the database holds to it), so the edges form a
forest. It is walked one generation at a time: breadth first down from the roots (every
generation's children gathered at once through the recruiters' sorted child lists), then back
up, adding each generation's subtree sizes into their recruiters'. Every step is a numpy
operation over a whole generation, so the work is linear in the number of people with no
Python loop over them (a million-person campaign has about 70 generations).

The Wiener index of a tree (the sum of the distances between all pairs of its nodes) is the sum
over its edges of s·(n − s), s the size of the subtree below the edge, which is n·Σs − Σs²; Σs
over a tree's edges is also the sum of its nodes' generations. It is exact in 64-bit integers
while a tree's Σs² stays below 2⁶³ (any tree of fewer than two million people).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

# Positions are ids minus the lowest id when the ids are this dense (at most this many
# positions per id read), else ranks among the sorted distinct ids.
DENSE_SPAN_PER_ID = 8


@dataclass(frozen=True, eq=False)
class People:
    """Person ids ↔ positions 0 … size-1 for per-person arrays. Dense ids (a campaign's people
    usually have ids close together) map by subtraction; sparse ones by rank."""

    low: int
    size: int
    ranked: np.ndarray | None = None  # the sorted distinct ids, when sparse

    @classmethod
    def covering(cls, *arrays: np.ndarray) -> People:
        present = [a for a in arrays if a.size]
        if not present:
            return cls(low=0, size=0)
        low = min(int(a.min()) for a in present)
        high = max(int(a.max()) for a in present)
        span = high - low + 1
        if span <= DENSE_SPAN_PER_ID * sum(a.size for a in present):
            return cls(low=low, size=span)
        ranked = np.unique(np.concatenate(present))
        return cls(low=low, size=int(ranked.size), ranked=ranked)

    def positions(self, ids: np.ndarray) -> np.ndarray:
        """Each id's position (ids must be among those the mapping was made from)."""
        if self.ranked is None:
            return ids - self.low
        return np.searchsorted(self.ranked, ids)

    def ids(self, positions: np.ndarray) -> np.ndarray:
        if self.ranked is None:
            return positions + self.low
        return self.ranked[positions]


@dataclass(frozen=True)
class CascadeInfo:
    root_id: int
    size: int
    depth: int
    structural_virality: float


@dataclass(frozen=True)
class Cascades:
    """Trees of a forest, one entry per root, in the order of their root's position."""

    root_ids: np.ndarray
    sizes: np.ndarray
    depths: np.ndarray
    viralities: np.ndarray  # structural virality: 2·W ÷ (n·(n − 1)), 0 for a lone root

    def __len__(self) -> int:
        return int(self.root_ids.size)

    def info(self, i: int) -> CascadeInfo:
        return CascadeInfo(
            root_id=int(self.root_ids[i]),
            size=int(self.sizes[i]),
            depth=int(self.depths[i]),
            structural_virality=float(self.viralities[i]),
        )

    def largest(self, count: int) -> list[CascadeInfo]:
        """The `count` largest: by size, then depth, then the lowest root id."""
        order = np.lexsort((self.root_ids, -self.depths, -self.sizes))
        return [self.info(i) for i in order[:count].tolist()]


class Forest:
    """The forest of (recruiter, recruit) edges over positions 0 … n-1 of `people`.

    Per position: `parent` (-1: none), `generation` and `root` (-1: not reached from a root,
    which only a cycle makes, and for people outside the forest), `size` (of the subtree
    below, itself included). Per root position: `depth` and `wiener`. `levels[g]` holds the
    positions of generation g; `children_start`/`children` list each recruiter's recruits."""

    def __init__(self, people: People, recruiters: np.ndarray, recruits: np.ndarray) -> None:
        n = people.size
        self.people = people
        self.parent = np.full(n, -1, dtype=np.int64)
        self.parent[recruits] = recruiters
        counts = np.bincount(recruiters, minlength=n)
        self.children_start = np.concatenate(([0], np.cumsum(counts)))
        self.children_order = np.argsort(recruiters, kind="stable")
        self.children = recruits[self.children_order]
        roots = np.flatnonzero((counts > 0) & (self.parent < 0))
        self.generation = np.full(n, -1, dtype=np.int64)
        self.root = np.full(n, -1, dtype=np.int64)
        self.generation[roots] = 0
        self.root[roots] = roots
        self.levels = [roots]
        frontier = roots
        while True:
            below = counts[frontier]
            total = int(below.sum())
            if not total:
                break
            # Every child of the frontier: each recruiter's run of `children`, end to end.
            run_starts = np.repeat(self.children_start[frontier] - np.cumsum(below) + below, below)
            frontier = self.children[run_starts + np.arange(total)]
            self.generation[frontier] = len(self.levels)
            self.root[frontier] = self.root[self.parent[frontier]]
            self.levels.append(frontier)
        self.size = np.ones(n, dtype=np.int64)
        for level in reversed(self.levels[1:]):
            np.add.at(self.size, self.parent[level], self.size[level])
        self.depth = np.zeros(n, dtype=np.int64)
        for generation, level in enumerate(self.levels):
            self.depth[self.root[level]] = generation  # deeper generations come later
        below_roots = np.concatenate(self.levels[1:]) if len(self.levels) > 1 else roots[:0]
        trees = self.root[below_roots]
        sizes = self.size[below_roots]
        sum_sizes = np.zeros(n, dtype=np.int64)
        sum_squares = np.zeros(n, dtype=np.int64)
        np.add.at(sum_sizes, trees, sizes)
        np.add.at(sum_squares, trees, sizes * sizes)
        self.wiener = self.size * sum_sizes - sum_squares  # meaningful at root positions
        self.roots = roots

    @classmethod
    def build(cls, edges: Iterable[tuple[int, int]]) -> Forest:
        """From (recruiter id, recruit id) pairs."""
        pairs = np.array(list(edges), dtype=np.int64).reshape(-1, 2)
        people = People.covering(pairs[:, 0], pairs[:, 1])
        return cls(people, people.positions(pairs[:, 0]), people.positions(pairs[:, 1]))

    def cascades(self, roots: np.ndarray) -> Cascades:
        """The trees of these root positions. 2·W and n·(n − 1) are exact 64-bit integers;
        their quotient is the double Python's division of the same integers gives while both
        stay below 2⁵³ (any tree of fewer than about 400,000 people)."""
        sizes = self.size[roots]
        pairs = sizes * (sizes - 1)
        viralities = np.divide(
            2 * self.wiener[roots], pairs, out=np.zeros(sizes.size), where=pairs > 0
        )
        return Cascades(self.people.ids(roots), sizes, self.depth[roots], viralities)

    def cascade(self, root_id: int) -> CascadeInfo:
        return self.cascades(self.people.positions(np.array([root_id], dtype=np.int64))).info(0)

    def wiener_index(self, root_id: int) -> int:
        return int(self.wiener[self.people.positions(np.array([root_id]))[0]])

    def first_child_times(self, times: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(recruiter positions, the earliest of `times` over each one's recruits), `times`
        given per edge in the order the edges were passed."""
        recruiters = np.flatnonzero(np.diff(self.children_start))
        if not recruiters.size:
            return recruiters, times[:0]
        ordered = times[self.children_order]
        return recruiters, np.minimum.reduceat(ordered, self.children_start[recruiters])
