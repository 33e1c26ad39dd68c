"""Charts drawn on the server as SVG: no script and no CDN, readable on a phone.

Build a chart with `line_chart` (several series over time or any ordered categories) or
`bar_chart` (categories side by side, a histogram when the categories are bins; bars may carry
95% intervals as whiskers), then render it with

    {% include "core/charts/chart.html" with chart=chart csv_url="?csv=growth" %}

and put `{% include "core/charts/styles.html" %}` once in the page's head. Every chart has a
title and a description (`<title>`/`<desc>`, read by screen readers), axes with their units, a
legend that does not rely on colour (each series has its own dash pattern and marker shape, or
hatching for bars), the same numbers as a table, and a CSV export (`chart_csv`,
`chart_csv_response`). The SVG has a viewBox and takes the width of its container; on a narrow
screen the styles enlarge the text and hide every other label of the x axis.

A `Chart` is plain data (coordinates and formatted labels), so it may be cached with the
numbers it draws.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, NotRequired, TypedDict, Unpack

from django.http import HttpResponse

from .downloads import safe_cell

WIDTH = 560
HEIGHT = 340
LEFT, RIGHT, TOP, BOTTOM = 54, 20, 40, 70
X_LABELS_MAX = 8
MARKERS_MAX = 24  # markers per series; denser series show every n-th point

# Okabe–Ito-like colours that stay apart for most colour vision; never the only difference.
COLOURS = ["#0b5cad", "#c2410c", "#047857", "#7c3aed", "#a16207", "#be185d", "#374151", "#0e7490"]
DASHES = ["", "8 4", "2 3", "10 3 2 3", "5 5", "1 4"]
MARKERS = {
    "circle": "M -3.6 0 a 3.6 3.6 0 1 0 7.2 0 a 3.6 3.6 0 1 0 -7.2 0 z",
    "square": "M -3.2 -3.2 h 6.4 v 6.4 h -6.4 z",
    "triangle": "M 0 -4.2 L 3.8 2.8 L -3.8 2.8 z",
    "diamond": "M 0 -4.4 L 4.4 0 L 0 4.4 L -4.4 0 z",
    "cross": "M -3.6 -3.6 L 3.6 3.6 M -3.6 3.6 L 3.6 -3.6",
    "bar": "M -4.4 -1.4 h 8.8 v 2.8 h -8.8 z",
}
MARKER_ORDER = list(MARKERS)
HATCHES = ["solid", "diagonal", "dots", "cross", "horizontal", "vertical"]


@dataclass(frozen=True)
class Series:
    """One named row of values, one per category (None: no value there).

    `intervals`, for bar charts: (low, high) of each value's 95% interval (None: none).
    `dashed`: drawn dashed whatever its place (a projection, a target)."""

    name: str
    values: Sequence[float | None]
    intervals: Sequence[tuple[float, float] | None] | None = None
    dashed: bool = False


@dataclass(frozen=True)
class Reference:
    """A labelled horizontal line across the plot (a target, K = 1)."""

    label: str
    value: float


@dataclass(frozen=True)
class Style:
    colour: str
    dash: str
    marker: str  # a MARKERS key
    marker_path: str
    hatch: str  # a HATCHES name, for bars


@dataclass(frozen=True)
class Tick:
    position: float
    label: str
    minor: bool = False  # hidden on narrow screens


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str  # "category: value", shown on hover


@dataclass(frozen=True)
class Whisker:
    x: float
    low: float  # y of the interval's low end
    high: float

    @property
    def cap(self) -> float:
        """x where the whisker's caps start (10 units wide)."""
        return round(self.x - 5, 1)


@dataclass(frozen=True)
class Point:
    x: float
    y: float
    label: str


@dataclass(frozen=True)
class Mark:
    """How one series is drawn."""

    name: str
    style: Style
    index: int
    lines: list[str] = field(default_factory=list)  # polyline "x,y x,y" runs (gaps split them)
    points: list[Point] = field(default_factory=list)  # where markers go
    bars: list[Bar] = field(default_factory=list)
    whiskers: list[Whisker] = field(default_factory=list)
    summary: str = ""  # for the legend: "total 1,204"


@dataclass(frozen=True)
class DrawnReference:
    label: str
    y: float
    label_y: float  # above the line, or below it when the line runs along the top


