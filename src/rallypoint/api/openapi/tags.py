from . import RESOURCE_BASE, STRING, Operation, Path, item_response, json_body, obj

SCHEMAS = {
    "Tag": obj({**RESOURCE_BASE, "name": STRING}, ["identifiers", "name", "_links"]),
    "Tagging": obj({**RESOURCE_BASE, "item_type": STRING}, ["identifiers", "_links"]),
    "TagInput": obj({"name": STRING}, ["name"]),
    "TaggingInput": obj(
        {
            "_links": obj(
                {"osdi:person": obj({"href": STRING}, ["href"])},
                ["osdi:person"],
            )
        },
        ["_links"],
    ),
}

PATHS = [
    Path(
        "/tags",
        "tags",
        [
            Operation(
                "get",
                "List tags",
                {"200": item_response("Tag")},
                collection="tags",
                filters=["created_date", "modified_date", "name"],
            ),
            Operation(
                "post",
                "Create a tag (an existing name answers 200 with that tag)",
                {"200": item_response("Tag"), "201": item_response("Tag", "Created")},
                request=json_body({"$ref": "#/components/schemas/TagInput"}),
            ),
        ],
    ),
    Path("/tags/{tag_id}", "tags", [Operation("get", "Read a tag", {"200": item_response("Tag")})]),
    Path(
        "/tags/{tag_id}/taggings",
        "tags",
        [
            Operation(
                "get",
                "People with this tag",
                {"200": item_response("Tagging")},
                collection="taggings",
                filters=["created_date", "modified_date"],
            ),
            Operation(
                "post",
                "Tag a person (link osdi:person)",
                {"200": item_response("Tagging"), "201": item_response("Tagging", "Created")},
                request=json_body({"$ref": "#/components/schemas/TaggingInput"}),
            ),
        ],
    ),
    Path(
        "/tags/{tag_id}/taggings/{tagging_id}",
        "tags",
        [
            Operation("get", "Read a tagging", {"200": item_response("Tagging")}),
            Operation(
                "delete", "Remove the tag from the person", {"204": {"description": "Deleted"}}
            ),
        ],
    ),
]
