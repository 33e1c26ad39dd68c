"""Tags and taggings."""

from django.core.exceptions import ValidationError
from django.http import HttpResponse

from rallypoint.people.models import Person, Tag
from rallypoint.people.services import tag_add, tag_get_or_create, tag_remove

from ..errors import BadRequest, NotFound
from ..hal import HalResponse
from ..payload import get_object, get_str, linked_uuid
from ..queries import api_taggings, api_tags
from ..resources.tags import TAG_FILTERS, TAGGING_FILTERS, tag_repr, tagging_repr
from .base import CollectionMixin, Endpoint


class TagsView(CollectionMixin, Endpoint):
    plural = "tags"
    filters = TAG_FILTERS

    def get(self, request):
        return self.render_collection(api_tags(), lambda t: tag_repr(t, self.links), path=("tags",))

    def post(self, request):
        body = self.body()
        name = get_str(body, "name", max_length=100)
        if not name:
            raise BadRequest("A tag needs a name.", field="name")
        existed = Tag.objects.filter(name__iexact=name).exists()
        try:
            tag = tag_get_or_create(name)
        except ValidationError as exc:
            raise BadRequest.from_validation(exc)
        return HalResponse(
            tag_repr(tag, self.links, created=not existed), status=200 if existed else 201
        )


class TagView(Endpoint):
    def get(self, request, tag_id):
        tag = get_object(api_tags(), tag_id, noun="tag")
        return HalResponse(tag_repr(tag, self.links))


class TaggingsView(CollectionMixin, Endpoint):
    plural = "taggings"
    filters = TAGGING_FILTERS

    def get(self, request, tag_id):
        tag = get_object(api_tags(), tag_id, noun="tag")
        return self.render_collection(
            api_taggings(tag=tag),
            lambda t: tagging_repr(t, self.links),
            path=("tags", tag.uuid, "taggings"),
        )

    def post(self, request, tag_id):
        """Tag a person: {"_links": {"osdi:person": {"href": ".../people/<id>"}}}."""
        tag = get_object(api_tags(), tag_id, noun="tag")
        body = self.body()
        person_uuid = linked_uuid(body, "osdi:person")
        if person_uuid is None:
            raise BadRequest(
                'Link the person: {"_links": {"osdi:person": {"href": ".../people/<id>"}}}.',
                field="_links.osdi:person",
            )
        person = Person.objects.filter(uuid=person_uuid).first()
        if person is None:
            raise NotFound(f"Couldn't find person with id = {person_uuid}.")
        existed = api_taggings(tag=tag, person=person).exists()
        tagging = tag_add(person=person, name=tag.name, actor=self.actor)
        tagging = api_taggings().get(pk=tagging.pk)
        return HalResponse(
            tagging_repr(tagging, self.links, created=not existed), status=200 if existed else 201
        )


class TaggingView(Endpoint):
    def get(self, request, tag_id, tagging_id):
        tag = get_object(api_tags(), tag_id, noun="tag")
        tagging = get_object(api_taggings(tag=tag), tagging_id, noun="tagging")
        return HalResponse(tagging_repr(tagging, self.links))

    def delete(self, request, tag_id, tagging_id):
        tag = get_object(api_tags(), tag_id, noun="tag")
        tagging = get_object(api_taggings(tag=tag), tagging_id, noun="tagging")
        tag_remove(person=tagging.person, tag=tag, actor=self.actor)
        return HttpResponse(status=204)
