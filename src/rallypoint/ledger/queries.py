"""Reads of the ledger: activity feeds, timelines, points, leaderboards, a person's recruits.

Feeds and leaderboards are aggregated from indexed ledger rows and cached for a few seconds
(core.cache), so a busy mission page never turns one counter row into the thing every request
fights over. Goal progress, which may use segments, is read in mission.queries.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.contrib.auth import get_user_model
from django.db import connection
from django.db.models import Count, OuterRef, Subquery, Sum
from django.db.models.functions import Coalesce

from rallypoint.core.cache import CachedValue
from rallypoint.people.models import Person, PostalAddress

from .hooks import campaigns_by_id
from .kinds import kind_label
from .models import Activity, Recruitment

FEED_CACHE_SECONDS = 5
LEADERBOARD_CACHE_SECONDS = 30

# Public numbers of the mission page. Acts are not forgotten one by one (a busy campaign
# records many a second): they show within these few seconds.
# The latest acts of a campaign, by campaign id (then length).
CAMPAIGN_FEED: CachedValue[list["FeedItem"]] = CachedValue(
    "ledger.feed", fresh_for=FEED_CACHE_SECONDS
)
# A campaign's leaderboard, by campaign id (then length).
LEADERBOARD: CachedValue[list["LeaderboardRow"]] = CachedValue(
    "ledger.leaderboard", fresh_for=LEADERBOARD_CACHE_SECONDS
)


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


# One share per channel per day would crowd out everything else; choices about mail are private.
FEED_HIDDEN_KINDS = {"share", "unsubscribe"}


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

    return CAMPAIGN_FEED.get(compute, scope=campaign.pk, key=limit, use_cache=use_cache)


def _person_acts(person: Person):
    return (
        Activity.objects.filter(person=person)
        .select_related("campaign", "referrer")
        .order_by("-created_at", "-id")
    )


def person_timeline(person: Person, *, limit: int = 100):
    """A person's acts, newest first, with campaign, referrer and the object acted on loaded."""
    return _person_acts(person).select_related("target_type").prefetch_related("target")[:limit]


def person_page(person: Person) -> dict[str, Any]:
    """The ledger's part of the organizer's person page (people.hooks): their latest acts,
    newest first, with the campaign, referrer and the object acted on (a recruit's person)
    loaded."""
    return {"timeline": person_timeline(person, limit=50)}


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
    return LEADERBOARD.get(
        lambda: _leaderboard(campaign, limit), scope=campaign.pk, key=limit, use_cache=use_cache
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


def campaign_pk(campaign: Any) -> int | None:
    """The id of `campaign`, which may be given as a campaign, an id or None."""
    return campaign.pk if campaign is not None and hasattr(campaign, "pk") else campaign


def recruits_of(person: Person, campaign: Any = None):
    """The people `person` brought in directly (all campaigns unless one is given), newest first,
    with recruit and campaign loaded."""
    edges = Recruitment.objects.filter(recruiter=person)
    if campaign is not None:
        edges = edges.filter(campaign=campaign)
    return edges.select_related("recruit", "campaign").order_by("-created_at", "-id")


def reach(person: Person, campaign: Any = None) -> int:
    """How many different people joined through `person`'s recruits, at any depth."""
    table = Recruitment._meta.db_table
    campaign_id = campaign_pk(campaign)
    where_first = "recruiter_id = %s"
    where_next = ""
    params: list[Any] = [person.pk]
    if campaign_id is not None:
        where_first += " AND campaign_id = %s"
        where_next = "AND r.campaign_id = %s"
        params.append(campaign_id)
    if campaign_id is not None:
        params.append(campaign_id)
    params.append(person.pk)
    sql = f"""
        WITH RECURSIVE down(person_id) AS (
            SELECT recruit_id FROM {table} WHERE {where_first}
            UNION
            SELECT r.recruit_id FROM {table} r JOIN down ON r.recruiter_id = down.person_id
            {where_next}
        )
        SELECT COUNT(*) FROM down WHERE person_id <> %s
    """  # noqa: S608 - table name from our own model, values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return int(cursor.fetchone()[0])


def supporter_dashboard(person: Person) -> dict[str, Any]:
    """Everything "My Rallypoint" shows for one person, in a fixed number of queries however
    many acts, campaigns or recruits they have."""
    campaign_rows = person_campaign_points(person)
    campaigns = campaigns_by_id([row["campaign_id"] for row in campaign_rows])
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
