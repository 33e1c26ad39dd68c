"""Events, attendances and the record attendance helper (an RSVP through the events service:
capacity, waitlist, ledger act, referral and recruitment exactly as on the event page)."""

from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError

from rallypoint.accounts.services import account_link_person
from rallypoint.events.services import (
    EventData,
    event_create,
    event_update,
    rsvp_record_together,
)
from rallypoint.people.models import Person
from rallypoint.people.services import tag_add

from ..errors import BadRequest, Forbidden, NotFound
from ..hal import HalResponse
from ..payload import (
    form_fields,
    get_dict,
    get_object,
    get_referral,
    get_str,
    get_str_list,
    linked_uuid,
)
from ..queries import api_attendances, api_events, api_people
from ..resources.events import (
    ATTENDANCE_FILTERS,
    EVENT_FIELD_NAMES,
    EVENT_FILTERS,
    answers_from,
    attendance_repr,
    attended_from,
    event_data_from_osdi,
    event_repr,
    guests_from,
    shifts_from,
)
from ..resources.people import person_data_from_form, person_data_from_osdi, person_from_link
from .base import CollectionMixin, Endpoint


def _events():
    """`api_events`, with the shifts and questions of a detailed event document."""
    return api_events().prefetch_related("shifts", "questions")


class EventsView(CollectionMixin, Endpoint):
    plural = "events"
    filters = EVENT_FILTERS

    def get(self, request):
        return self.render_collection(
            api_events(), lambda e: event_repr(e, self.links), path=("events",)
        )

    def post(self, request):
        """Create an event. Its host is the person linked as osdi:organizer, else the organizer
        who issued the key; a key behind which there is no person (made on the command line,
        or by an organizer without a supporter record) creates the organisation's own event,
        with no host and the organisation as its contact."""
        body = self.body()
        data = event_data_from_osdi(body)
        host = self._host(body)
        try:
            event = event_create(data=data, host=host, actor=self.actor)
        except ValidationError as exc:
            raise BadRequest.from_validation(exc, EVENT_FIELD_NAMES)
        except PermissionDenied as exc:
            raise Forbidden(str(exc) or "Not allowed.")
        event = _events().get(pk=event.pk)
        return HalResponse(event_repr(event, self.links, created=True, detail=True), status=201)

    def _host(self, body: dict[str, Any]) -> Person | None:
        found = linked_uuid(body, "osdi:organizer")
        if found is not None:
            host = Person.objects.filter(uuid=found).first()
            if host is None:
                raise NotFound(f"Couldn't find person with id = {found}.")
            return host
        if self.actor is not None:
            user = account_link_person(user=self.actor)
            if user.person_id:
                return user.person
        return None


class EventView(Endpoint):
    def get(self, request, event_id):
        event = get_object(_events(), event_id, noun="event")
        return HalResponse(event_repr(event, self.links, detail=True))

    def put(self, request, event_id):
        event = get_object(api_events(), event_id, noun="event")
        data = event_data_from_osdi(self.body(), base=EventData.from_event(event))
        try:
            event_update(event=event, data=data, actor=self.actor)
        except ValidationError as exc:
            raise BadRequest.from_validation(exc, EVENT_FIELD_NAMES)
        except PermissionDenied as exc:
            raise Forbidden(str(exc) or "Not allowed.")
        return HalResponse(event_repr(_events().get(pk=event.pk), self.links, detail=True))


class AttendancesView(CollectionMixin, Endpoint):
    """GET: an event's attendances. POST: the record attendance helper (keyless posts from
    embedded forms are allowed and answer {})."""

    plural = "attendances"
    filters = ATTENDANCE_FILTERS
    helper_methods = frozenset({"POST"})

    def get(self, request, event_id):
        event = get_object(api_events(), event_id, noun="event")
        return self.render_collection(
            api_attendances(event=event),
            lambda r: attendance_repr(r, self.links),
            path=("events", event.uuid, "attendances"),
        )

    def post(self, request, event_id):
        event = get_object(api_events(), event_id, noun="event")
        body = self.body()
        form = form_fields(body)
        person, person_data, tags = None, None, []
        shifts, answers = shifts_from(body), answers_from(body)
        if form is not None:
            person_data, tags = person_data_from_form(form)
            person_data.tags = tags
            comment = (form.get("comment") or "").strip()
            guests = guests_from({"guests": form.get("guests") or None})
            referral, _ = get_referral(
                {"referrer_data": {"referrer": form.get("ref"), "source": form.get("ch")}}
            )
            attended = False
        else:
            document = get_dict(body, "person")
            if document is not None:
                person_data = person_data_from_osdi(document)
                person_data.tags = get_str_list(body, "add_tags", max_length=100)
            else:
                person = person_from_link(body)
                if person is None:
                    raise BadRequest(
                        'Send the person as {"person": {...}} or link an existing one with '
                        '{"_links": {"osdi:person": {"href": ".../people/<id>"}}}.',
                        field="person",
                    )
                tags = get_str_list(body, "add_tags", max_length=100)
            comment = get_str(body, "comment", max_length=5000) or ""
            guests = guests_from(body)
            referral, _ = get_referral(body)
            attended = attended_from(body) and not self.anonymous
        try:
            # Written with the RSVPs arriving at the same moment (the write policy of
            # core.concurrency); Busy is answered by the endpoint with a 503.
            result = rsvp_record_together(
                event=event,
                person=person,
                person_data=person_data,
                guests=guests,
                comment=comment,
                referral=referral,
                attended=attended,
                source="api" if self.key else "embed",
                # A keyless post answers {}: the address's owner gets their links by email.
                resend_links=self.anonymous,
                shifts=shifts,
                answers=answers,
            )
        except ValidationError as exc:
            raise BadRequest.from_validation(
                exc,
                {
                    "email": "person.email_addresses",
                    "phone": "person.phone_numbers",
                    "guests": "rallypoint:guests",
                    "shifts": "rallypoint:shifts",
                    **{
                        f"q_{str(key).removeprefix('q_')}": f"rallypoint:answers.{key}"
                        for key in answers or {}
                    },
                },
            )
        if person is not None:
            for name in tags:
                tag_add(person=person, name=name, actor=self.actor)
        if self.anonymous:
            return self.helper_ok()
        created = result.created
        rsvp = api_attendances().get(pk=result.rsvp.pk)
        return HalResponse(
            attendance_repr(rsvp, self.links, created=created, detail=True),
            status=201 if created else 200,
        )


class AttendanceView(Endpoint):
    def get(self, request, event_id, attendance_id):
        event = get_object(api_events(), event_id, noun="event")
        rsvp = get_object(api_attendances(event=event), attendance_id, noun="attendance")
        return HalResponse(attendance_repr(rsvp, self.links, detail=True))


class PersonAttendancesView(CollectionMixin, Endpoint):
    plural = "attendances"
    filters = ATTENDANCE_FILTERS

    def get(self, request, person_id):
        person = get_object(api_people(), person_id, noun="person")
        return self.render_collection(
            api_attendances(person=person),
            lambda r: attendance_repr(r, self.links),
            path=("people", person.uuid, "attendances"),
        )
