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

The work is set-based: the edges in one query (times as seconds since 1970, far cheaper to
read than datetimes), the participants with their acts and first act grouped per person in
another, and, for a window with a start, the roots' arrival in a third (in groups of
ROOTS_PER_QUERY); the forest is walked in memory breadth first and back up, never a query per
person. Results are cached per campaign and window for SPREAD_CACHE_SECONDS
(core.cache.CachedValue "insights.spread"); bench/spread.py measures a million people.
"""

from __future__ import annotations

import heapq
import importlib.util
import math
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from statistics import median
from typing import Any

from django.db.models import Count, F, Field, Func, Min, Q
from django.utils import timezone

from rallypoint.core.cache import CachedValue
from rallypoint.ledger.models import Activity, Channel, Recruitment

Z95 = 1.959963984540054
SPREAD_CACHE_SECONDS = 120  # heavy: a million-person campaign takes seconds to compute
LARGEST_CASCADES = 10
UNKNOWN_CHANNEL = "unknown"  # the key of recruits whose link named no channel
ROOTS_PER_QUERY = 10_000  # roots whose arrival one query reads (time to first recruit)

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


class EpochSeconds(Func):
    """A datetime column as seconds since 1970 (a float). Reading plain numbers is many times
    cheaper than building a timezone-aware datetime per row in Python."""

    # A plain Field: the database already answers floats, and FloatField would add a float()
    # per row in Python (a second of a million-edge campaign's summary).
    output_field = Field()
    template = "UNIX_TIMESTAMP(%(expressions)s)"

    def as_postgresql(self, compiler, connection, **extra):
        return self.as_sql(
            compiler, connection, template="EXTRACT(EPOCH FROM %(expressions)s)::float8", **extra
        )

    def as_sqlite(self, compiler, connection, **extra):
        # SQLite keeps datetimes as UTC text; julianday reads it.
        return self.as_sql(
            compiler,
            connection,
            template="((julianday(%(expressions)s) - 2440587.5) * 86400.0)",
            **extra,
        )


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


def structural_virality(size: int, wiener: int) -> float:
    """Mean distance between all pairs of a tree's `size` nodes given its Wiener index."""
    if size < 2:
        return 0.0
    return 2 * wiener / (size * (size - 1))


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
class CascadeInfo:
    root_id: int
    size: int
    depth: int
    structural_virality: float


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


def _in_window(window: Window, prefix: str = "") -> dict[str, datetime]:
    bounds = {}
    if window.start is not None:
        bounds[f"{prefix}created_at__gte"] = window.start
    if window.end is not None:
        bounds[f"{prefix}created_at__lt"] = window.end
    return bounds


