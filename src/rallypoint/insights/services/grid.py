"""How a campaign spreads through its recruitment grid: one summary, with the definitions that
pages, the `rallypoint insights spread` command and the API all use (docs/insights.md,
"Definitions").

In a window [since, until) of a campaign:

- participants: distinct people with at least one act in the campaign in the window (any act,
  the "recruit" credit a recruiter earns included);
- recruits: recruitment edges made in the window (self-referral never makes one);
- the forest: the campaign's recruitment edges made before `until`. Each recruit has one
  recruiter per campaign, so it is a forest; its roots are people nobody recruited.
  A person's generation is their depth in it (a root is 0, their recruits 1, …);
- roots: participants with no recruiter in the campaign (generation 0);
- generations[g]: participants of generation g (so sum(generations) == participants);
- K-factor = recruits ÷ participants; per channel: recruits made through the channel ÷
  participants; per generation g: generations[g + 1] ÷ generations[g];
- a cascade: a root of the forest who brought at least one person in, with everyone
  descended from them. A cascade counts in the window when any of its members acted in the
  window; its size, depth and structural virality are those of the whole tree at `until`;
- structural virality (Goel et al. 2015): the mean distance between all pairs of a cascade's
  nodes, 2·W / (n·(n − 1)) with W the tree's Wiener index, which for a tree is the sum over
  its edges of s·(n − s), s the size of the subtree below the edge (linear time);
- conversions per channel: acts in the window (other than "recruit" credits) by people whose
  recruitment into the campaign came through that channel; the conversion rate divides them by
  the share-link visits through that channel to the campaign's pages (sharing.ShareVisit: a
  browser's first arrival through a link; reloads are not counted again);
- time to first recruit: for each person whose first recruit in the campaign came in the
  window, the time from their arrival (their recruitment, or for a root their first act other
  than a "recruit" credit) to that first recruit.

95% intervals of every K are Poisson score intervals (the Wilson interval's counterpart for a
count): with c recruits over e participants and z = 1.96, (c + z²/2 ± z·√(c + z²/4)) ÷ e.

The work is set-based, a fixed number of queries whatever the campaign's size: the edges made
before the window's end and the acts, each read as numpy arrays (services.columns: on
PostgreSQL one packed binary string per column and group), the campaign's pages and their
share-link visits. The forest is walked with numpy one generation at a time, down and back up
(services.forest), never a Python loop over people. Results are cached per campaign and window
for SPREAD_CACHE_SECONDS (core.cache.CachedValue "insights.spread"); bench/spread.py measures a
million people.
"""

from __future__ import annotations

import importlib.util
import math
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from statistics import median
from typing import Any

import numpy as np
from django.db.models import F, Q
from django.utils import timezone

from rallypoint.core.cache import CachedValue
from rallypoint.ledger.models import Activity, Channel, Recruitment

from .columns import Moment, Whole, read_columns, read_grouped
from .forest import CascadeInfo, Forest, People

Z95 = 1.959963984540054
SPREAD_CACHE_SECONDS = 120  # a million-person campaign takes over a second to compute
LARGEST_CASCADES = 10
UNKNOWN_CHANNEL = "unknown"  # the key of recruits whose link named no channel

# The spread summary of a campaign (scope: campaign id) for a window (key: its dates).
SPREAD: CachedValue[SpreadSummary] = CachedValue("insights.spread", fresh_for=SPREAD_CACHE_SECONDS)

FIRST_RECRUIT_BUCKETS: list[tuple[str, timedelta | None]] = [
    ("under an hour", timedelta(hours=1)),
    ("1 to 24 hours", timedelta(days=1)),
    ("1 to 7 days", timedelta(days=7)),
    ("7 to 30 days", timedelta(days=30)),
    ("30 days or more", None),
]
FIRST_RECRUIT_SHORT = ["< 1 h", "1–24 h", "1–7 d", "7–30 d", "≥ 30 d"]  # for a chart's axis


# --- the window --------------------------------------------------------------------------------


