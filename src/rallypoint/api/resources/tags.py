"""Tags and taggings in OSDI's shape."""

from typing import Any

from rallypoint.people.models import Tag, Tagging

from .. import odata
from ..hal import Links, dates, identifiers


def tag_repr(tag: Tag, links: Links, *, created: bool = False) -> dict[str, Any]:
    return {
        "identifiers": identifiers(tag.uuid),
        **dates(tag, created=created),
        "name": tag.name,
        "_links": {
            "self": links.link("tags", tag.uuid),
            "osdi:taggings": links.link("tags", tag.uuid, "taggings"),
        },
    }


def tagging_repr(tagging: Tagging, links: Links, *, created: bool = False) -> dict[str, Any]:
    """`tagging` should have its tag and person loaded (select_related)."""
    return {
        "identifiers": identifiers(tagging.uuid),
        **dates(tagging, created=created),
        "item_type": "osdi:person",
        "_links": {
            "self": links.link("tags", tagging.tag.uuid, "taggings", tagging.uuid),
            "osdi:tag": links.link("tags", tagging.tag.uuid),
            "osdi:person": links.link("people", tagging.person.uuid),
        },
    }


TAG_FILTERS = {
    f.name: f
    for f in [
        odata.date_field("created_date", "created_at"),
        odata.date_field("modified_date", "modified_at"),
        odata.string_field("name", "name"),
    ]
}

TAGGING_FILTERS = {
    f.name: f
    for f in [
        odata.date_field("created_date", "created_at"),
        odata.date_field("modified_date", "modified_at"),
    ]
}