def _summary(campaign: Any, window: Window) -> SpreadSummary:
    campaign_id = campaign.pk
    start, end = window.start, window.end
    edges_q = Recruitment.objects.filter(campaign_id=campaign_id).exclude(
        recruiter_id=F("recruit_id")
    )
    if end is not None:
        edges_q = edges_q.filter(created_at__lt=end)
    forest = Forest.build(
        edges_q.order_by().values_list(
            "recruiter_id", "recruit_id", "channel", EpochSeconds("created_at")
        )
    )
    # Participants, each with their acts other than "recruit" credits (for conversions).
    participants = (
        Activity.objects.filter(campaign_id=campaign_id, **_in_window(window))
        .order_by()
        .values_list("person_id")
        .annotate(
            acts=Count("id", filter=~Q(kind="recruit")),
            first=Min(EpochSeconds("created_at"), filter=~Q(kind="recruit")),
        )
        .values_list("person_id", "acts", "first")
    )
    counts: Counter[int] = Counter()
    active_roots: set[int] = set()
    conversions: Counter[str] = Counter()
    generation_of = forest.generation.get
    root_of = forest.root_of
    channel_of = forest.channel.get
    arrivals: dict[int, float] = {}  # roots who recruited: their first act in the window
    total = 0
    for person, acts, first in participants:
        total += 1
        generation = generation_of(person)
        if generation is None:
            if person in forest.parent:
                continue  # on a cycle (the one write path never makes one): no generation
            generation = 0
        else:
            active_roots.add(root_of[person])
            if generation:
                channel = channel_of(person)
                if channel is not None and acts:
                    conversions[channel] += acts
            elif first is not None:
                arrivals[person] = first
        counts[generation] += 1
    generations = [counts.get(g, 0) for g in range(max(counts) + 1)] if counts else []
    k_by_generation: list[float | None] = []
    k_intervals: list[tuple[float, float] | None] = []
    for g, people in enumerate(generations):
        following = generations[g + 1] if g + 1 < len(generations) else 0
        k_by_generation.append(following / people if people else None)
        k_intervals.append(rate_interval(following, people) if people else None)

    if start is None:
        recruits_by_channel = Counter(forest.channel.values())
    else:
        since = start.timestamp()
        times = forest.edge_time
        recruits_by_channel = Counter(
            channel for person, channel in forest.channel.items() if times[person] >= since
        )
    recruits = sum(recruits_by_channel.values())
    cascades = [forest.cascade(root) for root in active_roots]
    mean_virality = (
        sum(c.structural_virality for c in cascades) / len(cascades) if cascades else 0.0
    )
    return SpreadSummary(
        campaign_id=campaign_id,
        campaign_slug=campaign.slug,
        window=window,
        participants=total,
        roots=counts.get(0, 0),
        recruits=recruits,
        k_factor=recruits / total if total else 0.0,
        k_factor_interval=rate_interval(recruits, total),
        by_channel=_by_channel(campaign_id, window, total, recruits_by_channel, conversions),
        generations=generations,
        k_by_generation=k_by_generation,
        k_by_generation_interval=k_intervals,
        max_depth=len(generations) - 1 if generations else 0,
        cascades=len(cascades),
        cascade_sizes=dict(sorted(Counter(c.size for c in cascades).items())),
        cascade_depths=dict(sorted(Counter(c.depth for c in cascades).items())),
        structural_virality=mean_virality,
        virality_distribution=_virality_bins(c.structural_virality for c in cascades),
        largest=heapq.nlargest(
            LARGEST_CASCADES, cascades, key=lambda c: (c.size, c.depth, -c.root_id)
        ),
        # Without a start, every root's first act is among the participants' first acts.
        first_recruit=_first_recruit(
            campaign_id, window, forest, arrivals if window.start is None else None
        ),
        visits_recorded=True,
    )


@dataclass
class Forest:
    """A campaign's recruitment forest, walked once breadth first from its roots."""

    parent: dict[int, int]
    children: dict[int, list[int]]
    edge_time: dict[int, float]  # recruit → when they were recruited (seconds since 1970)
    channel: dict[int, str]  # recruit → the channel they came through
    order: list[int]  # every reachable node, roots first, each after its recruiter
    generation: dict[int, int]
    root_of: dict[int, int]
    size: dict[int, int]  # nodes in the subtree under each node, itself included
    wiener: dict[int, int]  # each root's tree: the Wiener index
    depth: dict[int, int]  # each root's tree: its deepest generation

    @classmethod
    def build(cls, edges: Iterable[tuple[int, int, str, float]]) -> Forest:
        """From (recruiter, recruit, channel, time) edges, time in seconds since 1970. Three
        passes over plain dicts: read the edges, breadth first from the roots (generation,
        root), then back up (subtree sizes and each tree's Wiener index)."""
        parent: dict[int, int] = {}
        children: dict[int, list[int]] = {}
        edge_time: dict[int, float] = {}
        channel_of: dict[int, str] = {}
        children_get = children.get
        for recruiter, recruit, channel, at in edges:
            if recruit in parent:
                continue  # one recruiter per recruit and campaign (the database holds to it)
            parent[recruit] = recruiter
            edge_time[recruit] = at
            channel_of[recruit] = channel
            kids = children_get(recruiter)
            if kids is None:
                children[recruiter] = [recruit]
            else:
                kids.append(recruit)
        if "" in channel_of.values():
            channel_of = {k: c or UNKNOWN_CHANNEL for k, c in channel_of.items()}
        order = [node for node in children if node not in parent]
        generation = dict.fromkeys(order, 0)
        root_of = {node: node for node in order}
        depth = dict.fromkeys(order, 0)
        # Σ over a tree's non-root nodes of their subtree size = Σ of its nodes' generations.
        sizes_sum = dict.fromkeys(order, 0)
        for node in order:  # the list grows as it is read: breadth first
            kids = children_get(node)
            if kids:
                g = generation[node] + 1
                root = root_of[node]
                generation.update(dict.fromkeys(kids, g))
                root_of.update(dict.fromkeys(kids, root))
                sizes_sum[root] += g * len(kids)
                if g > depth[root]:
                    depth[root] = g
                order.extend(kids)
        size = dict.fromkeys(order, 1)
        squares = dict.fromkeys(depth, 0)
        parent_get = parent.get
        for node in reversed(order):
            up = parent_get(node)
            if up is not None:
                below = size[node]
                size[up] += below
                squares[root_of[node]] += below * below
        # W = Σ s·(n − s) over the edges = n·Σ s − Σ s².
        wiener = {root: size[root] * sizes_sum[root] - squares[root] for root in depth}
        return cls(
            parent, children, edge_time, channel_of, order, generation, root_of, size, wiener, depth
        )

    def cascade(self, root: int) -> CascadeInfo:
        size = self.size[root]
        return CascadeInfo(
            root_id=root,
            size=size,
            depth=self.depth[root],
            structural_virality=structural_virality(size, self.wiener[root]),
        )


