"""Server-drawn charts (core.charts): what a line and a bar chart hold, their table and CSV."""

import csv
import io

from rallypoint.core.charts import (
    Reference,
    Series,
    bar_chart,
    chart_csv,
    chart_csv_response,
    format_number,
    line_chart,
    nice_scale,
)


def test_a_line_chart_has_its_axes_lines_with_gaps_and_a_table():
    chart = line_chart(
        "People per day!",
        title="People per day",
        categories=["2026-03-01", "2026-03-02", "2026-03-03", "2026-03-04"],
        tick_labels=["1", "2", "3", "4"],
        series=[Series("New", [3, None, 5, 8]), Series("Target", [10, 10, 10, 10], dashed=True)],
        references=[Reference("Goal: 12", 12)],
        x_label="Day",
        y_label="People",
    )
    assert (chart.id, chart.kind, chart.empty) == ("people-per-day", "line", False)
    # Counts step by whole numbers up to a round top above the highest value (the goal).
    assert [t.label for t in chart.y_ticks] == ["0", "5", "10", "15"]
    assert [t.label for t in chart.x_ticks] == ["1", "2", "3", "4"]
    new, target = chart.marks
    assert len(new.lines) == 2  # the missing day splits the line
    assert [p.label for p in new.points] == ["2026-03-01: 3", "2026-03-03: 5", "2026-03-04: 8"]
    assert new.summary == "total 16, highest 8"
    assert target.style.dash  # dashed, whatever its place
    assert new.style.marker != target.style.marker
    assert chart.references[0].label == "Goal: 12"
    assert chart.head == ["Day", "New", "Target"]
    assert chart.rows[1] == ["2026-03-02", "–", "10"]
    assert chart.description.startswith("Line chart from 2026-03-01 to 2026-03-04. New: highest 8")


def test_a_bar_chart_draws_bars_and_whiskers_side_by_side():
    chart = bar_chart(
        "k",
        title="K by channel",
        categories=["X", "Email"],
        series=[
            Series("K", [0.5, 1.25], intervals=[(0.25, 0.75), (1.0, 1.5)]),
            Series("Last year", [0.4, None]),
        ],
        x_label="Channel",
        y_label="K",
        decimals=1,
    )
    k, last_year = chart.marks
    assert len(k.bars) == 2 and len(k.whiskers) == 2
    assert len(last_year.bars) == 1  # no bar where there is no value
    assert k.bars[0].x < last_year.bars[0].x < k.bars[1].x  # side by side, per category
    assert k.whiskers[1].high < k.bars[1].y < k.whiskers[1].low  # the interval spans the bar
    assert k.summary == "highest 1.2"
    assert [t.label for t in chart.x_ticks] == ["X", "Email"]
    assert chart.head == [
        "Channel",
        "K",
        "K: 95% interval, low",
        "K: 95% interval, high",
        "Last year",
    ]
    assert chart.rows[0] == ["X", "0.5", "0.2", "0.8", "0.4"]


def test_an_empty_chart_says_so_and_short_labels_that_do_not_fit_are_left_out():
    chart = bar_chart(
        "empty",
        title="Nothing",
        categories=["a", "b"],
        series=[Series("n", [0, 0])],
        x_label="x",
        y_label="y",
        tick_labels=["only one"],
        description="Given.",
    )
    assert chart.empty is True
    assert [t.label for t in chart.x_ticks] == ["a", "b"]
    assert chart.description == "Given."
    assert (
        line_chart("none", title="T", categories=[], series=[], x_label="x", y_label="y").x_ticks
        == []
    )


def test_the_csv_holds_the_raw_numbers_and_defuses_formulas():
    chart = bar_chart(
        "c",
        title="T",
        categories=["=HYPERLINK(1)", "ok"],
        series=[Series("n", [1234, None])],
        x_label="what",
        y_label="n",
    )
    rows = list(csv.reader(io.StringIO(chart_csv(chart))))
    assert rows == [["what", "n"], ["'=HYPERLINK(1)", "1234"], ["ok", ""]]
    response = chart_csv_response(chart, filename="Grid: c")
    assert response["Content-Disposition"] == 'attachment; filename="grid-c.csv"'


def test_numbers_and_scales_are_round():
    assert (format_number(1204), format_number(0.371), format_number(None)) == (
        "1,204",
        "0.37",
        "–",
    )
    assert nice_scale(7, whole=True) == (8.0, 2.0)
    assert nice_scale(0.9) == (1.0, 0.25)
    assert nice_scale(0) == (1.0, 0.25)
