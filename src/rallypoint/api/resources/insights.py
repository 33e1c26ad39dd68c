"""A campaign's spread summary for API keys (the numbers of `rallypoint insights spread --json`
and the insights pages; definitions in docs/insights.md)."""

from typing import Any

from ..hal import Links


def spread_repr(report: dict[str, Any], links: Links) -> dict[str, Any]:
    """`report` (insights.services.grid.spread_report) with its links."""
    return {
        **report,
        "_links": {
            "self": links.link(
                "insights",
                "spread",
                campaign=report["campaign"],
                since=report["since"],
                until=report["until"],
            ),
        },
    }
