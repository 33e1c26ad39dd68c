"""People: list, read, update, and the person signup helper (POST /people)."""

from django.core.exceptions import ValidationError
from django.db import transaction

from rallypoint.people.models import Tag
from rallypoint.people.services import person_join, person_match_or_create, tag_remove

from ..errors import BadRequest
from ..hal import HalResponse
from ..payload import form_fields, get_dict, get_object, get_referral, get_str_list
from ..queries import api_people, api_taggings
from ..resources.people import (
    OSDI_FIELD_NAMES,
    PEOPLE_FILTERS,
    person_data_from_form,
    person_data_from_osdi,
    person_repr,
    person_update_from_osdi,
)
from ..resources.tags import TAGGING_FILTERS, tagging_repr
from .base import CollectionMixin, Endpoint


class PeopleView(CollectionMixin, Endpoint):
    plural = "people"
    filters = PEOPLE_FILTERS
    helper_methods = frozenset({"POST"})

    def get(self, request):
        return self.render_collection(
            api_people(), lambda p: person_repr(p, self.links), path=("people",)
        )

    def post(self, request):
        """The person signup helper. With a key: a sync from another system (the organizers'
        matching rule: email, then phone; names replaced; tags added and removed, unknown names
        created). Without a key: someone joining, with the Join page's fields and rule."""
        body = self.body()
        form = form_fields(body)
        remove_tags: list[str] = []
        if form is not None:
            data, add_tags = person_data_from_form(form)
            referral, _ = get_referral(
                {"referrer_data": {"referrer": form.get("ref"), "source": form.get("ch")}}
            )
        else:
            document = get_dict(body, "person")
            if document is None:
                raise BadRequest(
                    'Send the person as {"person": {"email_addresses": [{"address": "…"}]}}.',
                    field="person",
                )
            data = person_data_from_osdi(document)
            add_tags = get_str_list(body, "add_tags", max_length=100)
            remove_tags = get_str_list(body, "remove_tags", max_length=100)
            referral, _ = get_referral(body)
        data.tags = add_tags
        try:
            with transaction.atomic():
                if self.anonymous:
                    # A keyless post comes from an embedded sign-up form: someone joining, with
                    # the join act (and its referral) and confirmation email of the Join page.
                    person, created = person_join(data=data, referral=referral)
                else:
                    person, created = person_match_or_create(data, trusted=True)
                for name in remove_tags:
                    tag = Tag.objects.filter(name__iexact=name).first()
                    if tag is not None:
                        tag_remove(person=person, tag=tag, actor=self.actor)
        except ValidationError as exc:
            raise BadRequest.from_validation(exc, OSDI_FIELD_NAMES)
        if self.anonymous:
            return self.helper_ok()
        person = api_people().get(pk=person.pk)
        status = 201 if created else 200
        return HalResponse(person_repr(person, self.links, created=created), status=status)


class PersonView(Endpoint):
    def get(self, request, person_id):
        person = get_object(api_people(), person_id, noun="person")
        return HalResponse(person_repr(person, self.links))

    def put(self, request, person_id):
        """Change the fields sent (null clears a name); addresses sent are added, never removed.
        An email or phone that belongs to someone else is refused: merge the two instead."""
        person = get_object(api_people(), person_id, noun="person")
        body = self.body()
        document = get_dict(body, "person") or body
        try:
            with transaction.atomic():
                person_update_from_osdi(person, document, actor=self.actor)
        except ValidationError as exc:
            raise BadRequest.from_validation(exc, OSDI_FIELD_NAMES)
        return HalResponse(person_repr(api_people().get(pk=person.pk), self.links))


class PersonTaggingsView(CollectionMixin, Endpoint):
    plural = "taggings"
    filters = TAGGING_FILTERS

    def get(self, request, person_id):
        person = get_object(api_people(), person_id, noun="person")
        return self.render_collection(
            api_taggings(person=person),
            lambda t: tagging_repr(t, self.links),
            path=("people", person.uuid, "taggings"),
        )
