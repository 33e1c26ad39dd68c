"""The API entry point (GET /api/v1) and the OpenAPI document. Both are open without a key:
they say what exists, never show any data."""

from django.conf import settings
from django.http import JsonResponse
from django.views.decorators.csrf import csrf_exempt

from ..errors import MethodNotAllowed
from ..hal import MAX_PAGE_SIZE, OSDI_VERSION, HalResponse, Links

# (relation, path) pairs the entry point links to. Resources register here as their tools land.
ENTRY_RELATIONS: list[tuple[str, str]] = [
    ("osdi:people", "people"),
    ("osdi:tags", "tags"),
    ("osdi:person_signup_helper", "people"),
    ("osdi:petitions", "petitions"),
    ("osdi:forms", "forms"),
    ("osdi:events", "events"),
    ("osdi:lists", "lists"),
    ("osdi:messages", "messages"),
]


@csrf_exempt
def entry_point(request):
    if request.method not in ("GET", "HEAD"):
        return MethodNotAllowed(f"{request.method} is not allowed here.").response()
    links = Links.for_request(request)
    brand = settings.RALLYPOINT_BRAND["name"]
    body_links = {"self": links.link(), "curies": links.curies()}
    for rel, path in ENTRY_RELATIONS:
        body_links[rel] = links.link(path)
    body_links["rallypoint:openapi"] = links.link("openapi.json")
    return HalResponse(
        {
            "motd": f"Welcome to the {brand} API. Send your key in the OSDI-API-Token header.",
            "max_pagesize": MAX_PAGE_SIZE,
            "vendor_name": "Rallypoint",
            "product_name": "Rallypoint",
            "osdi_version": OSDI_VERSION,
            "namespace": "rallypoint",
            "_links": body_links,
        }
    )


@csrf_exempt
def openapi_document(request):
    from ..openapi import build_document

    if request.method not in ("GET", "HEAD"):
        return MethodNotAllowed(f"{request.method} is not allowed here.").response()
    response = JsonResponse(build_document(request.build_absolute_uri("/api/v1")))
    response["Access-Control-Allow-Origin"] = "*"
    return response