def _virality_bins(values: Iterable[float]) -> list[tuple[str, int]]:
    """Cascades by structural virality, in bins of 0.5 from the lowest one used (two people
    are 1.0 apart, so no cascade is below 1)."""
    counts: Counter[int] = Counter()
    for value in values:
        counts[int(value // 0.5)] += 1
    if not counts:
        return []
    return [
        (f"{b * 0.5:.1f}–{b * 0.5 + 0.5:.1f}", counts.get(b, 0))
        for b in range(min(counts), max(counts) + 1)
    ]


def channel_label(channel: str) -> str:
    if channel == UNKNOWN_CHANNEL:
        return "No channel named"
    return dict(Channel.choices).get(channel, channel)


def _by_channel(
    campaign_id: int,
    window: Window,
    participants: int,
    recruits: Counter[str],
    conversions: Counter[str],
) -> dict[str, ChannelSpread]:
    visits = share_link_visits(campaign_id, window)
    rows = {}
    for channel in sorted({*recruits, *conversions, *(visits or {})}):
        made = recruits.get(channel, 0)
        seen = visits.get(channel, 0) if visits is not None else None
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


def share_link_visits(campaign_id: int, window: Window) -> dict[str, int] | None:
    """{channel: visits of share links to the campaign's pages} in the window (sharing's
    ShareVisit: a browser's first arrival through a link, counted per day)."""
    from django.db.models import Sum

    from rallypoint.sharing.models import ShareVisit

    visits = ShareVisit.objects.filter(path__in=campaign_paths(campaign_id))
    if window.since:
        visits = visits.filter(day__gte=window.since)
    if window.until:
        visits = visits.filter(day__lte=window.until)
    rows = visits.values("channel").annotate(total=Sum("count")).values_list("channel", "total")
    return {channel: int(total) for channel, total in rows}


def _first_recruit(
    campaign_id: int, window: Window, forest: Forest, known: dict[int, float] | None
) -> FirstRecruit:
    """`known`: the roots' arrivals when already read (else they are queried)."""
    start = window.start.timestamp() if window.start is not None else -math.inf
    times = forest.edge_time
    firsts: dict[int, float] = {}
    at = times.__getitem__
    for recruiter, kids in forest.children.items():
        first = min(map(at, kids))
        if first >= start:  # (edges after the window's end are not in the forest)
            firsts[recruiter] = first
    parent = forest.parent
    arrivals: dict[int, float] = known if known is not None else {}
    roots = [] if known is not None else [p for p in firsts if p not in parent]
    for lo in range(0, len(roots), ROOTS_PER_QUERY):
        # Roots arrived with their first act other than a "recruit" credit.
        arrivals.update(
            Activity.objects.filter(
                campaign_id=campaign_id, person_id__in=roots[lo : lo + ROOTS_PER_QUERY]
            )
            .exclude(kind="recruit")
            .order_by()
            .values_list("person_id")
            .annotate(first=Min(EpochSeconds("created_at")))
            .values_list("person_id", "first")
        )
    durations = []
    for person, first in firsts.items():
        arrived = times.get(person)
        if arrived is None:
            arrived = arrivals.get(person, first)
        durations.append(max(first - arrived, 0.0))
    limits = [limit.total_seconds() for _, limit in FIRST_RECRUIT_BUCKETS if limit is not None]
    found = Counter(bisect_right(limits, duration) for duration in durations)
    buckets = {label: found.get(i, 0) for i, (label, _) in enumerate(FIRST_RECRUIT_BUCKETS)}
    return FirstRecruit(
        people=len(durations),
        median_hours=median(durations) / 3600 if durations else None,
        buckets=[(label, buckets.get(label, 0)) for label, _ in FIRST_RECRUIT_BUCKETS],
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
