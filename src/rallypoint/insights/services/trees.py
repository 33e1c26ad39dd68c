"""Recruitment trees to draw: the largest cascades of a campaign, and a person's own tree (whom
they brought, whom those brought) with the chain up to their root, per campaign.

A tree is laid out for SVG (a leaf per column, a generation per row, each recruiter centred
over their recruits) and also given as a flat list of open/close steps, so templates render it
as nested, collapsible lists without recursion. Trees are cut at TREE_NODES_MAX people, taken
generation by generation.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from django.db import connection

from rallypoint.ledger.models import Recruitment
from rallypoint.mission.queries import campaigns_by_id
from rallypoint.people.models import Person

TREE_NODES_MAX = 300
CHAIN_MAX = 1000  # a guard; real chains are far shorter
COLUMN = 22  # SVG units between leaves
COLUMN_NAMED = 96  # the same when names are written under the nodes
ROW = 56  # SVG units between generations
MARGIN = 16
NAMES_MAX = 60
VIEW_WIDTH_MAX = 900  # trees up to this size show names beside the nodes


@dataclass(frozen=True)
class TreeNode:
    person_id: int
    name: str
    label: str  # the name cut short for the drawing
    parent_id: int | None
    generation: int  # within the drawn tree: its top is 0
    recruits: int  # direct recruits drawn
    x: float = 0.0
    y: float = 0.0


@dataclass(frozen=True)
class TreeEdge:
    x1: float
    y1: float
    x2: float
    y2: float


@dataclass(frozen=True)
class Step:
    """One step of the nested list: "open" a person (their <li>, and a <ul> of their recruits
    when they have any), or "close" one."""

    kind: str
    node: TreeNode | None = None


@dataclass(frozen=True)
class Tree:
    root: TreeNode
    nodes: list[TreeNode]
    edges: list[TreeEdge]
    steps: list[Step]
    width: float
    height: float
    truncated: bool
    show_names: bool
    size: int = 0  # the whole tree's size when known (the drawing may show fewer)
    depth: int = 0
    structural_virality: float | None = None

    @property
    def shown(self) -> int:
        return len(self.nodes)

    @property
    def box_height(self) -> int:
        """The drawing's height on the page, in pixels: the tree's own, within limits."""
        return int(min(max(self.height + 24, 160), 420))

    @property
    def view_width(self) -> float:
        """The part drawn at first (the rest is reached by moving or zooming out)."""
        return min(self.width, VIEW_WIDTH_MAX)


def _names(ids: set[int]) -> dict[int, str]:
    people = Person.objects.filter(pk__in=ids).only("id", "given_name", "family_name")
    return {p.pk: str(p) for p in people}


def tree_build(
    root_id: int, links: list[tuple[int, int]], names: dict[int, str], *, truncated: bool
) -> Tree:
    """Lay out the tree of `root_id` from (recruiter, recruit) `links` given parents first."""
    children: dict[int, list[int]] = {}
    parent: dict[int, int] = {}
    for recruiter, recruit in links:
        if recruit in parent or recruit == root_id:
            continue
        parent[recruit] = recruiter
        children.setdefault(recruiter, []).append(recruit)
    generation = {root_id: 0}
    order = [root_id]
    index = 0
    while index < len(order):
        node = order[index]
        index += 1
        for kid in children.get(node, ()):
            generation[kid] = generation[node] + 1
            order.append(kid)
    # x: leaves take successive columns (depth first), a recruiter sits over its recruits.
    x: dict[int, float] = {}
    column = 0
    stack: list[tuple[int, bool]] = [(root_id, False)]
    steps: list[Step] = []
    nodes_by_id: dict[int, TreeNode] = {}
    while stack:
        node, done = stack.pop()
        kids = children.get(node, [])
        if done:
            x[node] = (x[kids[0]] + x[kids[-1]]) / 2
            continue
        if not kids:
            x[node] = column
            column += 1
            continue
        stack.append((node, True))
        stack.extend((kid, False) for kid in reversed(kids))
    show_names = len(order) <= NAMES_MAX
    width = COLUMN_NAMED if show_names else COLUMN
    for node in order:
        name = names.get(node, f"Person {node}")
        nodes_by_id[node] = TreeNode(
            person_id=node,
            name=name,
            label=name if len(name) <= 14 else name[:13] + "…",
            parent_id=parent.get(node),
            generation=generation[node],
            recruits=len(children.get(node, ())),
            x=round(MARGIN + (width / 2 if show_names else 0) + x[node] * width, 1),
            y=round(MARGIN + generation[node] * ROW, 1),
        )
    # The nested list, depth first in the same order as the drawing.
    walk: list[tuple[int, bool]] = [(root_id, False)]
    while walk:
        node, closing = walk.pop()
        if closing:
            steps.append(Step("close", nodes_by_id[node]))
            continue
        steps.append(Step("open", nodes_by_id[node]))
        walk.append((node, True))
        walk.extend((kid, False) for kid in reversed(children.get(node, [])))
    nodes = [nodes_by_id[n] for n in order]
    edges = [
        TreeEdge(
            x1=nodes_by_id[n.parent_id].x,
            y1=nodes_by_id[n.parent_id].y,
            x2=n.x,
            y2=n.y,
        )
        for n in nodes
        if n.parent_id is not None
    ]
    depth = max(generation.values())
    return Tree(
        root=nodes_by_id[root_id],
        nodes=nodes,
        edges=edges,
        steps=steps,
        width=round(
            2 * MARGIN + max(column - 1, 0) * COLUMN + (120 if len(nodes) <= NAMES_MAX else 0), 1
        ),
        height=round(2 * MARGIN + depth * ROW + 12, 1),
        truncated=truncated,
        show_names=len(nodes) <= NAMES_MAX,
        size=len(nodes),
        depth=depth,
    )


def _descendant_links(
    starts: list[int], campaign_id: int | None, limit: int
) -> list[tuple[int, int, int, int, int]]:
    """(top, recruiter, recruit, campaign id, depth) below each of `starts`, generation by
    generation, at most `limit` rows: one recursive query (SQLite and PostgreSQL).
    `campaign_id` None: in every campaign, each tree within its own campaign."""
    if not starts:
        return []
    table = Recruitment._meta.db_table
    marks = ", ".join(["%s"] * len(starts))
    params: list[Any] = list(starts)
    first = f"recruiter_id IN ({marks}) AND recruiter_id <> recruit_id AND campaign_id IS NOT NULL"
    if campaign_id is not None:
        first += " AND campaign_id = %s"
        params.append(campaign_id)
    params += [CHAIN_MAX, limit]
    sql = f"""
        WITH RECURSIVE down(top_id, recruiter_id, recruit_id, campaign_id, depth) AS (
            SELECT recruiter_id, recruiter_id, recruit_id, campaign_id, 1
            FROM {table} WHERE {first}
            UNION ALL
            SELECT d.top_id, r.recruiter_id, r.recruit_id, r.campaign_id, d.depth + 1
            FROM {table} r JOIN down d
              ON r.recruiter_id = d.recruit_id AND r.campaign_id = d.campaign_id
            WHERE r.recruiter_id <> r.recruit_id AND d.depth < %s
        )
        SELECT top_id, recruiter_id, recruit_id, campaign_id, depth FROM down LIMIT %s
    """  # noqa: S608 - the table name is our model's, values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    return sorted(rows, key=lambda row: row[4])


def cascade_trees(campaign: Any, roots: list[Any]) -> list[Tree]:
    """The trees of `roots` (CascadeInfo of grid.SpreadSummary.largest) in `campaign`, each cut
    at TREE_NODES_MAX people: one recursive query per tree, one for the names."""
    per_root: dict[int, list[tuple[int, int]]] = {}
    cut: dict[int, bool] = {}
    for info in roots:
        rows = _descendant_links([info.root_id], campaign.pk, TREE_NODES_MAX)
        per_root[info.root_id] = [(r[1], r[2]) for r in rows]
        cut[info.root_id] = len(rows) + 1 < info.size
    ids = {info.root_id for info in roots} | {
        n for links in per_root.values() for p in links for n in p
    }
    names = _names(ids)
    trees = []
    for info in roots:
        tree = tree_build(info.root_id, per_root[info.root_id], names, truncated=cut[info.root_id])
        trees.append(
            replace(
                tree,
                size=info.size,
                depth=info.depth,
                structural_virality=info.structural_virality,
            )
        )
    return trees


@dataclass(frozen=True)
class PersonTree:
    """A person's place in one campaign's grid."""

    campaign: Any
    chain: list[tuple[int, str]]  # (id, name) from the root down to the person's recruiter
    tree: Tree  # the person and everyone they brought in, directly or not
    reach: int  # people below them drawn (at most TREE_NODES_MAX)


@dataclass(frozen=True)
class PersonGrid:
    trees: list[PersonTree] = field(default_factory=list)


def person_grid(person: Person) -> PersonGrid:
    """Per campaign the person recruited in or was recruited into: the chain up to their root
    and the tree below them. Four queries however many campaigns."""
    table = Recruitment._meta.db_table
    sql = f"""
        WITH RECURSIVE up(recruiter_id, recruit_id, campaign_id, depth) AS (
            SELECT recruiter_id, recruit_id, campaign_id, 1 FROM {table}
            WHERE recruit_id = %s AND campaign_id IS NOT NULL AND recruiter_id <> recruit_id
            UNION ALL
            SELECT r.recruiter_id, r.recruit_id, r.campaign_id, u.depth + 1
            FROM {table} r JOIN up u
              ON r.recruit_id = u.recruiter_id AND r.campaign_id = u.campaign_id
            WHERE u.depth < %s AND r.recruiter_id <> r.recruit_id
        )
        SELECT recruiter_id, campaign_id, depth FROM up
    """  # noqa: S608 - the table name is our model's, values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, [person.pk, CHAIN_MAX])
        ups = cursor.fetchall()
    downs = _descendant_links([person.pk], None, TREE_NODES_MAX)
    chains: dict[int, list[tuple[int, int]]] = {}
    for recruiter_id, campaign_id, depth in ups:
        chains.setdefault(campaign_id, []).append((depth, recruiter_id))
    links: dict[int, list[tuple[int, int]]] = {}
    for _, recruiter_id, recruit_id, campaign_id, _ in downs:
        links.setdefault(campaign_id, []).append((recruiter_id, recruit_id))
    campaign_ids = set(chains) | set(links)
    if not campaign_ids:
        return PersonGrid()
    ids = {person.pk} | {r for c in chains.values() for _, r in c}
    ids |= {n for pairs in links.values() for pair in pairs for n in pair}
    names = _names(ids)
    campaigns = campaigns_by_id(campaign_ids)
    trees = []
    for campaign_id in sorted(
        campaign_ids, key=lambda c: campaigns[c].name if c in campaigns else ""
    ):
        if campaign_id not in campaigns:
            continue
        chain = [
            (r, names.get(r, f"Person {r}"))
            for _, r in sorted(chains.get(campaign_id, []), reverse=True)
        ]
        tree = tree_build(
            person.pk,
            links.get(campaign_id, []),
            names,
            truncated=len(downs) >= TREE_NODES_MAX,
        )
        trees.append(
            PersonTree(
                campaign=campaigns[campaign_id],
                chain=chain,
                tree=tree,
                reach=len(tree.nodes) - 1,
            )
        )
    return PersonGrid(trees=trees)
