"""Extension points other apps plug into without events importing them.

"Event groups": an event may belong to a group (`Event.group`). The app that owns groups names,
on its AppConfig, an object that answers the three questions events ask about one,

    class GroupsConfig(AppConfig):
        event_groups = "rallypoint.groups.permissions.EVENT_GROUPS"

with `by_slug(slug) -> group or None`, `is_member(person, group) -> bool` (an active member)
and `is_leader(person, group) -> bool` (an active leader). Without such an app no group is
found and nobody is a member or a leader.
"""

from typing import Any, Protocol

from django.apps import apps
from django.utils.module_loading import import_string


class EventGroups(Protocol):
    def by_slug(self, slug: str) -> Any | None: ...

    def is_member(self, person: Any, group: Any) -> bool: ...

    def is_leader(self, person: Any, group: Any) -> bool: ...


class _NoGroups:
    def by_slug(self, slug: str) -> Any | None:
        return None

    def is_member(self, person: Any, group: Any) -> bool:
        return False

    def is_leader(self, person: Any, group: Any) -> bool:
        return False


def event_groups() -> EventGroups:
    """The installed answer to "which group, and is this person a member or a leader"."""
    for config in apps.get_app_configs():
        path = getattr(config, "event_groups", None)
        if path:
            return import_string(path)
    return _NoGroups()