class WindowError(ValueError):
    """A window that cannot be read; `field` names the bad input ("since" or "until")."""

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Window:
    """Whole days in the current time zone: from the start of `since` to the end of `until`
    (both included; None: no bound)."""

    since: date | None = None
    until: date | None = None

    @property
    def start(self) -> datetime | None:
        return _day_start(self.since) if self.since else None

    @property
    def end(self) -> datetime | None:
        return _day_start(self.until + timedelta(days=1)) if self.until else None

    @property
    def key(self) -> str:
        return f"{self.since or ''}..{self.until or ''}"


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _date(raw: Any, name: str) -> date | None:
    if raw is None or raw == "":
        return None
    if isinstance(raw, datetime):
        return timezone.localtime(raw).date() if timezone.is_aware(raw) else raw.date()
    if isinstance(raw, date):
        return raw
    text = str(raw).strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        shown = text[:40].encode("unicode_escape").decode("ascii")
        raise WindowError(
            f"{name} must be a date written as YYYY-MM-DD, like 2026-03-01 (got “{shown}”).",
            field=name,
        ) from None


def window_parse(since: Any = None, until: Any = None) -> Window:
    """The window from user input (dates, datetimes or "YYYY-MM-DD" text; blank: no bound).
    Raises WindowError with a message a person can act on."""
    start = _date(since, "since")
    end = _date(until, "until")
    if start and end and end < start:
        raise WindowError(f"until ({end}) is before since ({start}).", field="until")
    return Window(since=start, until=end)


# --- the numbers -------------------------------------------------------------------------------


def rate_interval(count: int, exposure: int) -> tuple[float, float]:
    """95% Poisson score interval of count ÷ exposure ((0, 0) without exposure)."""
    if exposure <= 0:
        return (0.0, 0.0)
    half = Z95 * math.sqrt(count + Z95 * Z95 / 4)
    centre = count + Z95 * Z95 / 2
    return (max(centre - half, 0.0) / exposure, (centre + half) / exposure)


@dataclass(frozen=True)
class ChannelSpread:
    channel: str
    label: str
    recruits: int
    k_factor: float
    k_factor_interval: tuple[float, float]
    visits: int | None
    conversions: int
    conversion_rate: float | None  # conversions ÷ visits; None without visits


@dataclass(frozen=True)
class FirstRecruit:
    people: int
    median_hours: float | None
    buckets: list[tuple[str, int]]


@dataclass(frozen=True)
class SpreadSummary:
    campaign_id: int
    campaign_slug: str
    window: Window
    participants: int
    roots: int
    recruits: int
    k_factor: float
    k_factor_interval: tuple[float, float]
    by_channel: dict[str, ChannelSpread]
    generations: list[int]
    k_by_generation: list[float | None]
    k_by_generation_interval: list[tuple[float, float] | None]
    max_depth: int
    cascades: int
    cascade_sizes: dict[int, int]  # size → how many cascades
    cascade_depths: dict[int, int]  # depth → how many cascades
    structural_virality: float  # mean over the cascades (0 without any)
    virality_distribution: list[tuple[str, int]]
    largest: list[CascadeInfo] = field(default_factory=list)
    first_recruit: FirstRecruit = field(default_factory=lambda: FirstRecruit(0, None, []))
    visits_recorded: bool = False

    @property
    def max_cascade_depth(self) -> int:
        return max(self.cascade_depths, default=0)


def spread_summary(
    campaign: Any, since: Any = None, until: Any = None, *, use_cache: bool = True
) -> SpreadSummary:
    """The campaign's spread in the window (see the module docstring for every definition).
    `since`/`until`: dates, datetimes, "YYYY-MM-DD" or None (raises WindowError), or a Window
    as `since`."""
    window = since if isinstance(since, Window) else window_parse(since, until)
    return SPREAD.get(
        lambda: _summary(campaign, window),
        scope=campaign.pk,
        key=window.key,
        use_cache=use_cache,
    )


