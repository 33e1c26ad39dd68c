"""Reads of the actions tool, with their joins and short caches (core.cache) built in."""

from datetime import date, timedelta
from typing import Any

from django.db.models import Count, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import TruncDate
from django.urls import reverse
from django.utils import timezone

from rallypoint.core.cache import CachedValue
from rallypoint.core.progress import percent
from rallypoint.ledger.models import Channel
from rallypoint.people.models import EmailAddress, PhoneNumber, PostalAddress

from .models import Action, ActionStatus, Question, Submission

# Counts on public pages may lag this many seconds: every submission must not hit one hot row
# or re-count the table on every page view. A new signature forgets its action's count.
COUNT_CACHE_SECONDS = 5

# The public action behind /act/<slug>/ (every signature starts here), by slug; the services
# forget it when they change the action or its questions.
ACTION_PAGE: CachedValue[Action | None] = CachedValue("actions.page", fresh_for=5)
# People who put their name to an action, by action id.
ACTION_COUNT: CachedValue[int] = CachedValue("actions.count", fresh_for=COUNT_CACHE_SECONDS)


def public_actions() -> QuerySet[Action]:
    """Actions anyone may see: live ones, and closed ones (which show their count)."""
    return Action.objects.filter(status__in=[ActionStatus.LIVE, ActionStatus.CLOSED])


def _action_with_questions(qs: QuerySet[Action], slug: str) -> Action | None:
    return (
        qs.select_related("campaign")
        .prefetch_related(Prefetch("questions", queryset=Question.objects.order_by("position")))
        .filter(slug=slug)
        .first()
    )


def action_for_page(slug: str, *, include_drafts: bool = False) -> Action | None:
    """The action behind /act/<slug>/ with its campaign and questions. Public lookups are cached
    for a few seconds (every signature starts here); organizers always see the stored row.
    Each caller gets its own copy of the instance."""
    if include_drafts:
        return _action_with_questions(Action.objects.all(), slug)
    return ACTION_PAGE.get(lambda: _action_with_questions(public_actions(), slug), scope=slug)


def action_page_forget(slug: str) -> None:
    ACTION_PAGE.forget(slug)


def action_count(action: Action) -> int:
    """People who put their name to the action (a repeated form counts once)."""
    return ACTION_COUNT.get(
        lambda: Submission.objects.filter(action_id=action.pk, counted=True).count(),
        scope=action.pk,
    )


def action_count_forget(action_id: int) -> None:
    ACTION_COUNT.forget(action_id)


def action_progress(action: Action) -> dict[str, Any]:
    """Count, goal (the organizer's, or the next round number above the count) and percent."""
    count = action_count(action)
    goal = action.goal or _next_milestone(count)
    return {"count": count, "goal": goal, "percent": percent(count, goal)}


