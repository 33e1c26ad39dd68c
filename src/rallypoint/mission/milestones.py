"""Goal milestones, read from the outbox: when a live campaign's goal passes 25, 50, 75 or 100%
of its target, it is recorded once (GoalMilestone) and the organizers get one email.

An outbox consumer (core.outbox): it runs in the worker after acts commit, never in the request
that recorded them. Each pass recounts the goals of live campaigns in one aggregate query
(goals_progress_counts), whatever the number of events, and writes only milestones not yet
recorded (a unique constraint keeps it exactly once, even with two workers). The emails are
queued in the same transaction with a dedupe key, so a repeated pass sends nothing twice.
"""

from django.db import transaction
from django.utils import timezone

from rallypoint.accounts.models import User
from rallypoint.core.mail import email_queue
from rallypoint.core.models import OutboxEvent
from rallypoint.core.progress import percent
from rallypoint.core.ratelimit import hit

from .models import CampaignStatus, Goal, GoalMilestone
from .queries import goals_progress_counts

OUTBOX_CONSUMER = "mission.milestones"
MILESTONES = (25, 50, 75, 100)


def milestone_percent(amount: int, target: int) -> int:
    """Whole percent passed, by the one rule of every page (core.progress: rounded down, so
    99.9% is not 100%)."""
    return percent(amount, target)


def milestones_record(now=None) -> list[GoalMilestone]:
    """Record the milestones the live campaigns' goals have passed and not yet recorded; email
    the organizers about each. Returns the new ones."""
    goals = list(
        Goal.objects.filter(campaign__status=CampaignStatus.LIVE).select_related("campaign")
    )
    if not goals:
        return []
    counts = goals_progress_counts(goals, use_cache=False)
    seen = set(GoalMilestone.objects.filter(goal__in=goals).values_list("goal_id", "percent"))
    now = now or timezone.now()
    new = [
        GoalMilestone(goal=goal, percent=mark, amount=counts.get(goal.pk, 0), reached_at=now)
        for goal in goals
        for mark in MILESTONES
        if (goal.pk, mark) not in seen
        and milestone_percent(counts.get(goal.pk, 0), goal.target) >= mark
    ]
    if not new:
        return []
    with transaction.atomic():
        GoalMilestone.objects.bulk_create(new, ignore_conflicts=True)
        # Only those this pass wrote (another worker may have written the same at once).
        written = list(
            GoalMilestone.objects.filter(
                reached_at=now, goal__in={m.goal_id for m in new}
            ).select_related("goal__campaign")
        )
        _tell_organizers(written)
    return written


def _tell_organizers(milestones: list[GoalMilestone]) -> None:
    if not milestones:
        return
    organizers = [u for u in User.objects.filter(is_active=True) if u.is_organizer]
    # The highest milestone per goal: passing 25 and 50 in one pass is one email.
    top: dict[int, GoalMilestone] = {}
    for milestone in milestones:
        if milestone.goal_id not in top or milestone.percent > top[milestone.goal_id].percent:
            top[milestone.goal_id] = milestone
    for milestone in top.values():
        for user in organizers:
            email_queue(
                to=user.email,
                template="mission/email/milestone",
                context={"milestone": milestone, "goal": milestone.goal},
                dedupe_key=f"mission.milestone:{milestone.goal_id}:{milestone.percent}:{user.pk}",
            )


# The events that can move a goal (acts recorded with them), and how often they may wake the
# worker for milestones: a pass recounts every goal, so one every WAKE_SECONDS is enough. A
# wake-up skipped here is made up by the next event, the other consumers' wake-ups, or
# `rallypoint outbox_process`: the events stay in the outbox until this consumer reads them.
MILESTONE_KINDS = frozenset({"signature", "submission", "attendance", "person.created"})
WAKE_SECONDS = 10


def milestones_want(kind: str) -> bool:
    if kind not in MILESTONE_KINDS:
        return False
    allowed, _ = hit("mission.milestones.wake", limit=1, window=WAKE_SECONDS)
    return allowed


def milestones_from_outbox(events: list[OutboxEvent]) -> None:
    """The outbox consumer: any batch of events may have moved a goal."""
    milestones_record()
