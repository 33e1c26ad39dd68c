"""Reads behind the insights pages (overview, channels, cascades) and the person page's tree.

Each page is one dataclass of numbers and charts (core.charts), built from the services and
cached per campaign and window for PAGE_CACHE_SECONDS (the numbers are the same for every
organizer; the spread summary underneath has its own cache, grid.SPREAD).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from rallypoint.core.cache import CachedValue
from rallypoint.core.charts import Chart, Reference, Series, bar_chart, line_chart
from rallypoint.mission.models import Campaign, CampaignStatus
from rallypoint.people.models import Person

from .services.channels import CHANNELS_SHOWN, ShareTextUse, channel_timeline, share_text_uses
from .services.grid import (
    FIRST_RECRUIT_SHORT,
    CascadeInfo,
    SpreadSummary,
    Window,
    spread_summary,
)
from .services.growth import (
    Attention,
    Buckets,
    BurnUp,
    Growth,
    attention,
    goals_burn_up,
    growth_series,
    kinds_shown,
    window_days,
)
from .services.trees import PersonGrid, Tree, cascade_trees, person_grid

PAGE_CACHE_SECONDS = 120
TREES_DRAWN = 3  # the largest cascades drawn as trees on the cascades page
SLUG_RE = re.compile(r"^[-a-zA-Z0-9_]{1,100}$")

# The insights pages, in the order of the tabs every insights page shows.
INSIGHTS_TABS: list[tuple[str, str]] = [
    ("insights:overview", "Overview"),
    ("insights:channels", "Channels"),
    ("insights:cascades", "Cascades"),
]

# A rendered page's data (OverviewPage, ChannelsPage, CascadesPage) by campaign id, then page
# and window. Acts are not forgotten one by one: they show within PAGE_CACHE_SECONDS.
PAGES: CachedValue[Any] = CachedValue("insights.pages", fresh_for=PAGE_CACHE_SECONDS)


def upper_first(text: str) -> str:
    """ "RSVPs" stays "RSVPs" (str.capitalize would write "Rsvps")."""
    return text[:1].upper() + text[1:]


# --- campaigns ---------------------------------------------------------------------------------


def campaigns_for_picker() -> list[Campaign]:
    """Every campaign, live ones first, then drafts, then closed; newest first within each."""
    order: dict[str, int] = {
        CampaignStatus.LIVE: 0,
        CampaignStatus.DRAFT: 1,
        CampaignStatus.CLOSED: 2,
    }
    campaigns = list(Campaign.objects.only("id", "name", "slug", "status", "created_at"))
    return sorted(campaigns, key=lambda c: (order.get(c.status, 3), -c.created_at.timestamp()))


def campaign_by_slug(slug: str) -> Campaign | None:
    """The campaign with this slug; None for an unknown or malformed one (never a query with
    text a slug cannot hold)."""
    if not SLUG_RE.match(slug or ""):
        return None
    return Campaign.objects.filter(slug=slug).first()


def campaign_by_key(key: str) -> Campaign | None:
    """A campaign by slug, numeric id or uuid (the API takes any of them)."""
    key = (key or "").strip()
    if key.isdigit() and len(key) < 19:
        found = Campaign.objects.filter(pk=int(key)).first()
        if found is not None:
            return found
    if re.fullmatch(
        r"[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}", key
    ):
        found = Campaign.objects.filter(uuid=key).first()
        if found is not None:
            return found
    return campaign_by_slug(key)


# --- the pages ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class GoalChart:
    burn_up: BurnUp
    chart: Chart


@dataclass(frozen=True)
class OverviewPage:
    summary: SpreadSummary
    growth: Growth
    goals: list[GoalChart]
    attention: list[Attention]
    charts: dict[str, Chart] = field(default_factory=dict)


def overview_page(campaign: Campaign, window: Window) -> OverviewPage:
    return PAGES.get(
        lambda: _overview(campaign, window), scope=campaign.pk, key=f"overview:{window.key}"
    )


def _over_time(
    chart_id: str,
    buckets: Buckets,
    series: list[Series],
    *,
    title: str,
    y_label: str,
    references: Sequence[Reference] = (),
) -> Chart:
    """A line chart over the window's days (or weeks, `buckets.unit`), short dates on the axis."""
    return line_chart(
        chart_id,
        categories=buckets.labels,
        tick_labels=buckets.short_labels,
        series=series,
        references=references,
        title=title,
        x_label=buckets.unit.capitalize(),
        y_label=y_label,
    )


