"""Messages (mailings): list, create and edit drafts, and the send and schedule helpers, through
messaging's services (the same checks and statuses as the organizer's pages)."""

from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_datetime

from rallypoint.messaging.services.compose import mailing_create, mailing_update
from rallypoint.messaging.services.delivery import mailing_schedule, mailing_send

from ..errors import BadRequest
from ..hal import HalResponse
from ..payload import get_object, get_str
from ..queries import api_messages
from ..resources.messages import (
    MESSAGE_FIELD_NAMES,
    MESSAGE_FILTERS,
    message_fields_from_osdi,
    message_repr,
)
from .base import CollectionMixin, Endpoint


def _fresh(mailing):
    return api_messages().get(pk=mailing.pk)


class MessagesView(CollectionMixin, Endpoint):
    plural = "messages"
    filters = MESSAGE_FILTERS

    def get(self, request):
        return self.render_collection(
            api_messages(), lambda m: message_repr(m, self.links), path=("messages",)
        )

    def post(self, request):
        """Create a draft email message."""
        body = self.body()
        kind = get_str(body, "type")
        if kind not in (None, "", "email"):
            raise BadRequest("type: only email messages are supported.", field="type")
        fields = message_fields_from_osdi(body)
        if not fields.get("name"):
            fields["name"] = fields.get("subject") or "Untitled message"
        try:
            mailing = mailing_create(self.actor, **fields)
        except ValidationError as exc:
            raise BadRequest.from_validation(exc, MESSAGE_FIELD_NAMES)
        return HalResponse(message_repr(_fresh(mailing), self.links, created=True), status=201)


class MessageView(Endpoint):
    def get(self, request, message_id):
        mailing = get_object(api_messages(), message_id, noun="message")
        return HalResponse(message_repr(mailing, self.links))

    def put(self, request, message_id):
        """Change a draft (only the fields sent)."""
        mailing = get_object(api_messages(), message_id, noun="message")
        fields = message_fields_from_osdi(self.body())
        try:
            mailing_update(mailing, self.actor, **fields)
        except ValidationError as exc:
            raise BadRequest.from_validation(exc, MESSAGE_FIELD_NAMES)
        return HalResponse(message_repr(_fresh(mailing), self.links))


class MessageSendView(Endpoint):
    def post(self, request, message_id):
        """The send helper: send the message now to its targets."""
        mailing = get_object(api_messages(), message_id, noun="message")
        self.body()  # checked like every body, though the helper needs no field
        try:
            mailing_send(mailing, by=self.actor)
        except ValidationError as exc:
            raise BadRequest.from_validation(exc, MESSAGE_FIELD_NAMES)
        return HalResponse(message_repr(_fresh(mailing), self.links))


class MessageScheduleView(Endpoint):
    def post(self, request, message_id):
        """The schedule helper: send at `scheduled_start_date` (ISO 8601 with a time zone)."""
        mailing = get_object(api_messages(), message_id, noun="message")
        raw = get_str(self.body(), "scheduled_start_date")
        when = parse_datetime(raw) if raw else None
        if when is None or when.tzinfo is None:
            raise BadRequest(
                "scheduled_start_date: give a date and time with its zone, e.g. "
                "2027-03-01T15:00:00Z.",
                field="scheduled_start_date",
            )
        try:
            mailing_schedule(mailing, at=when, by=self.actor)
        except ValidationError as exc:
            raise BadRequest.from_validation(exc, MESSAGE_FIELD_NAMES)
        return HalResponse(message_repr(_fresh(mailing), self.links))
