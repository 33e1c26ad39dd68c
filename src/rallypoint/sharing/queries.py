"""Reads of the social grid: who brought whom in, on which channel, how many generations deep.

Each recruit has at most one recruiter per campaign, so a campaign's recruitment graph is a
forest. Chains walk it with a recursive CTE (SQLite and PostgreSQL); whole-campaign analyses
fetch the edges in one query and use networkx. The edges are the ledger's (ledger.models.
Recruitment); a person's own recruits and reach, which their dashboard shows, are read in
ledger.queries.
"""

from collections import Counter
from typing import Any

import networkx as nx
from django.db import connection
from django.db.models import Count

from rallypoint.ledger.models import Activity, Channel, Recruitment
from rallypoint.ledger.queries import campaign_pk
from rallypoint.people.models import Person

MAX_DEPTH = 1000  # a guard; real chains are far shorter


def recruiter_of(person: Person, campaign: Any) -> Person | None:
    edge = (
        Recruitment.objects.filter(recruit=person, campaign=campaign)
        .select_related("recruiter")
        .first()
    )
    return edge.recruiter if edge else None


def chain_to_root(person: Person, campaign: Any) -> list[Person]:
    """[person, their recruiter, that person's recruiter, …, the root] within one campaign
    (`campaign=None`: recruitments made outside campaigns). Two queries whatever the depth."""
    table = Recruitment._meta.db_table
    campaign_id = campaign_pk(campaign)
    condition = "r.campaign_id = %s" if campaign_id is not None else "r.campaign_id IS NULL"
    params: list[Any] = [person.pk]
    if campaign_id is not None:
        params.append(campaign_id)
    params.append(MAX_DEPTH)
    sql = f"""
        WITH RECURSIVE chain(person_id, depth) AS (
            SELECT CAST(%s AS BIGINT), 0
            UNION ALL
            SELECT r.recruiter_id, chain.depth + 1
            FROM {table} r JOIN chain ON r.recruit_id = chain.person_id
            WHERE {condition} AND chain.depth < %s
        )
        SELECT person_id, depth FROM chain ORDER BY depth
    """  # noqa: S608 - table name from our own model, values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        ids = [row[0] for row in cursor.fetchall()]
    people = Person.objects.in_bulk(ids)
    return [people[pk] for pk in ids if pk in people]


def recruitment_graph(campaign: Any) -> nx.DiGraph:
    """recruiter → recruit edges of one campaign (one query), with channel and time on edges."""
    graph = nx.DiGraph()
    edges = Recruitment.objects.filter(campaign=campaign).values_list(
        "recruiter_id", "recruit_id", "channel", "created_at"
    )
    for recruiter_id, recruit_id, channel, created_at in edges:
        graph.add_edge(recruiter_id, recruit_id, channel=channel, at=created_at)
    return graph


def generations(campaign: Any, graph: nx.DiGraph | None = None) -> dict[int, int]:
    """{person id: generation} for everyone in the campaign's recruitment graph. Generation 0
    is a root (someone who recruited but was not recruited), 1 their recruits, and so on."""
    graph = recruitment_graph(campaign) if graph is None else graph
    depth: dict[int, int] = {}
    for node in nx.topological_sort(graph):
        parents = list(graph.predecessors(node))
        depth[node] = depth[parents[0]] + 1 if parents else 0
    return depth


def generation_counts(campaign: Any) -> dict[int, int]:
    """{generation: how many people} — how far the campaign spread person to person."""
    return dict(sorted(Counter(generations(campaign).values()).items()))


def max_generation(campaign: Any) -> int:
    return max(generations(campaign).values(), default=0)


def per_channel_counts(campaign: Any) -> list[dict[str, Any]]:
    """Per channel: people recruited, shares made and acts that came through shared links.
    Three grouped queries; channels without any of these are left out. Biggest first."""
    recruits = dict(
        Recruitment.objects.filter(campaign=campaign)
        .values_list("channel")
        .annotate(n=Count("id"))
        .values_list("channel", "n")
    )
    shares = dict(
        Activity.objects.filter(campaign=campaign, kind="share")
        .values_list("channel")
        .annotate(n=Count("id"))
        .values_list("channel", "n")
    )
    referred = dict(
        Activity.objects.filter(campaign=campaign, referrer__isnull=False)
        .exclude(kind="recruit")
        .values_list("channel")
        .annotate(n=Count("id"))
        .values_list("channel", "n")
    )
    labels = dict(Channel.choices)
    rows = [
        {
            "channel": channel,
            "label": labels.get(channel, channel or "Unknown"),
            "recruits": recruits.get(channel, 0),
            "shares": shares.get(channel, 0),
            "referred_acts": referred.get(channel, 0),
        }
        for channel in {*recruits, *shares, *referred}
    ]
    return sorted(rows, key=lambda r: (-r["recruits"], -r["shares"], r["channel"]))


def top_recruiters(campaign: Any, *, limit: int = 10) -> list[dict[str, Any]]:
    """People who brought in the most people directly, with their names loaded."""
    return list(
        Recruitment.objects.filter(campaign=campaign)
        .values("recruiter_id", "recruiter__given_name", "recruiter__family_name")
        .annotate(recruits=Count("id"))
        .order_by("-recruits", "recruiter_id")[:limit]
    )
