"""Reads of the ledger: goal progress, activity feeds, timelines, points and leaderboards.

Progress is aggregated from indexed ledger rows and cached for a few seconds, so a busy mission
page never turns one counter row into the thing every request fights over.
"""

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce

from rallypoint.mission.models import Campaign
from rallypoint.people.models import Person, PostalAddress
from rallypoint.segments.queries import segment_people
from rallypoint.sharing.models import Recruitment
from rallypoint.sharing.queries import reach, recruits_of

from .caching import cached
from .kinds import kind_label
from .models import Activity

PROGRESS_CACHE_SECONDS = 5
FEED_CACHE_SECONDS = 5
LEADERBOARD_CACHE_SECONDS = 30


def _goal_filter(goal: Any) -> Q:
    condition = Q(campaign_id=goal.campaign_id, kind=goal.kind)
    if goal.region:
        # An uncorrelated IN (…) runs once (PostgreSQL hashes it); a correlated EXISTS would run
        # once per ledger row, and a join would count an act once per address.
        in_region = PostalAddress.objects.filter(primary=True, region__iexact=goal.region)
        condition &= Q(person_id__in=in_region.values("person_id"))
    if goal.segment_id:
        condition &= Q(person_id__in=segment_people(goal.segment).values("pk"))
    return condition


def _goals_key(goals: list[Any]) -> str:
    spec = "|".join(
        f"{g.pk}:{g.campaign_id}:{g.kind}:{g.region.lower()}:{g.segment_id}" for g in goals
    )
    return f"ledger:progress:{hashlib.md5(spec.encode()).hexdigest()}"  # noqa: S324