def _summary(campaign: Any, window: Window) -> SpreadSummary:
    campaign_id = campaign.pk
    grid = _grid_read(campaign_id, window)
    forest = grid.forest
    participants = np.flatnonzero(grid.present)
    generation = forest.generation[participants]
    reached = participants[generation >= 0]
    # Outside the forest is generation 0; someone on a cycle (the one write path never makes
    # one) has no generation.
    counted = (generation >= 0) | (forest.parent[participants] < 0)
    generations = np.bincount(np.maximum(generation[counted], 0)).tolist()
    k_by_generation: list[float | None] = []
    k_intervals: list[tuple[float, float] | None] = []
    for g, people_of_g in enumerate(generations):
        following = generations[g + 1] if g + 1 < len(generations) else 0
        k_by_generation.append(following / people_of_g if people_of_g else None)
        k_intervals.append(rate_interval(following, people_of_g) if people_of_g else None)

    recruited = reached[forest.generation[reached] > 0]
    converted = np.bincount(
        grid.channel[recruited], weights=grid.acts[recruited], minlength=len(grid.channels)
    )
    conversions = _per_channel(grid.channels, converted)
    recruits_by_channel = _per_channel(grid.channels, grid.made)
    recruits = sum(recruits_by_channel.values())
    total = int(participants.size)
    cascades = forest.cascades(np.unique(forest.root[reached]))
    return SpreadSummary(
        campaign_id=campaign_id,
        campaign_slug=campaign.slug,
        window=window,
        participants=total,
        roots=generations[0] if generations else 0,
        recruits=recruits,
        k_factor=recruits / total if total else 0.0,
        k_factor_interval=rate_interval(recruits, total),
        by_channel=_by_channel(campaign_id, window, total, recruits_by_channel, conversions),
        generations=generations,
        k_by_generation=k_by_generation,
        k_by_generation_interval=k_intervals,
        max_depth=len(generations) - 1 if generations else 0,
        cascades=len(cascades),
        cascade_sizes=_counts(cascades.sizes),
        cascade_depths=_counts(cascades.depths),
        structural_virality=(
            math.fsum(cascades.viralities.tolist()) / len(cascades) if len(cascades) else 0.0
        ),
        virality_distribution=_virality_bins(cascades.viralities),
        largest=cascades.largest(LARGEST_CASCADES),
        first_recruit=_first_recruit(window, grid),
        visits_recorded=True,
    )


@dataclass(frozen=True)
class _Grid:
    """A campaign's grid up to the window's end as arrays: per edge in `forest`'s order, and
    per person at their position (`forest.people`)."""

    forest: Forest
    channels: list[str]  # the edges' channels ("" as UNKNOWN_CHANNEL)
    made: np.ndarray  # per channel: the edges made in the window
    at: np.ndarray  # per edge: when it was made (seconds since 1970)
    channel: np.ndarray  # per person: the index in `channels` of their recruitment (-1: none)
    recruited_at: np.ndarray  # per person: when they were recruited (NaN: never)
    present: np.ndarray  # per person: did they act in the window
    acts: np.ndarray  # per person: their acts in the window other than "recruit" credits
    arrived: np.ndarray  # per person: their first act other than a credit (NaN: none)


def _grid_read(campaign_id: int, window: Window) -> _Grid:
    """Two queries: the edges made before the window's end, in groups by channel, and the
    acts, each read as arrays (services.columns)."""
    edges = Recruitment.objects.filter(campaign_id=campaign_id).exclude(
        recruiter_id=F("recruit_id")
    )
    acts = Activity.objects.filter(campaign_id=campaign_id)
    if window.end is not None:
        edges = edges.filter(created_at__lt=window.end)
        acts = acts.filter(created_at__lt=window.end)
    by_channel = read_grouped(
        edges,
        "channel",
        recruiter=Whole("recruiter_id"),
        recruit=Whole("recruit_id"),
        at=Moment("created_at"),
    )
    # The acts before the window's end: "recruit" credits only in the window, the others all
    # with their time (a root's arrival may come before the window's start).
    in_window = Q(created_at__gte=window.start) if window.start is not None else Q()
    acts_read = read_columns(
        acts,
        credited=Whole("person_id", when=Q(kind="recruit") & in_window),
        person=Whole("person_id", when=~Q(kind="recruit")),
        acted_at=Moment("created_at", when=~Q(kind="recruit")),
    )
    credited, person, acted_at = (acts_read[k] for k in ("credited", "person", "acted_at"))
    recruiter, recruit, at = (_joined(by_channel, name) for name in ("recruiter", "recruit", "at"))
    people = People.covering(recruiter, recruit, credited, person)
    recruits = people.positions(recruit)
    forest = Forest(people, people.positions(recruiter), recruits)
    start = window.start.timestamp() if window.start is not None else -math.inf
    channel = np.full(people.size, -1, dtype=np.int64)
    channel[recruits] = np.repeat(
        np.arange(len(by_channel)), [group["at"].size for group in by_channel.values()]
    )
    recruited_at = np.full(people.size, np.nan)
    recruited_at[recruits] = at
    present = np.zeros(people.size, dtype=bool)
    present[people.positions(credited)] = True
    acting = people.positions(person[acted_at >= start])
    present[acting] = True
    arrived = np.full(people.size, np.nan)
    np.fmin.at(arrived, people.positions(person), acted_at)
    return _Grid(
        forest=forest,
        channels=[name or UNKNOWN_CHANNEL for name in by_channel],
        made=np.array([np.count_nonzero(g["at"] >= start) for g in by_channel.values()]),
        at=at,
        channel=channel,
        recruited_at=recruited_at,
        present=present,
        acts=np.bincount(acting, minlength=people.size),
        arrived=arrived,
    )


