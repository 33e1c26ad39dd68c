"""Reads of the mission layer: campaigns, their goals and everything the mission page shows."""

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, Prefetch
from django.utils import timezone

from rallypoint.ledger.queries import campaign_feed, goals_progress_counts, leaderboard

from .hooks import ways_to_help
from .models import Campaign, CampaignStatus, Goal

PUBLIC_STATUSES = (CampaignStatus.LIVE, CampaignStatus.CLOSED)


def goals_in_order():
    return Goal.objects.select_related("segment").order_by("position", "id")


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
        """Share of the target reached, in whole percent (may pass 100)."""
        return int(self.current * 100 // self.target) if self.target else 0

    @property
    def bar_percent(self) -> int:
        return min(self.percent, 100)

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
