"""Extension points other apps plug into without the ledger importing them.

"Campaigns": an act names its campaign (`Activity.campaign`). The app that owns campaigns names
a callable on its AppConfig,

    class MissionConfig(AppConfig):
        campaigns_by_id = "rallypoint.mission.queries.campaigns_by_id"

that takes campaign ids (None: every campaign) and returns {id: campaign} in name order, in one
query (none for an empty list of ids). The ledger and the apps between it and the mission
(sharing, segments) load the campaigns they show or check through `campaigns_by_id` below.
"""

from collections.abc import Iterable
from typing import Any

from django.apps import apps
from django.utils.module_loading import import_string


def campaigns_by_id(ids: Iterable[int] | None = None) -> dict[int, Any]:
    """{id: campaign} for `ids` (every campaign when None), by name; unknown ids are left out."""
    for config in apps.get_app_configs():
        path = getattr(config, "campaigns_by_id", None)
        if path:
            return import_string(path)(ids)
    return {}
