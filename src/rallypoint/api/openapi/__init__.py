"""The OpenAPI 3 description of /api/v1, assembled from one module per resource (SCHEMAS, PATHS),
for the same resources the URLs serve. Paths are written without a trailing slash; the API
accepts both."""

import re
from dataclasses import dataclass, field
from typing import Any

from ..hal import MAX_PAGE_SIZE, OSDI_VERSION

STRING = {"type": "string"}
NULLABLE_STRING = {"type": ["string", "null"]}
BOOLEAN = {"type": "boolean"}
DATE_TIME = {"type": "string", "format": "date-time"}
LINK = {
    "type": "object",
    "properties": {"href": {"type": "string"}},
    "required": ["href"],
}
LINKS = {"type": "object", "additionalProperties": True}


def obj(properties: dict[str, Any], required: list[str] | None = None, **extra: Any) -> dict:
    schema: dict[str, Any] = {"type": "object", "properties": properties, **extra}
    if required:
        schema["required"] = required
    return schema


def array(items: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "array", "items": items, **extra}


def ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


RESOURCE_BASE = {
    "identifiers": array(STRING),
    "created_date": DATE_TIME,
    "modified_date": DATE_TIME,
    "_links": LINKS,
}

REFERRER_DATA = obj(
    {
        "source": STRING,
        "referrer": {"type": "string", "description": "a person's share code"},
        "website": STRING,
        "url": STRING,
    }
)

PERSON_INPUT = obj(
    {
        "given_name": NULLABLE_STRING,
        "family_name": NULLABLE_STRING,
        "additional_name": NULLABLE_STRING,
        "honorific_prefix": NULLABLE_STRING,
        "honorific_suffix": NULLABLE_STRING,
        "source": NULLABLE_STRING,
        "identifiers": array(STRING),
        "languages_spoken": array(STRING),
        "custom_fields": {"type": "object", "additionalProperties": {"type": "string"}},
        "email_addresses": array(
            obj(
                {
                    "address": STRING,
                    "primary": BOOLEAN,
                    "status": {
                        "type": "string",
                        "enum": [
                            "subscribed",
                            "unsubscribed",
                            "bouncing",
                            "previous bounce",
                            "spam complaint",
                            "previous spam complaint",
                        ],
                    },
                }
            )
        ),
        "phone_numbers": array(
            obj(
                {
                    "number": {"type": "string", "description": "digits with the country code"},
                    "primary": BOOLEAN,
                    "number_type": STRING,
                    "status": {"type": "string", "enum": ["subscribed", "unsubscribed"]},
                }
            )
        ),
        "postal_addresses": array(
            obj(
                {
                    "primary": BOOLEAN,
                    "address_lines": array(STRING),
                    "locality": STRING,
                    "region": STRING,
                    "postal_code": STRING,
                    "country": {"type": "string", "description": "ISO 3166-1 alpha-2"},
                    "location": obj(
                        {"latitude": {"type": "number"}, "longitude": {"type": "number"}}
                    ),
                }
            )
        ),
    }
)

ERROR = obj(
    {
        "osdi:error": obj(
            {
                "response_code": {"type": "integer"},
                "reason": STRING,
                "description": STRING,
                "errors": array(obj({"field": STRING, "description": STRING})),
            },
            ["response_code", "reason"],
        ),
        "error": STRING,
    },
    ["osdi:error", "error"],
)


@dataclass
class Operation:
    method: str
    summary: str
    responses: dict[str, Any]
    request: dict[str, Any] | None = None
    collection: str | None = None  # the osdi plural when this is a paginated list
    filters: list[str] = field(default_factory=list)
    helper: bool = False  # may be posted without a key; then answers {}
    public: bool = False
    query: list[dict[str, Any]] = field(default_factory=list)  # query parameters it reads


@dataclass
class Path:
    path: str
    tag: str
    operations: list[Operation]


BASE_SCHEMAS: dict[str, Any] = {
    "Error": ERROR,
    "ReferrerData": REFERRER_DATA,
    "PersonInput": PERSON_INPUT,
}


def item_response(schema: str, description: str = "OK") -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/hal+json": {"schema": ref(schema)}},
    }


def json_body(schema: dict[str, Any]) -> dict[str, Any]:
    return {"required": True, "content": {"application/json": {"schema": schema}}}