def goals_progress_counts(goals: Iterable[Any], *, use_cache: bool = True) -> dict[int, int]:
    """{goal id: amount so far in display units} for any goals (of one or many campaigns), in
    one aggregate query over the ledger's (campaign, kind, created_at) index."""
    goals = list(goals)
    if not goals:
        return {}

    def compute() -> dict[int, int]:
        aggregates = {
            f"g{goal.pk}": Coalesce(Sum("quantity", filter=_goal_filter(goal)), 0) for goal in goals
        }
        row = Activity.objects.filter(
            campaign_id__in={goal.campaign_id for goal in goals},
            kind__in={goal.kind for goal in goals},
        ).aggregate(**aggregates)
        return {goal.pk: int(row[f"g{goal.pk}"]) // goal.per_unit for goal in goals}

    return cached(_goals_key(goals), PROGRESS_CACHE_SECONDS, compute, use_cache=use_cache)


@dataclass(frozen=True)
class FeedItem:
    name: str
    place: str
    label: str
    kind: str
    at: datetime

    @property
    def sentence(self) -> str:
        where = f" from {self.place}" if self.place else ""
        return f"{self.name}{where} {self.label}"


FEED_HIDDEN_KINDS = {"share"}  # one share per channel per day would crowd out everything else


def _locality(outer: str = "person") -> Subquery:
    """The locality of the primary address of the person in `outer`."""
    addresses = PostalAddress.objects.filter(person=OuterRef(outer), primary=True)
    return Subquery(addresses.values("locality")[:1])


def campaign_feed(campaign: Any, *, limit: int = 8, use_cache: bool = True) -> list[FeedItem]:
    """Recent acts for the mission page: "Ana G. from Denver signed the petition". People who
    chose not to be shown publicly appear as "Someone", without a place."""

    def compute() -> list[FeedItem]:
        rows = (
            Activity.objects.filter(campaign=campaign)
            .exclude(kind__in=FEED_HIDDEN_KINDS)
            .select_related("person")
            .annotate(locality=_locality())
            .order_by("-created_at", "-id")[:limit]
        )
        return [
            FeedItem(
                name=row.person.public_name,
                place=(row.locality or "") if row.person.public_display else "",
                label=kind_label(row.kind),
                kind=row.kind,
                at=row.created_at,
            )
            for row in rows
        ]

    key = f"ledger:feed:{campaign.pk}:{limit}"
    return cached(key, FEED_CACHE_SECONDS, compute, use_cache=use_cache)


def person_timeline(person: Person, *, limit: int = 100):
    """A person's acts, newest first, with campaign, referrer and the object acted on loaded."""
    return (
        Activity.objects.filter(person=person)
        .select_related("campaign", "referrer", "target_type")
        .prefetch_related("target")
        .order_by("-created_at", "-id")[:limit]
    )


def person_points(person: Person, campaign: Any = None) -> int:
    acts = Activity.objects.filter(person=person)
    if campaign is not None:
        acts = acts.filter(campaign=campaign)
    return int(acts.aggregate(total=Coalesce(Sum("points"), 0))["total"])


def person_campaign_points(person: Person) -> list[dict[str, Any]]:
    """[{campaign_id, campaign__name, campaign__slug, points, acts}] for a person, best first."""
    return list(
        Activity.objects.filter(person=person, campaign__isnull=False)
        .values("campaign_id", "campaign__name", "campaign__slug", "campaign__status")
        .annotate(points=Sum("points"), acts=Count("id"))
        .order_by("-points", "campaign_id")
    )


def person_kind_counts(person: Person) -> dict[str, int]:
    rows = Activity.objects.filter(person=person).values("kind").annotate(n=Count("id"))
    return {row["kind"]: row["n"] for row in rows}


@dataclass(frozen=True)
class LeaderboardRow:
    rank: int
    person_id: int
    name: str
    place: str
    points: int
    acts: int


def leaderboard(campaign: Any, *, limit: int = 10, use_cache: bool = True) -> list[LeaderboardRow]:
    """The campaign's activity index: people by points, without those who opted out of public
    display. Ties share a rank."""
    key = f"ledger:leaderboard:{campaign.pk}:{limit}"
    return cached(
        key, LEADERBOARD_CACHE_SECONDS, lambda: _leaderboard(campaign, limit), use_cache=use_cache
    )


def _leaderboard(campaign: Any, limit: int) -> list[LeaderboardRow]:
    # Rank on the ledger alone, then load names and places for the few people shown: a place
    # looked up per group would run once for every person who ever acted.
    hidden = Person.objects.filter(public_display=False).values("pk")
    rows = list(
        Activity.objects.filter(campaign=campaign)
        .exclude(person_id__in=hidden)
        .values("person_id")
        .annotate(points=Sum("points"), acts=Count("id"))
        .filter(points__gt=0)
        .order_by("-points", "person_id")[:limit]
    )
    people = Person.objects.annotate(locality=_locality(outer="pk")).in_bulk(
        [row["person_id"] for row in rows]
    )
    board: list[LeaderboardRow] = []
    for index, row in enumerate(rows):
        person = people.get(row["person_id"])
        if person is None:  # merged away a moment ago
            continue
        rank = board[-1].rank if board and board[-1].points == row["points"] else index + 1
        board.append(
            LeaderboardRow(
                rank=rank,
                person_id=person.pk,
                name=person.public_name,
                place=person.locality or "",
                points=int(row["points"]),
                acts=row["acts"],
            )
        )
    return board


def person_rank(person: Person, campaign: Any) -> int | None:
    """Where `person` stands on the campaign's board (None without points or when hidden)."""
    mine = person_points(person, campaign)
    if mine <= 0 or not person.public_display:
        return None
    hidden = Person.objects.filter(public_display=False).values("pk")
    better = (
        Activity.objects.filter(campaign=campaign)
        .exclude(person_id__in=hidden)
        .values("person_id")
        .annotate(points=Sum("points"))
        .filter(points__gt=mine)
        .count()
    )
    return better + 1


def campaign_participants(campaign: Any) -> int:
    """How many different people have acted for the campaign."""
    return Activity.objects.filter(campaign=campaign).values("person_id").distinct().count()


def person_points_outside_campaigns(person: Person) -> int:
    acts = Activity.objects.filter(person=person, campaign__isnull=True)
    return int(acts.aggregate(total=Coalesce(Sum("points"), 0))["total"])


def supporter_dashboard(person: Person) -> dict[str, Any]:
    """Everything "My Rallypoint" shows for one person, in a fixed number of queries however
    many acts, campaigns or recruits they have."""
    campaign_rows = person_campaign_points(person)
    campaigns = Campaign.objects.in_bulk([row["campaign_id"] for row in campaign_rows])
    return {
        "person": person,
        "points": sum(row["points"] for row in campaign_rows)
        + person_points_outside_campaigns(person),
        "campaigns": [
            {**row, "campaign": campaigns[row["campaign_id"]]}
            for row in campaign_rows
            if row["campaign_id"] in campaigns
        ],
        "recruits": list(recruits_of(person)[:50]),
        "recruit_count": Recruitment.objects.filter(recruiter=person)
        .values("recruit_id")
        .distinct()
        .count(),
        "reach": reach(person),
        "timeline": list(person_timeline(person, limit=30)),
        "has_account": get_user_model().objects.filter(person=person).exists(),
    }
