"""A campaign's growth over time: people and acts per day or week, goals as burn-up series with
a projection to their deadline, and what needs the organizer's attention.

Every series is one grouped query over the ledger's (campaign, kind, created_at) index,
bucketed by day (or by week, Monday first, when the window is longer than
DAILY_BUCKETS_MAX days) in the current time zone.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db.models import Count, DateField, Min, Q, Sum
from django.db.models.functions import Trunc, TruncDate
from django.utils import timezone

from rallypoint.ledger.kinds import kind_noun
from rallypoint.ledger.models import Activity, Recruitment
from rallypoint.mission.queries import goal_acts_filter, goals_progress

from .grid import Window

DAILY_BUCKETS_MAX = 120
PACE_DAYS = 7  # the rate a goal is moving at: its progress over the last week
KINDS_SHOWN = 6  # acts by kind: the most frequent kinds, the rest summed


@dataclass(frozen=True)
class Buckets:
    """Consecutive periods of a window: days, or weeks starting on Monday."""

    unit: str  # "day" or "week"
    starts: list[date]

    def index(self, day: date) -> int | None:
        if not self.starts or day < self.starts[0]:
            return None
        step = 7 if self.unit == "week" else 1
        i = (day - self.starts[0]).days // step
        return i if i < len(self.starts) else None

    @property
    def labels(self) -> list[str]:
        """Full labels for tables and CSV: 2026-03-02, or "week of 2026-03-02"."""
        if self.unit == "week":
            return [f"week of {d.isoformat()}" for d in self.starts]
        return [d.isoformat() for d in self.starts]

    @property
    def short_labels(self) -> list[str]:
        """For the x axis: "2 Mar"."""
        return [f"{d.day} {d:%b}" for d in self.starts]


def buckets_between(first: date, last: date) -> Buckets:
    if last < first:
        last = first
    if (last - first).days + 1 > DAILY_BUCKETS_MAX:
        start = first - timedelta(days=first.weekday())
        weeks = (last - start).days // 7 + 1
        return Buckets("week", [start + timedelta(days=7 * i) for i in range(weeks)])
    return Buckets("day", [first + timedelta(days=i) for i in range((last - first).days + 1)])


def today() -> date:
    return timezone.localdate()


def campaign_first_day(campaign: Any) -> date:
    """Where a campaign's charts start: its first act, else its start date, else its creation."""
    first = Activity.objects.filter(campaign_id=campaign.pk).aggregate(first=Min("created_at"))
    moment = first["first"] or campaign.starts_at or campaign.created_at
    return timezone.localdate(moment) if moment else today()


def window_days(campaign: Any, window: Window) -> tuple[date, date]:
    """The first and last day a page's charts cover for `window` (an open end: the campaign's
    first act, today)."""
    first = window.since or campaign_first_day(campaign)
    last = window.until or max(today(), first)
    return first, last


def day_bounds(first: date, last: date) -> dict[str, datetime]:
    return {
        "created_at__gte": Window(since=first).start,  # type: ignore[dict-item]
        "created_at__lt": Window(until=last).end,  # type: ignore[dict-item]
    }


# --- people and acts -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Growth:
    buckets: Buckets
    new_people: list[int]
    active_people: list[int]
    acts_by_kind: dict[str, list[int]]  # kind → acts per bucket, the busiest kinds first
    acts_total: int
    new_people_total: int


def bucket_of(buckets: Buckets, field: Any = "created_at") -> Trunc:
    """The day, or the Monday of the week, of `field` in the current time zone, in SQL."""
    return Trunc(field, buckets.unit, output_field=DateField())


def growth_series(campaign: Any, first: date, last: date) -> Growth:
    """New people (first act in the campaign), active people (anyone who acted) and acts by
    kind, per bucket between `first` and `last` (both included). Three grouped queries, each
    grouped by bucket in the database."""
    buckets = buckets_between(first, last)
    count = len(buckets.starts)
    bounds = day_bounds(first, last)
    acts = Activity.objects.filter(campaign_id=campaign.pk, **bounds).order_by()
    by_kind: dict[str, list[int]] = {}
    for day, kind, n in (
        acts.annotate(bucket=bucket_of(buckets))
        .values_list("bucket", "kind")
        .annotate(n=Count("id"))
        .values_list("bucket", "kind", "n")
    ):
        i = buckets.index(day)
        if i is not None:
            by_kind.setdefault(kind, [0] * count)[i] += n
    active = active_people(acts, buckets)
    new = [0] * count
    # Each person's first act, as its bucket (a date per person; counted here).
    firsts = Counter(
        Activity.objects.filter(campaign_id=campaign.pk)
        .order_by()
        .values_list("person_id")
        .annotate(first=Min("created_at"))
        .filter(first__gte=bounds["created_at__gte"], first__lt=bounds["created_at__lt"])
        .annotate(bucket=bucket_of(buckets, Min("created_at")))
        .values_list("bucket", flat=True)
    )
    for day, n in firsts.items():
        i = buckets.index(day)
        if i is not None:
            new[i] += n
    ordered = dict(sorted(by_kind.items(), key=lambda item: (-sum(item[1]), item[0])))
    return Growth(
        buckets=buckets,
        new_people=new,
        active_people=active,
        acts_by_kind=ordered,
        acts_total=sum(sum(v) for v in ordered.values()),
        new_people_total=sum(new),
    )


