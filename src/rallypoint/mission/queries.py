"""Reads of the mission layer: campaigns, their goals and everything the mission page shows."""

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Prefetch, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from rallypoint.core.cache import CachedValue
from rallypoint.core.progress import percent
from rallypoint.core.shared_pages import SHARED_PAGES
from rallypoint.ledger.models import Activity
from rallypoint.ledger.queries import campaign_feed, leaderboard
from rallypoint.people.models import PostalAddress
from rallypoint.segments.queries import segment_people

from .hooks import WAYS_TO_HELP, ways_to_help
from .models import Campaign, CampaignStatus, Goal

PUBLIC_STATUSES = (CampaignStatus.LIVE, CampaignStatus.CLOSED)
PAGE_CACHE_SECONDS = 5
PROGRESS_CACHE_SECONDS = 5

# The mission page and its live fragment as rendered for anonymous visitors, by campaign slug
# (then template and host name). Forgotten when the campaign or its goals change; acts show
# within PAGE_CACHE_SECONDS.
CAMPAIGN_PAGE: CachedValue[str] = CachedValue("mission.page", fresh_for=PAGE_CACHE_SECONDS)

# {goal id: progress} of a set of goals, by a digest of the goals' definitions. Aggregated from
# the ledger; acts are not forgotten one by one (a busy campaign records many a second): they
# show within PROGRESS_CACHE_SECONDS.
GOALS_PROGRESS: CachedValue[dict[int, int]] = CachedValue(
    "mission.progress", fresh_for=PROGRESS_CACHE_SECONDS
)


def campaign_page_forget(campaign: Campaign, *slugs: str) -> None:
    """Forget what the public pages of `campaign` (also under its former `slugs`) show."""
    WAYS_TO_HELP.forget(campaign.pk)
    for slug in {campaign.slug, *slugs}:
        CAMPAIGN_PAGE.forget(slug)
    SHARED_PAGES.forget()  # copies are kept by URL: drop them all (an organizer's edit is rare)


def goals_in_order():
    return Goal.objects.select_related("segment").order_by("position", "id")


def campaigns_by_id(ids: Iterable[int] | None = None) -> dict[int, Campaign]:
    """{id: campaign} for `ids` (every campaign when None), by name: how the apps below the
    mission load the campaigns their acts name (ledger.hooks)."""
    campaigns = Campaign.objects.order_by("name", "pk")
    if ids is not None:
        campaigns = campaigns.filter(pk__in=list(ids))
    return {campaign.pk: campaign for campaign in campaigns}


def goal_acts_filter(goal: Any) -> Q:
    """The ledger rows that count toward `goal` (its campaign and kind; its region and segment
    when set): the mission page, the milestones and the insights burn-up count the same rows."""
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
    return hashlib.md5(spec.encode()).hexdigest()  # noqa: S324


def goals_progress_counts(goals: Iterable[Any], *, use_cache: bool = True) -> dict[int, int]:
    """{goal id: amount so far in display units} for any goals (of one or many campaigns), in
    one aggregate query over the ledger's (campaign, kind, created_at) index."""
    goals = list(goals)
    if not goals:
        return {}

    def compute() -> dict[int, int]:
        aggregates = {
            f"g{goal.pk}": Coalesce(Sum("quantity", filter=goal_acts_filter(goal)), 0)
            for goal in goals
        }
        row = Activity.objects.filter(
            campaign_id__in={goal.campaign_id for goal in goals},
            kind__in={goal.kind for goal in goals},
        ).aggregate(**aggregates)
        return {goal.pk: int(row[f"g{goal.pk}"]) // goal.per_unit for goal in goals}

    return GOALS_PROGRESS.get(compute, key=_goals_key(goals), use_cache=use_cache)


def live_campaigns():
    return Campaign.objects.filter(status=CampaignStatus.LIVE).order_by("-starts_at", "-created_at")


def public_campaigns():
    """Campaigns anyone may open: live ones, and closed ones so old shared links keep working."""
    return Campaign.objects.filter(status__in=PUBLIC_STATUSES)


def campaign_for_page(slug: str, *, preview: bool = False) -> Campaign | None:
    """The campaign behind /campaigns/<slug>/ with its goals; drafts only for organizers."""
    campaigns = Campaign.objects.all() if preview else public_campaigns()
    return (
        campaigns.prefetch_related(Prefetch("goals", queryset=goals_in_order()))
        .filter(slug=slug)
        .first()
    )


def organizer_campaigns():
    return Campaign.objects.annotate(goal_count=Count("goals")).order_by("status", "-created_at")


@dataclass(frozen=True)
class GoalProgress:
    goal: Goal
    current: int
    now: datetime

    @property
    def target(self) -> int:
        return self.goal.target

    @property
    def percent(self) -> int:
        """Share of the target reached, in whole percent (core.progress.percent: rounded down,
        at most 100)."""
        return percent(self.current, self.target)

    @property
    def bar_percent(self) -> int:
        """The bar's width: the same number as the text beside it."""
        return self.percent

    @property
    def met(self) -> bool:
        return self.current >= self.target

    @property
    def remaining(self) -> int:
        return max(self.target - self.current, 0)

    @property
    def time_left(self) -> timedelta | None:
        if self.goal.deadline is None:
            return None
        return max(self.goal.deadline - self.now, timedelta(0))

    @property
    def deadline_passed(self) -> bool:
        return self.goal.deadline is not None and self.goal.deadline <= self.now


def goals_progress(goals: list[Goal], *, use_cache: bool = True) -> list[GoalProgress]:
    """Each goal with its progress, all counted in one (briefly cached) query."""
    progress = goals_progress_counts(goals, use_cache=use_cache)
    now = timezone.now()
    return [GoalProgress(goal=g, current=progress.get(g.pk, 0), now=now) for g in goals]


def mission_page(campaign: Campaign) -> dict[str, Any]:
    """Everything the public mission page shows, each piece cached for a few seconds."""
    return {
        "campaign": campaign,
        "goals": goals_progress(list(campaign.goals.all())),
        "feed": campaign_feed(campaign, limit=8),
        "ways": ways_to_help(campaign),
        "leaders": leaderboard(campaign, limit=5),
    }


def home_campaigns(limit: int = 6) -> list[dict[str, Any]]:
    """Live campaigns for the home page, each with its first goal's progress."""
    campaigns = list(
        live_campaigns().prefetch_related(Prefetch("goals", queryset=goals_in_order()))[:limit]
    )
    first_goals = [goals[0] for c in campaigns if (goals := list(c.goals.all()))]
    progress = {p.goal.campaign_id: p for p in goals_progress(first_goals)}
    return [{"campaign": c, "goal": progress.get(c.pk)} for c in campaigns]