def _overview(campaign: Campaign, window: Window) -> OverviewPage:
    first, last = window_days(campaign, window)
    growth = growth_series(campaign, first, last)
    per = growth.buckets.unit
    people = _over_time(
        "people",
        growth.buckets,
        [
            Series("New people (first act in the campaign)", growth.new_people),
            Series("People who acted", growth.active_people),
        ],
        title=f"People per {per}",
        y_label=f"People per {per}",
    )
    acts = _over_time(
        "acts",
        growth.buckets,
        [Series(label, values) for label, values in kinds_shown(growth.acts_by_kind)],
        title=f"Acts per {per}, by kind",
        y_label=f"Acts per {per}",
    )
    burn_ups = goals_burn_up(campaign)
    goals = []
    for i, burn in enumerate(burn_ups):
        series = [Series(f"{upper_first(burn.unit)} so far", burn.done)]
        if any(v is not None for v in burn.projection):
            series.append(
                Series("Projection at the last 7 days' pace", burn.projection, dashed=True)
            )
        chart = _over_time(
            f"goal_{i + 1}",
            burn.buckets,
            series,
            title=f"{burn.title}: burn-up",
            y_label=upper_first(burn.unit),
            references=[Reference(f"Target: {burn.target:,}", burn.target)],
        )
        goals.append(GoalChart(burn_up=burn, chart=chart))
    charts = {"people": people, "acts": acts, **{g.chart.id: g.chart for g in goals}}
    return OverviewPage(
        summary=spread_summary(campaign, window),
        growth=growth,
        goals=goals,
        attention=attention(campaign, burn_ups),
        charts=charts,
    )


@dataclass(frozen=True)
class ChannelsPage:
    summary: SpreadSummary
    share_texts: list[ShareTextUse]
    charts: dict[str, Chart] = field(default_factory=dict)


def channels_page(campaign: Campaign, window: Window) -> ChannelsPage:
    return PAGES.get(
        lambda: _channels(campaign, window), scope=campaign.pk, key=f"channels:{window.key}"
    )


def _shown(values: dict[str, list[Any]], labels: dict[str, str]) -> list[Series]:
    items = list(values.items())
    series = [Series(labels[c], v) for c, v in items[:CHANNELS_SHOWN]]
    rest = [v for _, v in items[CHANNELS_SHOWN:]]
    if rest:
        series.append(Series("Other channels", [sum(col) for col in zip(*rest, strict=True)]))
    return series


def _channels(campaign: Campaign, window: Window) -> ChannelsPage:
    summary = spread_summary(campaign, window)
    first, last = window_days(campaign, window)
    timeline = channel_timeline(campaign, first, last)
    b = timeline.buckets
    per = b.unit
    shown = list(timeline.recruits)[:CHANNELS_SHOWN]
    charts = {
        "recruits": _over_time(
            "recruits",
            b,
            _shown(timeline.recruits, timeline.labels),
            title=f"Recruits per {per}, by channel",
            y_label=f"Recruits per {per}",
        ),
        "conversions": _over_time(
            "conversions",
            b,
            _shown(timeline.conversions, timeline.labels),
            title=f"Conversions per {per}, by channel",
            y_label=f"Conversions per {per}",
        ),
        "k_factor": _over_time(
            "k_factor",
            b,
            [Series(timeline.labels[c], timeline.k_factor(c)) for c in shown],
            title=f"K-factor per {per}, by channel",
            y_label=f"Recruits per participant, per {per}",
            references=[Reference("K = 1: each participant brings one more", 1.0)],
        ),
        "by_channel": bar_chart(
            "by_channel",
            title="K-factor by channel, with 95% intervals",
            categories=[row.label for row in summary.by_channel.values()],
            series=[
                Series(
                    "K-factor",
                    [row.k_factor for row in summary.by_channel.values()],
                    intervals=[row.k_factor_interval for row in summary.by_channel.values()],
                )
            ],
            x_label="Channel",
            y_label="Recruits per participant",
        ),
    }
    return ChannelsPage(
        summary=summary, share_texts=share_text_uses(campaign, window), charts=charts
    )