def _upper_first(text: str) -> str:
    return text[:1].upper() + text[1:]


def active_people(acts: Any, buckets: Buckets) -> list[int]:
    """Distinct people among `acts` per bucket (a person acting on two days of a week counts
    once in that week): one query grouped by bucket."""
    active = [0] * len(buckets.starts)
    for day, n in (
        acts.annotate(bucket=bucket_of(buckets))
        .values_list("bucket")
        .annotate(n=Count("person_id", distinct=True))
        .values_list("bucket", "n")
    ):
        i = buckets.index(day)
        if i is not None:
            active[i] = n
    return active


def kinds_shown(acts_by_kind: dict[str, list[int]]) -> list[tuple[str, list[int]]]:
    """(label, values) of the KINDS_SHOWN busiest kinds, the others summed as "other acts"."""
    items = list(acts_by_kind.items())
    shown = [(_upper_first(kind_noun(kind)), values) for kind, values in items[:KINDS_SHOWN]]
    rest = [values for _, values in items[KINDS_SHOWN:]]
    if rest:
        shown.append(("Other acts", [sum(column) for column in zip(*rest, strict=True)]))
    return shown


# --- goals ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BurnUp:
    goal: Any
    title: str
    unit: str  # what the goal counts: "signatures"
    buckets: Buckets
    done: list[int | None]  # cumulative progress at the end of each bucket (None: future)
    projection: list[int | None]  # from today to the deadline at the current rate
    target: int
    current: int
    rate_per_day: float  # over the last PACE_DAYS days
    needed_per_day: float | None  # to meet the target by the deadline
    verdict: str  # "on pace", "behind by 40 a day", "met", "no deadline", "deadline passed"
    behind_by: int  # a day; 0 when on pace

    @property
    def on_pace(self) -> bool:
        return self.behind_by == 0


def goals_burn_up(campaign: Any) -> list[BurnUp]:
    """Each goal of the campaign as a burn-up series from the campaign's first day to its
    deadline (or today), with the pace it needs. One grouped query for all goals, plus the
    progress the mission page shows (mission.queries.goals_progress)."""
    goals = list(campaign.goals.select_related("segment").all())
    if not goals:
        return []
    progress = {p.goal.pk: p for p in goals_progress(goals, use_cache=False)}
    first = campaign_first_day(campaign)
    now = timezone.now()
    end = max([today(), *(timezone.localdate(g.deadline) for g in goals if g.deadline is not None)])
    buckets = buckets_between(first, end)
    daily = (
        Activity.objects.filter(campaign_id=campaign.pk, kind__in={g.kind for g in goals})
        .order_by()
        .annotate(day=TruncDate("created_at"))
        .values("day")
        .annotate(**{f"g{g.pk}": Sum("quantity", filter=goal_acts_filter(g)) for g in goals})
    )
    per_day: dict[int, dict[date, int]] = {g.pk: {} for g in goals}
    for row in daily:
        values: dict[str, Any] = dict(row)
        for g in goals:
            per_day[g.pk][values["day"]] = int(values[f"g{g.pk}"] or 0)
    return [_burn_up(g, progress[g.pk].current, per_day[g.pk], buckets, now) for g in goals]