def _next_milestone(count: int) -> int:
    for step in (100, 250, 500, 1000, 2500, 5000, 10_000, 25_000, 50_000, 100_000):
        if count < step * 0.9:
            return step
    return ((count // 100_000) + 1) * 100_000


WAY_PREFIX = {"petition": "Sign", "pledge": "Pledge", "form": "Sign up"}


def ways_to_help(campaign: Any) -> list[dict[str, Any]]:
    """Live actions of the campaign, for the mission page's "ways to help" menu (which caches
    the whole menu briefly)."""
    actions = (
        Action.objects.filter(campaign=campaign, status=ActionStatus.LIVE)
        .annotate(count=Count("submissions", filter=Q(submissions__counted=True)))
        .order_by("created_at", "id")
    )
    return [
        {
            "title": f"{WAY_PREFIX[action.kind]}: {action.title}",
            "url": reverse("actions:detail", args=[action.slug]),
            "kind": action.ledger_kind,
            "blurb": action.summary or action.pledge_headline or action.target_names,
            "count": action.count,
        }
        for action in actions
    ]


def organizer_actions(*, status: str = "", campaign_id: int | None = None) -> QuerySet[Action]:
    qs = Action.objects.select_related("campaign").annotate(
        count=Count("submissions", filter=Q(submissions__counted=True))
    )
    if status in ActionStatus.values:
        qs = qs.filter(status=status)
    if campaign_id:
        qs = qs.filter(campaign_id=campaign_id)
    return qs.order_by("-created_at", "-id")


def organizer_action(pk: int) -> Action | None:
    return (
        Action.objects.select_related("campaign")
        .prefetch_related(Prefetch("questions", queryset=Question.objects.order_by("position")))
        .filter(pk=pk)
        .first()
    )


def action_submissions(action: Action, *, q: str = "") -> QuerySet[Submission]:
    qs = (
        Submission.objects.filter(action=action)
        .select_related("person", "referrer")
        .prefetch_related(
            Prefetch(
                "person__email_addresses", queryset=EmailAddress.objects.order_by("-primary", "id")
            ),
            Prefetch(
                "person__postal_addresses",
                queryset=PostalAddress.objects.order_by("-primary", "id"),
            ),
        )
    )
    q = (q or "").strip()
    if q:
        qs = qs.filter(
            Q(person__given_name__icontains=q)
            | Q(person__family_name__icontains=q)
            | Q(person__email_addresses__address_normalized__icontains=q.lower())
        ).distinct()
    return qs.order_by("-created_at", "-id")


def submissions_for_export(action: Action) -> QuerySet[Submission]:
    """One row per submission with the person's primary contact details, for streaming."""
    email = EmailAddress.objects.filter(person=OuterRef("person_id")).order_by("-primary", "id")
    phone = PhoneNumber.objects.filter(person=OuterRef("person_id")).order_by("-primary", "id")
    address = PostalAddress.objects.filter(person=OuterRef("person_id")).order_by("-primary", "id")
    return (
        Submission.objects.filter(action=action)
        .select_related("person", "referrer")
        .annotate(
            email=Subquery(email.values("address")[:1]),
            phone=Subquery(phone.values("number")[:1]),
            sms_consent=Subquery(phone.values("sms_consent")[:1]),
            postal_code=Subquery(address.values("postal_code")[:1]),
            locality=Subquery(address.values("locality")[:1]),
            region=Subquery(address.values("region")[:1]),
        )
        .order_by("created_at", "id")
    )


def daily_counts(action: Action, *, days: int = 60) -> list[dict[str, Any]]:
    """Counted submissions per day over the last `days` days (today included), zeros filled."""
    today = timezone.localdate()
    start = today - timedelta(days=days - 1)
    since = timezone.make_aware(timezone.datetime.combine(start, timezone.datetime.min.time()))
    rows = (
        Submission.objects.filter(action=action, counted=True, created_at__gte=since)
        .annotate(day=TruncDate("created_at", tzinfo=timezone.get_current_timezone()))
        .values("day")
        .annotate(n=Count("id"))
    )
    by_day: dict[date, int] = {row["day"]: row["n"] for row in rows}
    series: list[dict[str, Any]] = [
        {"day": start + timedelta(days=i), "count": by_day.get(start + timedelta(days=i), 0)}
        for i in range(days)
    ]
    peak = max((row["count"] for row in series), default=0) or 1
    for row in series:
        row["percent"] = percent(row["count"], peak)
    return series


def action_channel_counts(action: Action) -> list[dict[str, Any]]:
    """Counted submissions by the channel that brought them ("" = came on their own)."""
    rows = (
        Submission.objects.filter(action=action, counted=True)
        .values("channel")
        .annotate(n=Count("id"))
        .order_by("-n", "channel")
    )
    return [
        {"channel": row["channel"], "label": channel_label(row["channel"]), "count": row["n"]}
        for row in rows
    ]


def channel_label(channel: str) -> str:
    if not channel:
        return "On their own"
    return dict(Channel.choices).get(channel, channel.capitalize())