@dataclass(frozen=True)
class CascadesPage:
    summary: SpreadSummary
    trees: list[Tree]
    largest: list[tuple[CascadeInfo, str]]  # the largest cascades with their root's name
    charts: dict[str, Chart] = field(default_factory=dict)


def cascades_page(campaign: Campaign, window: Window) -> CascadesPage:
    return PAGES.get(
        lambda: _cascades(campaign, window), scope=campaign.pk, key=f"cascades:{window.key}"
    )


def _cascades(campaign: Campaign, window: Window) -> CascadesPage:
    s = spread_summary(campaign, window)
    sizes = doubling_bins(s.cascade_sizes)
    generations = [str(g) for g in range(len(s.generations))]
    charts = {
        "generations": bar_chart(
            "generations",
            title="People per generation",
            categories=generations,
            series=[Series("People", s.generations)],
            x_label="Generation (0: not recruited by anyone)",
            y_label="People",
        ),
        "k_by_generation": bar_chart(
            "k_by_generation",
            title="K-factor per generation, with 95% intervals",
            categories=[f"{g} → {g + 1}" for g in range(len(s.k_by_generation))],
            series=[
                Series(
                    "K-factor",
                    s.k_by_generation,
                    intervals=s.k_by_generation_interval,
                )
            ],
            references=[Reference("K = 1", 1.0)],
            x_label="Generation → next",
            y_label="People of the next generation per person",
        ),
        "sizes": bar_chart(
            "sizes",
            title="Cascades by size",
            categories=[label for label, _ in sizes],
            series=[Series("Cascades", [n for _, n in sizes])],
            x_label="Size (people, in doubling bins)",
            y_label="Cascades",
        ),
        "depths": bar_chart(
            "depths",
            title="Cascades by depth",
            categories=[str(depth) for depth in range(1, s.max_cascade_depth + 1)],
            series=[
                Series(
                    "Cascades",
                    [s.cascade_depths.get(d, 0) for d in range(1, s.max_cascade_depth + 1)],
                )
            ],
            x_label="Depth (generations below the root)",
            y_label="Cascades",
        ),
        "virality": bar_chart(
            "virality",
            title="Cascades by structural virality",
            categories=[label for label, _ in s.virality_distribution],
            series=[Series("Cascades", [n for _, n in s.virality_distribution])],
            x_label="Structural virality",
            y_label="Cascades",
        ),
        "first_recruit": bar_chart(
            "first_recruit",
            title="Time from arrival to first recruit",
            categories=[label for label, _ in s.first_recruit.buckets],
            tick_labels=FIRST_RECRUIT_SHORT,
            series=[Series("People", [n for _, n in s.first_recruit.buckets])],
            x_label="Time to first recruit",
            y_label="People",
        ),
    }
    names = {
        p.pk: str(p)
        for p in Person.objects.filter(pk__in=[c.root_id for c in s.largest]).only(
            "id", "given_name", "family_name"
        )
    }
    return CascadesPage(
        summary=s,
        trees=cascade_trees(campaign, s.largest[:TREES_DRAWN]),
        largest=[(c, names.get(c.root_id, f"Person {c.root_id}")) for c in s.largest],
        charts=charts,
    )


def doubling_bins(counts: dict[int, int]) -> list[tuple[str, int]]:
    """{size: count} in bins 2, 3–4, 5–8, 9–16, … (cascade sizes have a long tail)."""
    if not counts:
        return []
    bins: list[tuple[str, int]] = []
    low, high = 2, 2
    biggest = max(counts)
    while low <= biggest:
        label = str(low) if low == high else f"{low}–{high}"
        bins.append((label, sum(n for size, n in counts.items() if low <= size <= high)))
        low, high = high + 1, high * 2
    return bins


# --- the person page ---------------------------------------------------------------------------


def person_page(person: Person) -> dict[str, Any]:
    """The insights part of the organizer's person page (people.hooks): per campaign, the
    chain up to the person's root and the tree of everyone they brought in."""
    grid: PersonGrid = person_grid(person)
    return {"recruitment_trees": grid.trees}