def _burn_up(goal: Any, current: int, per_day: dict[date, int], buckets: Buckets, now) -> BurnUp:
    day_now = timezone.localdate(now)
    per_unit = goal.per_unit or 1
    in_bucket = [0] * len(buckets.starts)
    before = 0
    for day, amount in per_day.items():
        i = buckets.index(day)
        if i is not None:
            in_bucket[i] += amount
        elif buckets.starts and day < buckets.starts[0]:
            before += amount
    now_index = buckets.index(day_now)
    done: list[int | None] = []
    running = before
    for i, amount in enumerate(in_bucket):
        running += amount
        done.append(running // per_unit if now_index is None or i <= now_index else None)
    recent = sum(a for d, a in per_day.items() if day_now - d < timedelta(days=PACE_DAYS))
    started = min(per_day) if per_day else day_now
    days_seen = max(1, min(PACE_DAYS, (day_now - started).days + 1))
    rate = recent / per_unit / days_seen
    remaining = max(goal.target - current, 0)
    needed = None
    behind = 0
    projection: list[int | None] = [None] * len(buckets.starts)
    if current >= goal.target:
        verdict = "met"
    elif goal.deadline is None:
        verdict = "no deadline"
    elif goal.deadline <= now:
        verdict = "deadline passed"
    else:
        days_left = max((goal.deadline - now).total_seconds() / 86400, 1 / 24)
        needed = remaining / days_left
        behind = 0 if rate >= needed else math.ceil(needed - rate)
        verdict = "on pace" if behind == 0 else f"behind by {behind:,} a day"
        step = 7 if buckets.unit == "week" else 1
        deadline_day = timezone.localdate(goal.deadline)
        for i, start in enumerate(buckets.starts):
            if now_index is not None and i >= now_index and start <= deadline_day:
                ahead = max((start + timedelta(days=step - 1) - day_now).days, 0)
                projection[i] = int(current + rate * ahead)
    return BurnUp(
        goal=goal,
        title=goal.display_title,
        unit=goal.noun,
        buckets=buckets,
        done=done,
        projection=projection,
        target=goal.target,
        current=current,
        rate_per_day=rate,
        needed_per_day=needed,
        verdict=verdict,
        behind_by=behind,
    )


# --- what needs attention ------------------------------------------------------------------------


@dataclass(frozen=True)
class Attention:
    level: str  # "warn" or "info"
    text: str


def attention(campaign: Any, burn_ups: Iterable[BurnUp]) -> list[Attention]:
    """Goals behind pace or past their deadline, a campaign gone quiet, new people or
    recruits falling week on week. Three small queries."""
    items = []
    for b in burn_ups:
        if b.verdict.startswith("behind"):
            items.append(
                Attention(
                    "warn",
                    f"“{b.title}” is behind by {b.behind_by:,} a day: "
                    f"{b.needed_per_day:,.0f} {b.unit} a day needed, "
                    f"{b.rate_per_day:,.1f} a day over the last {PACE_DAYS} days.",
                )
            )
        elif b.verdict == "deadline passed":
            items.append(
                Attention(
                    "warn",
                    f"“{b.title}” passed its deadline at {b.current:,} of {b.target:,}.",
                )
            )
    now = timezone.now()
    week = now - timedelta(days=7)
    fortnight = now - timedelta(days=14)
    acts = Activity.objects.filter(campaign_id=campaign.pk, created_at__gte=fortnight).order_by()
    counts = acts.aggregate(
        this_week=Count("id", filter=_after(week)),
        people_this_week=Count("person_id", distinct=True, filter=_after(week)),
    )
    is_live = getattr(campaign, "is_live", False)
    if is_live and not counts["this_week"]:
        items.append(Attention("warn", "No acts in the last 7 days."))
    edges = Recruitment.objects.filter(campaign_id=campaign.pk, created_at__gte=fortnight)
    recruits = edges.aggregate(
        this_week=Count("id", filter=_after(week)),
        last_week=Count("id", filter=_before(week)),
    )
    new = Counter(
        "this" if moment >= week else "last"
        for moment in Activity.objects.filter(campaign_id=campaign.pk)
        .order_by()
        .values_list("person_id")
        .annotate(first=Min("created_at"))
        .filter(first__gte=fortnight)
        .values_list("first", flat=True)
    )
    if new["last"] >= 10 and new["this"] * 2 <= new["last"]:
        items.append(
            Attention(
                "warn",
                f"New people fell from {new['last']:,} the week before to {new['this']:,} "
                "in the last 7 days.",
            )
        )
    if recruits["last_week"] >= 5 and recruits["this_week"] * 2 <= recruits["last_week"]:
        items.append(
            Attention(
                "warn",
                f"Recruits fell from {recruits['last_week']:,} the week before to "
                f"{recruits['this_week']:,} in the last 7 days: ask your best sharers again.",
            )
        )
    elif counts["people_this_week"] and not recruits["this_week"]:
        items.append(
            Attention(
                "info",
                f"{counts['people_this_week']:,} people acted in the last 7 days and none "
                "brought anyone in: remind them to share.",
            )
        )
    return items


def _after(moment: datetime) -> Q:
    return Q(created_at__gte=moment)


def _before(moment: datetime) -> Q:
    return Q(created_at__lt=moment)
