from . import (
    BOOLEAN,
    DATE_TIME,
    RESOURCE_BASE,
    STRING,
    Operation,
    Path,
    array,
    item_response,
    json_body,
    obj,
    ref,
)

INTEGER = {"type": "integer"}
LOCATION = obj(
    {
        "venue": STRING,
        "address_lines": array(STRING),
        "locality": STRING,
        "region": STRING,
        "postal_code": STRING,
        "country": STRING,
        "location": obj({"latitude": {"type": "number"}, "longitude": {"type": "number"}}),
    }
)
CONTACT = obj({"name": STRING, "email_address": STRING, "phone_number": STRING})
SHIFT = obj(
    {
        "id": INTEGER,
        "start_date": DATE_TIME,
        "end_date": DATE_TIME,
        "capacity": {"type": ["integer", "null"]},
        "total_accepted": INTEGER,
        "waitlist": BOOLEAN,
    }
)
QUESTION = obj(
    {"id": INTEGER, "label": STRING, "kind": STRING, "required": BOOLEAN, "choices": array(STRING)}
)

SCHEMAS = {
    "Event": obj(
        {
            **RESOURCE_BASE,
            "title": STRING,
            "name": STRING,
            "description": STRING,
            "instructions": STRING,
            "browser_url": STRING,
            "status": STRING,
            "visibility": STRING,
            "start_date": DATE_TIME,
            "end_date": DATE_TIME,
            "timezone_identifier": STRING,
            "capacity": {"type": ["integer", "null"]},
            "total_accepted": INTEGER,
            "location": LOCATION,
            "contact": CONTACT,
            "reminders": array(obj({"method": STRING, "minutes": INTEGER})),
            "rallypoint:shifts": array(SHIFT),
            "rallypoint:questions": array(QUESTION),
        },
        ["identifiers", "title", "start_date", "_links"],
    ),
    "EventInput": obj(
        {
            "title": STRING,
            "description": STRING,
            "instructions": STRING,
            "start_date": {"type": "string", "description": "ISO 8601; no offset: local time"},
            "end_date": {"type": "string", "description": "default: two hours after the start"},
            "timezone_identifier": STRING,
            "capacity": {"type": ["integer", "null"], "minimum": 1},
            "visibility": {"type": "string", "enum": ["public", "unlisted", "private"]},
            "status": {"type": "string", "enum": ["confirmed", "tentative"]},
            "location": LOCATION,
            "join_url": {
                "type": "string",
                "format": "uri",
                "maxLength": 500,
                "description": "http(s) only",
            },
            "contact": CONTACT,
            "reminders": array(obj({"method": STRING, "minutes": INTEGER})),
            "_links": obj(
                {"osdi:organizer": obj({"href": STRING}, ["href"])},
                description=(
                    "The host. Without it: the organizer who issued the key; a key with no "
                    "person behind it creates the organisation's own event (no host, the "
                    "organisation as contact)."
                ),
            ),
        },
        ["title", "start_date"],
    ),
    "Attendance": obj(
        {
            **RESOURCE_BASE,
            "status": STRING,
            "attended": BOOLEAN,
            "comment": STRING,
            "rallypoint:shifts": array(obj({"id": INTEGER, "status": STRING})),
            "rallypoint:answers": obj({}, description="Answers by question id"),
            "referrer_data": ref("ReferrerData"),
        },
        ["identifiers", "status", "_links"],
    ),
    "RecordAttendanceHelper": obj(
        {
            "person": ref("PersonInput"),
            "_links": obj({"osdi:person": obj({"href": STRING}, ["href"])}),
            "add_tags": array(STRING),
            "comment": STRING,
            "rallypoint:guests": {"type": "integer", "minimum": 0, "maximum": 10},
            "rallypoint:shifts": {
                **array(INTEGER),
                "description": "The ids of the shifts picked; required when the event has shifts",
            },
            "rallypoint:answers": obj(
                {}, description="Answers to the event's questions by question id"
            ),
            "attended": BOOLEAN,
            "referrer_data": ref("ReferrerData"),
            "action_network:referrer_data": ref("ReferrerData"),
        }
    ),
}

PATHS = [
    Path(
        "/events",
        "events",
        [
            Operation(
                "get",
                "List events",
                {"200": item_response("Event")},
                collection="events",
                filters=[
                    "created_date",
                    "modified_date",
                    "start_date",
                    "title",
                    "status",
                    "postal_code",
                    "region",
                ],
            ),
            Operation(
                "post",
                "Create an event",
                {"201": item_response("Event", "Created")},
                request=json_body(ref("EventInput")),
            ),
        ],
    ),
    Path(
        "/events/{event_id}",
        "events",
        [
            Operation("get", "Read an event", {"200": item_response("Event")}),
            Operation(
                "put",
                "Change an event (attendees are told when its time or place changes)",
                {"200": item_response("Event")},
                request=json_body(ref("EventInput")),
            ),
        ],
    ),
    Path(
        "/events/{event_id}/attendances",
        "events",
        [
            Operation(
                "get",
                "The event's attendances",
                {"200": item_response("Attendance")},
                collection="attendances",
                filters=["created_date", "modified_date"],
            ),
            Operation(
                "post",
                "Record attendance helper: RSVP (capacity and waitlist respected)",
                {
                    "200": item_response("Attendance", "Already going (or keyless: {})"),
                    "201": item_response("Attendance", "RSVP recorded"),
                },
                request=json_body(ref("RecordAttendanceHelper")),
                helper=True,
            ),
        ],
    ),
    Path(
        "/events/{event_id}/attendances/{attendance_id}",
        "events",
        [Operation("get", "Read an attendance", {"200": item_response("Attendance")})],
    ),
    Path(
        "/people/{person_id}/attendances",
        "events",
        [
            Operation(
                "get",
                "A person's attendances",
                {"200": item_response("Attendance")},
                collection="attendances",
                filters=["created_date", "modified_date"],
            )
        ],
    ),
]