_NONE = np.zeros(0, dtype=np.int64)


def _per_channel(channels: list[str], counts: np.ndarray) -> dict[str, int]:
    """{channel: count} of the channels with any (a channel named twice, "" and "unknown",
    adds up)."""
    totals: dict[str, int] = {}
    for channel, count in zip(channels, counts.tolist(), strict=True):
        if count:
            totals[channel] = totals.get(channel, 0) + int(count)
    return totals


def _joined(groups: dict[Any, dict[str, np.ndarray]], name: str) -> np.ndarray:
    """One column of every group, end to end (in the groups' order)."""
    return np.concatenate([group[name] for group in groups.values()] or [_NONE])


def _counts(values: np.ndarray) -> dict[int, int]:
    """{value: how many times it occurs}, in increasing order."""
    found, counts = np.unique(values, return_counts=True)
    return dict(zip(found.tolist(), counts.tolist(), strict=True))


def _virality_bins(values: np.ndarray) -> list[tuple[str, int]]:
    """Cascades by structural virality, in bins of 0.5 from the lowest one used (two people
    are 1.0 apart, so no cascade is below 1)."""
    if not values.size:
        return []
    bins = (values // 0.5).astype(np.int64)
    low = int(bins.min())
    counts = np.bincount(bins - low).tolist()
    return [(f"{b * 0.5:.1f}–{b * 0.5 + 0.5:.1f}", n) for b, n in enumerate(counts, start=low)]


def channel_label(channel: str) -> str:
    if channel == UNKNOWN_CHANNEL:
        return "No channel named"
    return dict(Channel.choices).get(channel, channel)


def _by_channel(
    campaign_id: int,
    window: Window,
    participants: int,
    recruits: dict[str, int],
    conversions: dict[str, int],
) -> dict[str, ChannelSpread]:
    visits = share_link_visits(campaign_id, window)
    rows = {}
    for channel in sorted({*recruits, *conversions, *visits}):
        made = recruits.get(channel, 0)
        seen = visits.get(channel, 0)
        converted = conversions.get(channel, 0)
        rows[channel] = ChannelSpread(
            channel=channel,
            label=channel_label(channel),
            recruits=made,
            k_factor=made / participants if participants else 0.0,
            k_factor_interval=rate_interval(made, participants),
            visits=seen,
            conversions=converted,
            conversion_rate=converted / seen if seen else None,
        )
    return dict(sorted(rows.items(), key=lambda item: (-item[1].recruits, item[0])))


def campaign_paths(campaign_id: int) -> set[str]:
    """The public pages of a campaign a share link can open: its own page, its actions' and
    its events' pages."""
    from django.urls import reverse

    from rallypoint.actions.models import Action
    from rallypoint.events.models import Event
    from rallypoint.mission.models import Campaign

    paths = {
        reverse("mission:detail", args=[slug])
        for slug in Campaign.objects.filter(pk=campaign_id).values_list("slug", flat=True)
    }
    paths |= {
        reverse("actions:detail", args=[slug])
        for slug in Action.objects.filter(campaign_id=campaign_id).values_list("slug", flat=True)
    }
    paths |= {
        reverse("events:detail", args=[uuid])
        for uuid in Event.objects.filter(campaign_id=campaign_id).values_list("uuid", flat=True)
    }
    return paths


def share_visits(campaign_id: int, first: date | None, last: date | None) -> Any:
    """The campaign's share-link visits (sharing.ShareVisit: a browser's first arrival through
    a link, counted per day, code, channel and page) on the days first … last, both included
    (None: no bound)."""
    from rallypoint.sharing.models import ShareVisit

    visits = ShareVisit.objects.filter(path__in=campaign_paths(campaign_id))
    if first is not None:
        visits = visits.filter(day__gte=first)
    if last is not None:
        visits = visits.filter(day__lte=last)
    return visits


def share_link_visits(campaign_id: int, window: Window) -> dict[str, int]:
    """{channel: visits of share links to the campaign's pages} in the window."""
    from django.db.models import Sum

    rows = (
        share_visits(campaign_id, window.since, window.until)
        .order_by()
        .values("channel")
        .annotate(total=Sum("count"))
        .values_list("channel", "total")
    )
    return {channel: int(total) for channel, total in rows}


def _first_recruit(window: Window, grid: _Grid) -> FirstRecruit:
    """From each recruiter's arrival (their recruitment, or for a root their first act other
    than a "recruit" credit before the window's end; without one, the recruit itself) to their
    first recruit, for the recruiters whose first recruit came in the window."""
    recruiters, firsts = grid.forest.first_child_times(grid.at)
    if window.start is not None:
        kept = firsts >= window.start.timestamp()
        recruiters, firsts = recruiters[kept], firsts[kept]
    arrived = grid.recruited_at[recruiters]
    roots = np.isnan(arrived)
    arrived[roots] = grid.arrived[recruiters[roots]]
    durations = np.maximum(firsts - np.where(np.isnan(arrived), firsts, arrived), 0.0)
    limits = [limit.total_seconds() for _, limit in FIRST_RECRUIT_BUCKETS if limit is not None]
    found = np.bincount(
        np.searchsorted(limits, durations, side="right"), minlength=len(FIRST_RECRUIT_BUCKETS)
    )
    ordered = np.sort(durations).tolist()  # (median sorts again, in linear time once sorted)
    return FirstRecruit(
        people=len(ordered),
        median_hours=median(ordered) / 3600 if ordered else None,
        buckets=[
            (label, n) for (label, _), n in zip(FIRST_RECRUIT_BUCKETS, found.tolist(), strict=True)
        ],
    )


# --- as plain data (the CLI's JSON, the API) ---------------------------------------------------


def backtest(campaign: Any, window: Window) -> dict[str, Any] | None:
    """The spread model's backtest ({predicted, observed, error}), None with too little history
    or while the simulation is not installed.

    --- backtest: provided by rallypoint.insights.services.simulate ---"""
    if importlib.util.find_spec("rallypoint.insights.services.simulate") is None:
        return None
    from rallypoint.insights.services import simulate  # type: ignore[attr-defined]

    return simulate.backtest(campaign, window.since, window.until)


def summary_json(summary: SpreadSummary) -> dict[str, Any]:
    """The summary as JSON-ready data with the issue's names (docs/insights.md)."""
    return {
        "campaign": summary.campaign_slug,
        "since": summary.window.since.isoformat() if summary.window.since else None,
        "until": summary.window.until.isoformat() if summary.window.until else None,
        "participants": summary.participants,
        "roots": summary.roots,
        "recruits": summary.recruits,
        "k_factor": summary.k_factor,
        "k_factor_interval": list(summary.k_factor_interval),
        "by_channel": {
            key: {
                "label": row.label,
                "recruits": row.recruits,
                "k_factor": row.k_factor,
                "k_factor_interval": list(row.k_factor_interval),
                "visits": row.visits,
                "conversions": row.conversions,
                "conversion_rate": row.conversion_rate,
            }
            for key, row in summary.by_channel.items()
        },
        "generations": list(summary.generations),
        "k_by_generation": list(summary.k_by_generation),
        "k_by_generation_interval": [
            list(i) if i is not None else None for i in summary.k_by_generation_interval
        ],
        "max_depth": summary.max_depth,
        "cascades": summary.cascades,
        "cascade_sizes": {str(k): v for k, v in summary.cascade_sizes.items()},
        "cascade_depths": {str(k): v for k, v in summary.cascade_depths.items()},
        "structural_virality": summary.structural_virality,
        "largest_cascades": [asdict(c) for c in summary.largest],
        "time_to_first_recruit": {
            "people": summary.first_recruit.people,
            "median_hours": summary.first_recruit.median_hours,
            "buckets": dict(summary.first_recruit.buckets),
        },
    }


def spread_report(campaign: Any, since: Any = None, until: Any = None) -> dict[str, Any]:
    """What `rallypoint insights spread --json` prints and the API answers: the summary and
    the backtest (null when there is too little history)."""
    summary = spread_summary(campaign, since, until)
    return {**summary_json(summary), "backtest": backtest(campaign, summary.window)}
