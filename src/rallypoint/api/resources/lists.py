"""Lists: the saved segments, read-only, with their members as OSDI items."""

from typing import Any

from rallypoint.people.models import Person
from rallypoint.segments.models import Segment

from .. import odata
from ..hal import Links, dates, identifiers


def list_repr(segment: Segment, links: Links, *, total: int | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "identifiers": identifiers(segment.uuid),
        **dates(segment),
        "name": segment.name,
        "title": segment.name,
        "description": segment.description,
        "_links": {
            "self": links.link("lists", segment.uuid),
            "osdi:items": links.link("lists", segment.uuid, "items"),
        },
    }
    if total is not None:
        body["total_items"] = total
    return body


def item_repr(segment: Segment, person: Person, links: Links) -> dict[str, Any]:
    """A member of a list. Its id is the person's: a list holds each person once."""
    return {
        "identifiers": identifiers(person.uuid),
        **dates(person),
        "item_type": "osdi:person",
        "_links": {
            "self": links.link("lists", segment.uuid, "items", person.uuid),
            "osdi:list": links.link("lists", segment.uuid),
            "osdi:person": links.link("people", person.uuid),
        },
    }


LIST_FILTERS = {
    f.name: f
    for f in [
        odata.date_field("created_date", "created_at"),
        odata.date_field("modified_date", "modified_at"),
        odata.string_field("name", "name"),
    ]
}

ITEM_FILTERS = {
    f.name: f
    for f in [
        odata.date_field("created_date", "created_at"),
        odata.date_field("modified_date", "modified_at"),
    ]
}
