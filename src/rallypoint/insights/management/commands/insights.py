"""rallypoint insights spread --campaign SLUG [--since DATE] [--until DATE] [--json]

Prints the campaign's spread summary (services.grid, the definitions in docs/insights.md):
with --json one JSON object (the same numbers the insights pages and the API show, and the
spread model's backtest, null with too little history), else a readable table. A bad campaign
or date is a one-line error with exit code 2."""

import json
import math
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from rallypoint.insights.queries import campaign_by_key
from rallypoint.insights.services.grid import WindowError, spread_report, window_parse

USAGE_ERROR = 2


class Command(BaseCommand):
    help = "Insights from the command line: `spread` prints a campaign's spread summary."

    def add_arguments(self, parser: CommandParser) -> None:
        commands = parser.add_subparsers(dest="what", metavar="{spread}")
        commands.required = True
        spread = commands.add_parser(
            "spread",
            help="participants, recruits, K-factor, channels, generations and cascades",
            description="The campaign's spread in a window (whole days, both included).",
        )
        spread.add_argument("--campaign", required=True, help="the campaign's slug (or id)")
        spread.add_argument("--since", default=None, help="first day, YYYY-MM-DD")
        spread.add_argument("--until", default=None, help="last day, YYYY-MM-DD")
        spread.add_argument("--json", action="store_true", help="print one JSON object")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["what"] == "spread":
            self.spread(options)

    def spread(self, options: dict[str, Any]) -> None:
        campaign = campaign_by_key(options["campaign"])
        if campaign is None:
            raise CommandError(
                f"No campaign “{options['campaign']}”: give a campaign's slug, as in "
                "/campaigns/<slug>/.",
                returncode=USAGE_ERROR,
            )
        try:
            window = window_parse(options["since"], options["until"])
        except WindowError as exc:
            raise CommandError(f"--{exc.field}: {exc}", returncode=USAGE_ERROR) from None
        report = spread_report(campaign, window)
        if options["json"]:
            self.stdout.write(json.dumps(report, ensure_ascii=False, allow_nan=False))
            return
        self.stdout.write(table(report))


def _number(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return "–" if math.isnan(value) else f"{value:,.2f}"
    return f"{value:,}"


def _interval(pair: list[float] | None) -> str:
    return f"{pair[0]:.2f}–{pair[1]:.2f}" if pair else "–"


def table(report: dict[str, Any]) -> str:
    """The report as aligned text."""
    window = f"{report['since'] or 'the start'} to {report['until'] or 'now'}"
    lines = [f"Spread of {report['campaign']}, {window}", ""]
    rows = [
        ("participants", _number(report["participants"])),
        ("roots", _number(report["roots"])),
        ("recruits", _number(report["recruits"])),
        (
            "K-factor (95% interval)",
            f"{_number(report['k_factor'])} ({_interval(report['k_factor_interval'])})",
        ),
        ("max depth", _number(report["max_depth"])),
        ("cascades", _number(report["cascades"])),
        ("structural virality (mean)", _number(report["structural_virality"])),
    ]
    first = report["time_to_first_recruit"]
    if first["median_hours"] is not None:
        rows.append(("median time to first recruit", f"{first['median_hours']:.1f} h"))
    width = max(len(label) for label, _ in rows)
    lines += [f"  {label:<{width}}  {value}" for label, value in rows]
    lines += ["", "Generations (people; K to the next, 95% interval)"]
    for g, people in enumerate(report["generations"]):
        k = report["k_by_generation"][g]
        interval = report["k_by_generation_interval"][g]
        lines.append(f"  {g:>3}  {people:>10,}  K {_number(k)} ({_interval(interval)})")
    if not report["generations"]:
        lines.append("  (nobody acted in this window)")
    lines += ["", "Channels (recruits, K-factor, share-link visits, conversions)"]
    for key, row in report["by_channel"].items():
        visits = "not recorded" if row["visits"] is None else f"{row['visits']:,}"
        lines.append(
            f"  {key:<10} {row['recruits']:>8,}  K {_number(row['k_factor'])}"
            f" ({_interval(row['k_factor_interval'])})  visits {visits}"
            f"  conversions {row['conversions']:,}"
        )
    if not report["by_channel"]:
        lines.append("  (nobody was brought in through a share link in this window)")
    backtest = report["backtest"]
    lines += [
        "",
        "Backtest: "
        + (
            json.dumps(backtest, ensure_ascii=False)
            if backtest is not None
            else "not enough history yet"
        ),
    ]
    return "\n".join(lines)