def _collection_schema(plural: str, item: str) -> dict[str, Any]:
    return obj(
        {
            "total_pages": {"type": "integer"},
            "per_page": {"type": "integer"},
            "page": {"type": "integer"},
            "total_records": {"type": "integer"},
            "_links": LINKS,
            "_embedded": obj({f"osdi:{plural}": array(ref(item))}, [f"osdi:{plural}"]),
        },
        ["total_pages", "per_page", "page", "total_records", "_links", "_embedded"],
    )


def _error(description: str) -> dict[str, Any]:
    return {
        "description": description,
        "content": {"application/hal+json": {"schema": ref("Error")}},
    }


def _operation(path: Path, op: Operation, responses: dict[str, Any]) -> dict[str, Any]:
    parameters: list[dict[str, Any]] = []
    if op.collection:
        parameters += [
            {"name": "page", "in": "query", "schema": {"type": "integer", "minimum": 1}},
            {
                "name": "per_page",
                "in": "query",
                "schema": {"type": "integer", "minimum": 1, "maximum": MAX_PAGE_SIZE},
            },
            {
                "name": "filter",
                "in": "query",
                "description": "OData subset: eq ne gt ge lt le and or, strings in single "
                f"quotes. Fields: {', '.join(op.filters)}.",
                "schema": {"type": "string"},
                "example": "modified_date gt '2024-01-01'",
            },
        ]
    parameters += op.query
    if not op.public:
        responses.setdefault("400", _error("Invalid request: the error names the field"))
        responses.setdefault("401", _error("Missing, wrong or revoked key"))
        responses.setdefault("429", _error("Rate limit reached; see Retry-After"))
        if op.method != "get":
            responses.setdefault("403", _error("The key is read-only"))
            responses.setdefault("413", _error("Body too large"))
        if "{" in path.path or op.method != "get":
            responses.setdefault("404", _error("No such record"))
        responses.setdefault("405", _error("Method not allowed"))
        responses.setdefault("409", _error("Conflicts with an existing record"))
    document: dict[str, Any] = {
        "summary": op.summary,
        "tags": [path.tag],
        "operationId": op.method + re.sub(r"[^a-z_]+", "_", path.path).rstrip("_"),
        "responses": responses,
    }
    if parameters:
        document["parameters"] = parameters
    if op.request is not None:
        document["requestBody"] = op.request
    if op.public:
        document["security"] = []
    elif op.helper:
        document["security"] = [{"osdiApiToken": []}, {"bearerToken": []}, {}]
        document["description"] = (
            "May be posted without a key (embedded forms); it then takes the Join page's fields "
            "only (person names, email, phone with SMS consent, postal code and country, "
            "referrer_data; comments, comment or guests where the route has them), answers 400 "
            "naming any other field, and answers 200 with {}."
        )
    return document


def _sections() -> list[Any]:
    """The modules that describe each resource; a resource whose tool is not installed is left
    out of the document exactly as it is left out of the URLs."""
    from importlib import import_module

    from ..registry import available_sections

    return [import_module(f"{__name__}.{name}") for name in available_sections()]


def build_document(server_url: str) -> dict[str, Any]:
    paths: dict[str, Any] = {}
    schemas = dict(BASE_SCHEMAS)
    for section in _sections():
        schemas.update(section.SCHEMAS)
        for entry in section.PATHS:
            item: dict[str, Any] = {}
            parameters = [
                {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                for name in re.findall(r"{(\w+)}", entry.path)
            ]
            if parameters:
                item["parameters"] = parameters
            for op in entry.operations:
                responses = dict(op.responses)
                if op.collection:
                    item_name = responses["200"]["content"]["application/hal+json"]["schema"][
                        "$ref"
                    ].split("/")[-1]
                    name = f"{item_name}Collection"
                    schemas[name] = _collection_schema(op.collection, item_name)
                    responses["200"] = {
                        "description": "One page of the collection",
                        "content": {"application/hal+json": {"schema": ref(name)}},
                    }
                item[op.method] = _operation(entry, op, responses)
            paths[entry.path] = item
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Rallypoint OSDI API",
            "version": "1",
            "description": (
                f"HAL+JSON in the OSDI {OSDI_VERSION} dialect. Send your key in the "
                "OSDI-API-Token header (or Authorization: Bearer); a key in the query string "
                "is refused. Lists take page, per_page (at most "
                f"{MAX_PAGE_SIZE}) and filter. Every path also answers with a trailing slash."
            ),
        },
        "servers": [{"url": server_url}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {
                "osdiApiToken": {"type": "apiKey", "in": "header", "name": "OSDI-API-Token"},
                "bearerToken": {"type": "http", "scheme": "bearer"},
            },
        },
        "security": [{"osdiApiToken": []}, {"bearerToken": []}],
    }
