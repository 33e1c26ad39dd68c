"""Extension points other apps plug into without mission importing them.

"Ways to help": each tool app names a callable on its AppConfig,

    class ActionsConfig(AppConfig):
        ways_to_help = "rallypoint.actions.queries.ways_to_help"

and that callable takes a campaign and returns a list of plain dicts, one per live thing a
visitor can do for it:

    {"title": "Sign: Fund our schools", "url": "/act/fund-our-schools/", "kind": "sign",
     "blurb": "Tell the board ...", "count": 1204}

(`kind` is a ledger.kinds code; `count` may be None). The mission page lists them all, cached
briefly (`WAYS_TO_HELP`, forgotten when the campaign changes), so a tool's function may run a
query or two.
"""

import logging
from typing import Any, TypedDict

from django.apps import apps
from django.conf import settings
from django.utils.module_loading import import_string

from rallypoint.core.cache import CachedValue

logger = logging.getLogger(__name__)
WAYS_CACHE_SECONDS = 5


class WayToHelp(TypedDict):
    title: str
    url: str
    kind: str
    blurb: str
    count: int | None


# Every tool's live ways to help one campaign, by campaign id.
WAYS_TO_HELP: CachedValue[list[WayToHelp]] = CachedValue(
    "mission.ways", fresh_for=WAYS_CACHE_SECONDS
)


def ways_to_help_providers() -> list[tuple[str, Any]]:
    providers = []
    for config in apps.get_app_configs():
        path = getattr(config, "ways_to_help", None)
        if path:
            providers.append((config.label, import_string(path)))
    return providers


def ways_to_help(campaign: Any, *, use_cache: bool = True) -> list[WayToHelp]:
    """Every live way to help `campaign`, from every tool, in app order."""
    return WAYS_TO_HELP.get(lambda: _collect(campaign), scope=campaign.pk, use_cache=use_cache)


def _collect(campaign: Any) -> list[WayToHelp]:
    ways: list[WayToHelp] = []
    for label, provider in ways_to_help_providers():
        try:
            items = provider(campaign)
        except Exception:
            # One broken tool must not take the campaign's front page down with it.
            if settings.DEBUG:
                raise
            logger.exception("ways_to_help of %s failed for campaign %s", label, campaign.pk)
            continue
        for item in items or ():
            ways.append(
                WayToHelp(
                    title=str(item["title"]),
                    url=str(item["url"]),
                    kind=str(item.get("kind", "")),
                    blurb=str(item.get("blurb", "") or ""),
                    count=item.get("count"),
                )
            )
    return ways
