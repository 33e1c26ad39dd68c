"""Lists (saved segments) and their items. Read-only: a segment is defined by its rules."""

from rallypoint.segments.queries import segment_count

from ..errors import NotFound
from ..hal import HalResponse
from ..payload import get_object, parse_uuid
from ..queries import api_list_items, api_lists
from ..resources.lists import ITEM_FILTERS, LIST_FILTERS, item_repr, list_repr
from .base import CollectionMixin, Endpoint


class ListsView(CollectionMixin, Endpoint):
    plural = "lists"
    filters = LIST_FILTERS

    def get(self, request):
        return self.render_collection(
            api_lists(), lambda s: list_repr(s, self.links), path=("lists",)
        )


class ListView(Endpoint):
    def get(self, request, list_id):
        segment = get_object(api_lists(), list_id, noun="list")
        return HalResponse(list_repr(segment, self.links, total=segment_count(segment)))


class ItemsView(CollectionMixin, Endpoint):
    plural = "items"
    filters = ITEM_FILTERS

    def get(self, request, list_id):
        segment = get_object(api_lists(), list_id, noun="list")
        return self.render_collection(
            api_list_items(segment),
            lambda p: item_repr(segment, p, self.links),
            path=("lists", segment.uuid, "items"),
        )


class ItemView(Endpoint):
    def get(self, request, list_id, item_id):
        segment = get_object(api_lists(), list_id, noun="list")
        found = parse_uuid(item_id)
        person = api_list_items(segment).filter(uuid=found).first() if found else None
        if person is None:
            raise NotFound(f"Couldn't find item with id = {item_id} in this list.")
        return HalResponse(item_repr(segment, person, self.links))
