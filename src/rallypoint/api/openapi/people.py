from . import (
    BOOLEAN,
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

FILTERS = [
    "created_date",
    "modified_date",
    "given_name",
    "family_name",
    "email_address",
    "postal_code",
    "region",
    "locality",
    "identifier",
]

SCHEMAS = {
    "Person": obj(
        {
            **RESOURCE_BASE,
            "given_name": STRING,
            "family_name": STRING,
            "additional_name": STRING,
            "honorific_prefix": STRING,
            "honorific_suffix": STRING,
            "languages_spoken": array(STRING),
            "custom_fields": {"type": "object", "additionalProperties": {"type": "string"}},
            "source": STRING,
            "email_addresses": array(
                obj(
                    {
                        "address": STRING,
                        "primary": BOOLEAN,
                        "address_type": STRING,
                        "status": STRING,
                    }
                )
            ),
            "phone_numbers": array(
                obj(
                    {
                        "number": STRING,
                        "primary": BOOLEAN,
                        "number_type": STRING,
                        "sms_capable": BOOLEAN,
                        "do_not_call": BOOLEAN,
                        "status": STRING,
                    }
                )
            ),
            "postal_addresses": array({"type": "object"}),
        },
        ["identifiers", "created_date", "modified_date", "_links"],
    ),
    "PersonSignupHelper": obj(
        {
            "person": ref("PersonInput"),
            "add_tags": array(STRING, description="tag names; unknown names are created"),
            "remove_tags": array(STRING),
        },
        ["person"],
    ),
}

PATHS = [
    Path(
        "/people",
        "people",
        [
            Operation(
                "get",
                "List people",
                {"200": item_response("Person")},
                collection="people",
                filters=FILTERS,
            ),
            Operation(
                "post",
                "Person signup helper: match by email, then phone; merge; add tags",
                {
                    "200": item_response("Person", "Matched an existing person and merged"),
                    "201": item_response("Person", "Created a new person"),
                },
                request=json_body(ref("PersonSignupHelper")),
                helper=True,
            ),
        ],
    ),
    Path(
        "/people/{person_id}",
        "people",
        [
            Operation("get", "Read a person", {"200": item_response("Person")}),
            Operation(
                "put",
                "Update a person (fields sent are changed; null clears a name)",
                {"200": item_response("Person")},
                request=json_body(ref("PersonInput")),
            ),
        ],
    ),
    Path(
        "/people/{person_id}/taggings",
        "tags",
        [
            Operation(
                "get",
                "A person's taggings",
                {"200": item_response("Tagging")},
                collection="taggings",
                filters=["created_date", "modified_date"],
            )
        ],
    ),
]
