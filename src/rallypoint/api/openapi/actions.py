from ..resources.actions import FORMS, PETITIONS
from . import (
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

SCHEMAS = {
    "Petition": obj(
        {
            **RESOURCE_BASE,
            "title": STRING,
            "description": STRING,
            "petition_text": STRING,
            "target": array(obj({"name": STRING})),
            "total_signatures": {"type": "integer"},
            "browser_url": STRING,
        },
        ["identifiers", "title", "_links"],
    ),
    "PetitionInput": obj(
        {
            "title": STRING,
            "description": STRING,
            "summary": STRING,
            "petition_text": STRING,
            "target": array(obj({"name": STRING})),
        },
        ["title"],
    ),
    "Form": obj(
        {
            **RESOURCE_BASE,
            "title": STRING,
            "description": STRING,
            "total_submissions": {"type": "integer"},
            "browser_url": STRING,
        },
        ["identifiers", "title", "_links"],
    ),
    "FormInput": obj({"title": STRING, "description": STRING, "summary": STRING}, ["title"]),
    "Signature": obj(
        {**RESOURCE_BASE, "comments": STRING, "referrer_data": ref("ReferrerData")},
        ["identifiers", "_links"],
    ),
    "Submission": obj(
        {**RESOURCE_BASE, "comment": STRING, "referrer_data": ref("ReferrerData")},
        ["identifiers", "_links"],
    ),
    "RecordActionHelper": obj(
        {
            "person": ref("PersonInput"),
            "_links": obj({"osdi:person": obj({"href": STRING}, ["href"])}),
            "add_tags": array(STRING),
            "comments": STRING,
            "comment": STRING,
            "referrer_data": ref("ReferrerData"),
            "action_network:referrer_data": ref("ReferrerData"),
        },
        description="Send `person` (matched by email, then phone) or link an existing person.",
    ),
}


def _paths(r, item_schema: str, item_item_schema: str, input_schema: str) -> list[Path]:
    one = r.plural[:-1]
    return [
        Path(
            f"/{r.plural}",
            r.plural,
            [
                Operation(
                    "get",
                    f"List {r.plural}",
                    {"200": item_response(item_schema)},
                    collection=r.plural,
                    filters=["created_date", "modified_date", "title"],
                ),
                Operation(
                    "post",
                    f"Create a {one} (live at once)",
                    {"201": item_response(item_schema, "Created")},
                    request=json_body(ref(input_schema)),
                ),
            ],
        ),
        Path(
            f"/{r.plural}/{{action_id}}",
            r.plural,
            [
                Operation("get", f"Read a {one}", {"200": item_response(item_schema)}),
                Operation(
                    "put",
                    f"Change a {one}",
                    {"200": item_response(item_schema)},
                    request=json_body(ref(input_schema)),
                ),
            ],
        ),
        Path(
            f"/{r.plural}/{{action_id}}/{r.item_plural}",
            r.plural,
            [
                Operation(
                    "get",
                    f"The {one}'s {r.item_plural}",
                    {"200": item_response(item_item_schema)},
                    collection=r.item_plural,
                    filters=["created_date", "modified_date"],
                ),
                Operation(
                    "post",
                    f"Record {r.item} helper: match or create the person, record the act",
                    {
                        "200": item_response(item_item_schema, "Already recorded (or keyless: {})"),
                        "201": item_response(item_item_schema, "Recorded"),
                    },
                    request=json_body(ref("RecordActionHelper")),
                    helper=True,
                ),
            ],
        ),
        Path(
            f"/{r.plural}/{{action_id}}/{r.item_plural}/{{item_id}}",
            r.plural,
            [Operation("get", f"Read a {r.item}", {"200": item_response(item_item_schema)})],
        ),
        Path(
            f"/people/{{person_id}}/{r.item_plural}",
            r.plural,
            [
                Operation(
                    "get",
                    f"A person's {r.item_plural}",
                    {"200": item_response(item_item_schema)},
                    collection=r.item_plural,
                    filters=["created_date", "modified_date"],
                )
            ],
        ),
    ]


PATHS = [
    *_paths(PETITIONS, "Petition", "Signature", "PetitionInput"),
    *_paths(FORMS, "Form", "Submission", "FormInput"),
]