@dataclass(frozen=True)
class Chart:
    id: str  # unique on its page: element ids and the CSV name
    kind: str  # "line" or "bar"
    title: str
    description: str
    x_label: str
    y_label: str
    categories: list[str]
    width: int
    height: int
    left: int
    right: int
    top: int
    bottom: int
    x_ticks: list[Tick]
    y_ticks: list[Tick]
    marks: list[Mark]
    references: list[DrawnReference]
    head: list[str]  # the table's column headings
    rows: list[list[str]]  # the table's rows, formatted
    raw_rows: list[list[str | float | int | None]]  # the same, unformatted (CSV)
    empty: bool

    @property
    def y_title_x(self) -> int:
        """The y axis's title is written above the axis, left-aligned with the labels."""
        return 4

    @property
    def y_title_y(self) -> int:
        return self.top - 16

    @property
    def x_title_x(self) -> float:
        return (self.left + self.right) / 2

    @property
    def x_title_y(self) -> int:
        return self.height - 6

    @property
    def x_tick_y(self) -> int:
        return self.bottom + 20


# --- numbers -----------------------------------------------------------------------------------


def format_number(value: float | int | None, *, decimals: int = 2) -> str:
    """Whole numbers (ints) as 1,204; other numbers with `decimals` places (0.37); "–" for
    nothing."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, int):
        return f"{value:,}"
    return f"{value:,.{decimals}f}"


def compact_number(value: float) -> str:
    """A short axis label: 950, 1.2k, 3M, 0.25."""
    size = abs(value)
    if size >= 1_000_000:
        text = f"{value / 1_000_000:.1f}".rstrip("0").rstrip(".")
        return f"{text}M"
    if size >= 10_000:
        text = f"{value / 1_000:.1f}".rstrip("0").rstrip(".")
        return f"{text}k"
    if float(value).is_integer():
        return f"{int(value):,}"
    return f"{value:.2f}".rstrip("0").rstrip(".")


def nice_scale(highest: float, ticks: int = 4, *, whole: bool = False) -> tuple[float, float]:
    """(top of the axis, step): a round step (1, 2, 2.5 or 5 times a power of ten) giving about
    `ticks` steps up to at least `highest`; `whole`: steps of at least 1 (counts)."""
    if highest <= 0:
        return (4.0, 1.0) if whole else (1.0, 0.25)
    raw = highest / ticks
    power = 10 ** math.floor(math.log10(raw))
    step = 10 * power
    for factor in (1, 2, 2.5, 5, 10):
        if raw <= factor * power and not (whole and factor * power % 1):
            step = factor * power
            break
    if whole:
        step = max(step, 1.0)
    top = math.ceil(highest / step - 1e-9) * step
    return float(top), float(step)


def style_for(index: int, *, dashed: bool = False) -> Style:
    marker = MARKER_ORDER[index % len(MARKER_ORDER)]
    dash = DASHES[index % len(DASHES)]
    if dashed and not dash:
        dash = "8 4"
    return Style(
        colour=COLOURS[index % len(COLOURS)],
        dash=dash,
        marker=marker,
        marker_path=MARKERS[marker],
        hatch=HATCHES[index % len(HATCHES)],
    )


def _chart_id(raw: str) -> str:
    text = re.sub(r"[^a-z0-9_-]+", "-", raw.lower()).strip("-")
    return text or "chart"


def _x_ticks(positions: list[float], labels: list[str]) -> list[Tick]:
    count = len(labels)
    if not count:
        return []
    every = max(1, math.ceil(count / X_LABELS_MAX))
    chosen = list(range(0, count, every))
    # On a narrow screen every other label is hidden, when there are enough to crowd.
    crowded = len(chosen) > 4
    return [
        Tick(position=positions[i], label=labels[i], minor=crowded and n % 2 == 1)
        for n, i in enumerate(chosen)
    ]


def _labels(categories: list[str], tick_labels: Sequence[str] | None) -> list[str]:
    """What the x axis writes: the short `tick_labels` when given, else the categories."""
    if tick_labels is None or len(tick_labels) != len(categories):
        return categories
    return [str(label) for label in tick_labels]


def _table(
    categories: list[str],
    series: Sequence[Series],
    x_label: str,
    decimals: int,
) -> tuple[list[str], list[list[str]], list[list[str | float | int | None]]]:
    head = [x_label]
    for s in series:
        head.append(s.name)
        if s.intervals is not None:
            head += [f"{s.name}: 95% interval, low", f"{s.name}: 95% interval, high"]
    rows: list[list[str]] = []
    raw_rows: list[list[str | float | int | None]] = []
    for i, category in enumerate(categories):
        row = [category]
        raw: list[str | float | int | None] = [category]
        for s in series:
            value = s.values[i] if i < len(s.values) else None
            row.append(format_number(value, decimals=decimals))
            raw.append(value)
            if s.intervals is not None:
                interval = s.intervals[i] if i < len(s.intervals) else None
                low, high = interval if interval is not None else (None, None)
                row += [
                    format_number(low, decimals=decimals),
                    format_number(high, decimals=decimals),
                ]
                raw += [low, high]
        rows.append(row)
        raw_rows.append(raw)
    return head, rows, raw_rows


def _whole(series: Sequence[Series]) -> bool:
    """Do the series hold counts only (ints), so the axis steps by whole numbers?"""
    return all(isinstance(v, int) for s in series for v in s.values if v is not None)


def _highest(series: Sequence[Series], references: Sequence[Reference]) -> float:
    values = [v for s in series for v in s.values if v is not None]
    values += [i[1] for s in series if s.intervals for i in s.intervals if i is not None]
    values += [r.value for r in references]
    return max(values, default=0.0)


def _line_summary(known: list[float], decimals: int, *, counts: bool) -> str:
    """The legend's few words about a line: total and highest for counts, else last and
    highest."""
    if not known:
        return "no values"
    highest = format_number(max(known), decimals=decimals)
    if counts:
        return f"total {format_number(sum(known), decimals=decimals)}, highest {highest}"
    return f"last {format_number(known[-1], decimals=decimals)}, highest {highest}"


def _describe(
    title: str, kind: str, categories: list[str], series: Sequence[Series], decimals: int
) -> str:
    if not categories or all(v is None for s in series for v in s.values):
        return f"{title}: nothing to show yet."
    span = (
        f"from {categories[0]} to {categories[-1]}" if len(categories) > 1 else f"{categories[0]}"
    )
    parts = []
    for s in series:
        known = [(v, categories[i]) for i, v in enumerate(s.values) if v is not None]
        if not known:
            parts.append(f"{s.name}: no values")
            continue
        peak, where = max(known, key=lambda item: item[0])
        text = f"{s.name}: highest {format_number(peak, decimals=decimals)} at {where}"
        if kind == "line":
            text += f", last {format_number(known[-1][0], decimals=decimals)}"
        parts.append(text)
    shape = "Line chart" if kind == "line" else "Bar chart"
    return f"{shape} {span}. " + "; ".join(parts) + "."


def _reference(reference: Reference, y: float) -> DrawnReference:
    below = y - TOP < 28
    return DrawnReference(label=reference.label, y=y, label_y=round(y + 18 if below else y - 6, 1))


class ChartLabels(TypedDict):
    """What `line_chart` and `bar_chart` take besides the numbers."""

    title: str
    x_label: str  # the x axis's title, with its unit
    y_label: str
    description: NotRequired[str]  # for screen readers; written from the numbers when absent
    references: NotRequired[Sequence[Reference]]
    decimals: NotRequired[int]  # places of the numbers that are not whole (2)
    tick_labels: NotRequired[Sequence[str] | None]  # shorter labels for the x axis


@dataclass(frozen=True)
class _Frame:
    """What every kind of chart shares: its categories and series, the plotting area (in SVG
    units) with the top of its value axis, and the labels."""

    categories: list[str]
    series: Sequence[Series]
    labels: ChartLabels
    references: Sequence[Reference]
    decimals: int
    width: float
    height: float
    left: float
    bottom: float
    top_value: float
    step: float

    @classmethod
    def of(cls, categories: Sequence[str], series: Sequence[Series], labels: ChartLabels) -> _Frame:
        references = labels.get("references", ())
        top_value, step = nice_scale(_highest(series, references), whole=_whole(series))
        plot_h = HEIGHT - TOP - BOTTOM
        return cls(
            categories=[str(c) for c in categories],
            series=series,
            labels=labels,
            references=references,
            decimals=labels.get("decimals", 2),
            width=WIDTH - LEFT - RIGHT,
            height=plot_h,
            left=float(LEFT),
            bottom=float(TOP + plot_h),
            top_value=top_value,
            step=step,
        )

    def y(self, value: float) -> float:
        return round(self.bottom - self.height * value / self.top_value, 1)

    def number(self, value: float | int | None) -> str:
        return format_number(value, decimals=self.decimals)

    def y_ticks(self) -> list[Tick]:
        ticks = []
        value = 0.0
        while value <= self.top_value + self.step / 1000:
            ticks.append(Tick(position=self.y(value), label=compact_number(round(value, 6))))
            value += self.step
        return ticks

    def chart(self, kind: str, chart_id: str, marks: list[Mark], x_positions: list[float]) -> Chart:
        """The chart with these marks: axes, references, the table and the description."""
        labels, categories, series = self.labels, self.categories, self.series
        head, rows, raw_rows = _table(categories, series, labels["x_label"], self.decimals)
        return Chart(
            id=_chart_id(chart_id),
            kind=kind,
            title=labels["title"],
            description=labels.get("description")
            or _describe(labels["title"], kind, categories, series, self.decimals),
            x_label=labels["x_label"],
            y_label=labels["y_label"],
            categories=categories,
            width=WIDTH,
            height=HEIGHT,
            left=LEFT,
            right=WIDTH - RIGHT,
            top=TOP,
            bottom=int(self.bottom),
            x_ticks=_x_ticks(x_positions, _labels(categories, labels.get("tick_labels"))),
            y_ticks=self.y_ticks(),
            marks=marks,
            references=[_reference(r, self.y(r.value)) for r in self.references],
            head=head,
            rows=rows,
            raw_rows=raw_rows,
            empty=not any(v is not None and v != 0 for s in series for v in s.values),
        )


def _mark(index: int, s: Series, summary: str, **drawn: list[Any]) -> Mark:
    """The index-th series of a chart, drawn as `drawn` (lines and points, or bars and
    whiskers)."""
    style = style_for(index, dashed=s.dashed)
    return Mark(name=s.name, style=style, index=index, summary=summary, **drawn)


def line_chart(
    chart_id: str,
    *,
    categories: Sequence[str],
    series: Sequence[Series],
    **labels: Unpack[ChartLabels],
) -> Chart:
    """Series over ordered categories (days, weeks, generations), each a line with markers.
    `categories` name the points in the table, the CSV and the description; `tick_labels`, when
    given, are shorter labels for the x axis."""
    frame = _Frame.of(categories, series, labels)
    count = len(frame.categories)

    def x(index: int) -> float:
        if count <= 1:
            return round(frame.left + frame.width / 2, 1)
        return round(frame.left + frame.width * index / (count - 1), 1)

    marks = []
    every = max(1, math.ceil(count / MARKERS_MAX))
    for index, s in enumerate(series):
        runs: list[str] = []
        run: list[str] = []
        points = []
        for i, value in enumerate(s.values[:count]):
            if value is None:
                if run:
                    runs.append(" ".join(run))
                    run = []
                continue
            run.append(f"{x(i)},{frame.y(value)}")
            if i % every == 0 or i == count - 1:
                label = f"{frame.categories[i]}: {frame.number(value)}"
                points.append(Point(x=x(i), y=frame.y(value), label=label))
        if run:
            runs.append(" ".join(run))
        known = [v for v in s.values if v is not None]
        summary = _line_summary(known, frame.decimals, counts=_whole([s]))
        marks.append(_mark(index, s, summary, lines=runs, points=points))
    return frame.chart("line", chart_id, marks, [x(i) for i in range(count)])


def bar_chart(
    chart_id: str,
    *,
    categories: Sequence[str],
    series: Sequence[Series],
    **labels: Unpack[ChartLabels],
) -> Chart:
    """Bars per category, side by side for several series; a histogram when the categories
    are bins. A series with `intervals` gets a whisker from low to high on each bar."""
    frame = _Frame.of(categories, series, labels)
    count = len(frame.categories)
    band = frame.width / max(count, 1)
    inner = band * 0.8
    width = inner / max(len(series), 1)

    marks = []
    for index, s in enumerate(series):
        bars = []
        whiskers = []
        for i, value in enumerate(s.values[:count]):
            x0 = round(frame.left + band * i + (band - inner) / 2 + width * index, 1)
            if value is not None:
                top = frame.y(value)
                bars.append(
                    Bar(
                        x=x0,
                        y=top,
                        width=round(max(width - 1, 1), 1),
                        height=round(frame.bottom - top, 1),
                        label=f"{frame.categories[i]}: {frame.number(value)}",
                    )
                )
            if s.intervals is not None and i < len(s.intervals) and s.intervals[i] is not None:
                low, high = s.intervals[i]  # type: ignore[misc]
                whiskers.append(
                    Whisker(x=round(x0 + width / 2, 1), low=frame.y(low), high=frame.y(high))
                )
        known = [v for v in s.values if v is not None]
        summary = f"highest {frame.number(max(known))}" if known else "no values"
        marks.append(_mark(index, s, summary, bars=bars, whiskers=whiskers))
    centres = [round(frame.left + band * (i + 0.5), 1) for i in range(count)]
    return frame.chart("bar", chart_id, marks, centres)


# --- CSV ---------------------------------------------------------------------------------------


def _csv_cell(value: str | float | int | None) -> str | float | int:
    if value is None:
        return ""
    if isinstance(value, str):
        return safe_cell(value)
    return value


def chart_csv(chart: Chart) -> str:
    """The chart's numbers as CSV text: a header row, then one row per category."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_csv_cell(h) for h in chart.head])
    for row in chart.raw_rows:
        writer.writerow([_csv_cell(v) for v in row])
    return out.getvalue()


def chart_csv_response(chart: Chart, *, filename: str = "") -> HttpResponse:
    """A download of `chart_csv(chart)`, named after the chart unless `filename` says."""
    name = _chart_id(filename or chart.id)
    response = HttpResponse(chart_csv(chart), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response
