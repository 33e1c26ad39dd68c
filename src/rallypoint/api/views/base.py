"""The shape every API endpoint shares: key check, rate limit, read-only enforcement, JSON body,
errors in OSDI's shape, lists with pagination and filters."""

from typing import Any

from django.db import DataError, IntegrityError
from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils.decorators import method_decorator
from django.views import View
from django.views.decorators.csrf import csrf_exempt

from rallypoint.core.concurrency import RETRY_AFTER_SECONDS, Busy

from ..auth import authenticate, throttle
from ..errors import (
    ApiError,
    BadRequest,
    Conflict,
    Forbidden,
    MethodNotAllowed,
    ServiceUnavailable,
)
from ..hal import HalResponse, Links, collection
from ..keyless import helper_body_check
from ..models import ApiKey
from ..odata import Field, FilterError, filter_q
from ..payload import page_params, query_check, read_body

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


@method_decorator(csrf_exempt, name="dispatch")
class Endpoint(View):
    """Subclasses define get/post/put/delete. `helper_methods` are open to keyless posts from
    embedded forms: they answer `{}` so nothing leaks, and take the Join page's fields plus the
    top-level `helper_fields` of their route (keyless.helper_body_check)."""

    http_method_names = ["get", "post", "put", "delete", "head", "options"]
    helper_methods: frozenset[str] = frozenset()
    helper_fields: frozenset[str] = frozenset()
    key: ApiKey | None
    links: Links

    def dispatch(self, request, *args, **kwargs):
        self.links = Links.for_request(request)
        self.key = None
        method = request.method.upper()
        try:
            if method == "OPTIONS" and self.helper_methods:
                return self._cors(HttpResponse(status=204), preflight=True)
            self.key = authenticate(request, allow_anonymous=method in self.helper_methods)
            query_check(request.GET)
            throttle(request, self.key)
            handler = getattr(self, method.lower(), None)
            if method.lower() not in self.http_method_names or handler is None:
                raise MethodNotAllowed(f"{method} is not allowed here.")
            if method not in SAFE_METHODS and self.key is not None and not self.key.can_write:
                raise Forbidden("This API key is read-only: ask an organizer for a read-write key.")
            response = handler(request, *args, **kwargs)
        except ApiError as exc:
            response = exc.response()
        except (DataError, OverflowError) as exc:
            # Values the database refuses (out-of-range numbers and the like) are the client's.
            response = BadRequest(f"A value is out of range: {exc}").response()
        except IntegrityError:
            response = Conflict("This conflicts with a record that already exists.").response()
        except Busy:  # a write waited too long for its turn (core.concurrency): nothing written
            response = ServiceUnavailable(
                "Too many writes at once: try again shortly.",
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            ).response()
        if self.key is None and self.helper_methods:
            self._cors(response)
        return response

    def _cors(self, response, *, preflight: bool = False):
        # Keyless helpers are meant to be posted from other sites; they never return data.
        response["Access-Control-Allow-Origin"] = "*"
        if preflight:
            response["Access-Control-Allow-Methods"] = ", ".join(sorted(self.helper_methods))
            response["Access-Control-Allow-Headers"] = "Content-Type"
            response["Access-Control-Max-Age"] = "86400"
        return response

    @property
    def anonymous(self) -> bool:
        return self.key is None

    @property
    def actor(self):
        """Whom the audit log names for a write: the organizer who issued the key."""
        return self.key.created_by if self.key is not None else None

    def body(self) -> dict[str, Any]:
        """The request's JSON object (or form fields), checked for text no database stores;
        for a keyless helper post, also for fields only a key may send."""
        body = read_body(self.request)
        if self.key is None and self.request.method.upper() in self.helper_methods:
            helper_body_check(body, extra=self.helper_fields)
        return body

    def helper_ok(self) -> HalResponse:
        return HalResponse({}, status=200)


class CollectionMixin:
    """A paginated, filterable list rendered as an OSDI collection."""

    plural: str = ""
    filters: dict[str, Field] = {}

    def filtered(self, queryset: QuerySet) -> QuerySet:
        text = self.request.GET.get("filter")
        if text is None or not text.strip():
            return queryset
        try:
            return queryset.filter(filter_q(text, self.filters))
        except FilterError as exc:
            raise BadRequest(f"filter: {exc}", field="filter")

    def render_collection(
        self, queryset: QuerySet, render, *, path: tuple[Any, ...]
    ) -> HalResponse:
        page, per_page = page_params(self.request)
        queryset = self.filtered(queryset)
        total = queryset.count()
        start = (page - 1) * per_page
        rows = list(queryset[start : start + per_page]) if start < total else []
        items = [render(row) for row in rows]
        params = {"filter": self.request.GET.get("filter", "")}
        return HalResponse(
            collection(
                links=self.links,
                path=path,
                plural=self.plural,
                items=items,
                page=page,
                per_page=per_page,
                total=total,
                params=params,
            )
        )
