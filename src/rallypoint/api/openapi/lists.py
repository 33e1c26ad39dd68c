from . import RESOURCE_BASE, STRING, Operation, Path, item_response, obj

SCHEMAS = {
    "List": obj(
        {
            **RESOURCE_BASE,
            "name": STRING,
            "title": STRING,
            "description": STRING,
            "total_items": {"type": "integer"},
        },
        ["identifiers", "name", "_links"],
    ),
    "Item": obj({**RESOURCE_BASE, "item_type": STRING}, ["identifiers", "item_type", "_links"]),
}

PATHS = [
    Path(
        "/lists",
        "lists",
        [
            Operation(
                "get",
                "List the saved segments",
                {"200": item_response("List")},
                collection="lists",
                filters=["created_date", "modified_date", "name"],
            )
        ],
    ),
    Path(
        "/lists/{list_id}",
        "lists",
        [Operation("get", "Read a list, with its current size", {"200": item_response("List")})],
    ),
    Path(
        "/lists/{list_id}/items",
        "lists",
        [
            Operation(
                "get",
                "The people in the list now",
                {"200": item_response("Item")},
                collection="items",
                filters=["created_date", "modified_date"],
            )
        ],
    ),
    Path(
        "/lists/{list_id}/items/{item_id}",
        "lists",
        [Operation("get", "One person in the list", {"200": item_response("Item")})],
    ),
]
