"""HAL+JSON in the OSDI dialect: responses, links, identifiers, dates."""

import json
import math
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpResponse

from rallypoint.core.outbox import utc_iso_seconds

MEDIA_TYPE = "application/hal+json"
VENDOR = "rallypoint"
OSDI_VERSION = "1.2.0"
MAX_PAGE_SIZE = 25


class HalResponse(HttpResponse):
    def __init__(self, data: Any, status: int = 200):
        super().__init__(
            json.dumps(data, ensure_ascii=False, separators=(",", ":")),
            status=status,
            content_type=f"{MEDIA_TYPE}; charset=utf-8",
        )


def osdi_date(value: datetime | None) -> str | None:
    """ISO 8601 in UTC to the second, as OSDI servers write it: 2014-03-20T21:04:31Z."""
    return utc_iso_seconds(value)


def identifiers(uuid: Any, foreign: list[str] | None = None) -> list[str]:
    """Ours first, then the Action Network alias (clients take the id from that prefix), then
    whatever other systems posted."""
    ours = [f"{VENDOR}:{uuid}"]
    if getattr(settings, "OSDI_ACTION_NETWORK_IDENTIFIERS", True):
        ours.append(f"action_network:{uuid}")
    return ours + [i for i in (foreign or []) if i not in ours]


def dates(obj: Any, *, created: bool = False) -> dict[str, str | None]:
    """created_date/modified_date; a record created by this request shows them equal."""
    created_at = getattr(obj, "created_at", None)
    modified_at = created_at if created else getattr(obj, "modified_at", created_at)
    return {"created_date": osdi_date(created_at), "modified_date": osdi_date(modified_at)}


class Links:
    """Absolute URLs under the API root of this request (or SITE_URL outside a request)."""

    def __init__(self, root: str):
        self.root = root.rstrip("/")

    @classmethod
    def for_request(cls, request) -> "Links":
        return cls(request.build_absolute_uri("/api/v1"))

    @classmethod
    def for_site(cls) -> "Links":
        return cls(f"{settings.SITE_URL}/api/v1")

    def url(self, *parts: Any, **params: Any) -> str:
        path = "/".join(str(p).strip("/") for p in parts if p not in (None, ""))
        href = f"{self.root}/{path}" if path else self.root
        query = {k: v for k, v in params.items() if v not in (None, "")}
        return f"{href}?{urlencode(query)}" if query else href

    def link(self, *parts: Any, **params: Any) -> dict[str, str]:
        return {"href": self.url(*parts, **params)}

    def curies(self) -> list[dict[str, Any]]:
        return [
            {
                "name": "osdi",
                "href": "https://opensupporter.github.io/osdi-docs/{rel}.html",
                "templated": True,
            },
            {"name": VENDOR, "href": f"{self.root}/openapi.json#{{rel}}", "templated": True},
        ]


def collection(
    *,
    links: Links,
    path: tuple[Any, ...],
    plural: str,
    items: list[dict[str, Any]],
    page: int,
    per_page: int,
    total: int,
    params: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A page of a collection: counts, self/next/previous links, and `_embedded` with exactly one
    `osdi:<plural>` key (present even when the list is empty)."""
    params = {k: v for k, v in (params or {}).items() if v}
    total_pages = math.ceil(total / per_page) if total else 0
    body_links: dict[str, Any] = {
        "self": links.link(*path, page=page, per_page=per_page, **params),
    }
    if page < total_pages:
        body_links["next"] = links.link(*path, page=page + 1, per_page=per_page, **params)
    if page > 1:
        previous = min(page - 1, max(total_pages, 1))
        body_links["previous"] = links.link(*path, page=previous, per_page=per_page, **params)
    body_links[f"osdi:{plural}"] = [{"href": item["_links"]["self"]["href"]} for item in items]
    body_links["curies"] = links.curies()
    return {
        "total_pages": total_pages,
        "per_page": per_page,
        "page": page,
        "total_records": total,
        "_links": body_links,
        "_embedded": {f"osdi:{plural}": items},
    }
