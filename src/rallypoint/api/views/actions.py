"""Petitions and forms, their signatures and submissions, and the record helpers."""

from typing import Any

from django.core.exceptions import ValidationError

from rallypoint.actions.models import ActionStatus
from rallypoint.actions.services import action_create, action_update, submission_record_together

from ..errors import BadRequest, NotFound
from ..hal import HalResponse
from ..payload import form_fields, get_dict, get_object, get_referral, get_str, get_str_list
from ..queries import api_actions, api_people, api_submissions
from ..resources.actions import (
    ACTION_FILTERS,
    PETITIONS,
    SUBMISSION_FILTERS,
    ActionResource,
    action_repr,
    action_values_from_osdi,
    submission_id,
    submission_repr,
)
from ..resources.people import (
    person_data_for,
    person_data_from_form,
    person_data_from_osdi,
    person_from_link,
)
from .base import CollectionMixin, Endpoint


class ActionsView(CollectionMixin, Endpoint):
    resource: ActionResource = PETITIONS  # urls.py passes the resource each route serves
    filters = ACTION_FILTERS

    @property
    def plural(self) -> str:  # type: ignore[override]
        return self.resource.plural

    def get(self, request):
        r = self.resource
        return self.render_collection(
            api_actions(r.kinds), lambda a: action_repr(a, r, self.links), path=(r.plural,)
        )

    def post(self, request):
        """Create a petition or form. It is live at once, like one published from its page."""
        r = self.resource
        values = action_values_from_osdi(self.body(), r, partial=False)
        try:
            action = action_create(
                actor=self.actor, kind=r.kind, status=ActionStatus.LIVE, **values
            )
        except ValidationError as exc:
            raise BadRequest.from_validation(exc, {"targets": "target"})
        action = api_actions(r.kinds).get(pk=action.pk)
        return HalResponse(action_repr(action, r, self.links, created=True), status=201)


class ActionView(Endpoint):
    resource: ActionResource = PETITIONS  # urls.py passes the resource each route serves

    def get(self, request, action_id):
        r = self.resource
        action = get_object(api_actions(r.kinds), action_id, noun=r.plural[:-1])
        return HalResponse(action_repr(action, r, self.links))

    def put(self, request, action_id):
        r = self.resource
        action = get_object(api_actions(r.kinds), action_id, noun=r.plural[:-1])
        values = action_values_from_osdi(self.body(), r, partial=True)
        try:
            action_update(action=action, actor=self.actor, **values)
        except ValidationError as exc:
            raise BadRequest.from_validation(exc, {"targets": "target"})
        return HalResponse(action_repr(api_actions(r.kinds).get(pk=action.pk), r, self.links))


class SubmissionsView(CollectionMixin, Endpoint):
    """GET: an action's signatures/submissions. POST: the record signature/submission helper,
    open to keyless posts from embedded forms."""

    resource: ActionResource = PETITIONS  # urls.py passes the resource each route serves
    filters = SUBMISSION_FILTERS
    helper_methods = frozenset({"POST"})
    helper_fields = frozenset({"comments", "comment"})

    @property
    def plural(self) -> str:  # type: ignore[override]
        return self.resource.item_plural

    def get(self, request, action_id):
        r = self.resource
        action = get_object(api_actions(r.kinds), action_id, noun=r.plural[:-1])
        return self.render_collection(
            api_submissions(kinds=r.kinds, action=action),
            lambda s: submission_repr(s, r, self.links),
            path=(r.plural, action.uuid, r.item_plural),
        )

    def post(self, request, action_id):
        r = self.resource
        action = get_object(api_actions(r.kinds), action_id, noun=r.plural[:-1])
        body = self.body()
        person_data, comment, referral = self._read(body, r)
        try:
            result = submission_record_together(
                action=action,
                person_data=person_data,
                comment=comment,
                referral=referral,
                source="api" if self.key else "embed",
            )
        except ValidationError as exc:
            raise BadRequest.from_validation(
                exc,
                {
                    "email": "person.email_addresses",
                    "phone": "person.phone_numbers",
                    "comment": r.comment_field,
                },
            )
        if self.anonymous:
            return self.helper_ok()
        submission = api_submissions(kinds=r.kinds).get(pk=result.submission.pk)
        return HalResponse(
            submission_repr(submission, r, self.links, created=result.created),
            status=201 if result.created else 200,
        )

    def _read(self, body: dict[str, Any], r: ActionResource):
        form = form_fields(body)
        if form is not None:
            person_data, tags = person_data_from_form(form)
            person_data.tags = tags
            comment = (form.get("comment") or form.get("comments") or "").strip()
            referral, _ = get_referral(
                {"referrer_data": {"referrer": form.get("ref"), "source": form.get("ch")}}
            )
            return person_data, comment, referral
        document = get_dict(body, "person")
        if document is not None:
            person_data = person_data_from_osdi(document)
        else:
            person = person_from_link(body)
            if person is None:
                raise BadRequest(
                    'Send the person as {"person": {...}} or link an existing one with '
                    '{"_links": {"osdi:person": {"href": ".../people/<id>"}}}.',
                    field="person",
                )
            person_data = person_data_for(person)
        person_data.tags = get_str_list(body, "add_tags", max_length=100)
        comment = get_str(body, r.comment_field, max_length=5000)
        if comment is None:
            comment = get_str(body, "comment", max_length=5000) or ""
        referral, _ = get_referral(body)
        return person_data, comment, referral


class SubmissionView(Endpoint):
    resource: ActionResource = PETITIONS  # urls.py passes the resource each route serves

    def get(self, request, action_id, item_id):
        r = self.resource
        action = get_object(api_actions(r.kinds), action_id, noun=r.plural[:-1])
        submission = (
            api_submissions(kinds=r.kinds, action=action).filter(pk=submission_id(item_id)).first()
        )
        if submission is None:
            raise NotFound(f"Couldn't find {r.item} with id = {item_id}.")
        return HalResponse(submission_repr(submission, r, self.links))


class PersonSubmissionsView(CollectionMixin, Endpoint):
    resource: ActionResource = PETITIONS  # urls.py passes the resource each route serves
    filters = SUBMISSION_FILTERS

    @property
    def plural(self) -> str:  # type: ignore[override]
        return self.resource.item_plural

    def get(self, request, person_id):
        r = self.resource
        person = get_object(api_people(), person_id, noun="person")
        return self.render_collection(
            api_submissions(kinds=r.kinds, person=person),
            lambda s: submission_repr(s, r, self.links),
            path=("people", person.uuid, r.item_plural),
        )
