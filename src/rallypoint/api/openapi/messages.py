from . import (
    DATE_TIME,
    LINK,
    NULLABLE_STRING,
    RESOURCE_BASE,
    STRING,
    Operation,
    Path,
    array,
    item_response,
    json_body,
    obj,
)

INTEGER = {"type": "integer"}
NULLABLE_DATE_TIME = {"type": ["string", "null"], "format": "date-time"}
STATUS = {
    "type": "string",
    "enum": ["draft", "calculating", "scheduled", "sending", "stopped", "sent"],
}

SCHEMAS = {
    "Message": obj(
        {
            **RESOURCE_BASE,
            "name": STRING,
            "subject": STRING,
            "body": {"type": "string", "description": "HTML (sanitised)"},
            "from": {"type": "string", "description": '"Name <address>"'},
            "reply_to": STRING,
            "type": {"type": "string", "enum": ["email"]},
            "targets": array(LINK),
            "total_targeted": {
                "type": ["integer", "null"],
                "description": "people it goes to after suppression (known once sending starts)",
            },
            "status": STATUS,
            "sent_start_date": NULLABLE_DATE_TIME,
            "sent_end_date": NULLABLE_DATE_TIME,
            "scheduled_start_date": NULLABLE_DATE_TIME,
            "statistics": obj(
                dict.fromkeys(
                    (
                        "sent",
                        "opened",
                        "clicked",
                        "actions",
                        "forwards",
                        "unsubscribed",
                        "bounced",
                        "spam_reports",
                    ),
                    INTEGER,
                )
            ),
            "browser_url": STRING,
        },
        ["identifiers", "name", "status", "_links"],
    ),
    "MessageInput": obj(
        {
            "name": STRING,
            "subject": STRING,
            "body": STRING,
            "from": {
                "type": "string",
                "description": "one of the verified sender addresses (MAILING_FROM_ADDRESSES)",
            },
            "reply_to": NULLABLE_STRING,
            "type": {"type": "string", "enum": ["email"]},
            "targets": array(LINK, description="lists (segments) to send to"),
        }
    ),
    "ScheduleInput": obj({"scheduled_start_date": DATE_TIME}, ["scheduled_start_date"]),
}

PATHS = [
    Path(
        "/messages",
        "messages",
        [
            Operation(
                "get",
                "List email messages (mailings)",
                {"200": item_response("Message")},
                collection="messages",
                filters=["created_date", "modified_date", "name", "subject"],
            ),
            Operation(
                "post",
                "Create a draft email message",
                {"201": item_response("Message", "Created")},
                request=json_body({"$ref": "#/components/schemas/MessageInput"}),
            ),
        ],
    ),
    Path(
        "/messages/{message_id}",
        "messages",
        [
            Operation(
                "get", "Read a message with its statistics", {"200": item_response("Message")}
            ),
            Operation(
                "put",
                "Change a draft (only the fields sent)",
                {"200": item_response("Message")},
                request=json_body({"$ref": "#/components/schemas/MessageInput"}),
            ),
        ],
    ),
    Path(
        "/messages/{message_id}/send",
        "messages",
        [Operation("post", "The send helper: send now", {"200": item_response("Message")})],
    ),
    Path(
        "/messages/{message_id}/schedule",
        "messages",
        [
            Operation(
                "post",
                "The schedule helper: send at scheduled_start_date",
                {"200": item_response("Message")},
                request=json_body({"$ref": "#/components/schemas/ScheduleInput"}),
            )
        ],
    ),
]
