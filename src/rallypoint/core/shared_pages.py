"""Anonymous copies of the busiest public pages, answered before the middleware stack runs.

The mission page is the page a campaign's whole audience opens at once, and to a visitor with
no session it is the same for everyone (see `mission.views.public`). Its view already renders
it at most once per few seconds, but each request still walks every middleware, resolves its
URL and copies the page out of the cache. `SharedPageMiddleware` sits first in MIDDLEWARE and
keeps the finished response of such a page (body and headers, exactly as the other middleware
left them) as a cached value (`core.cache`, "core.shared-page") for `SHARED_PAGE_SECONDS`
(1 s). A matching request within that second gets a copy straight away.

A request is only ever answered from here when nothing about it can make the page personal:
a GET with no query string (so no `?ref=` share code to remember) and no session cookie (so no
login and no dashboard link). A response is only kept when the view marked it with `share()`,
answered 200 and sets no cookie.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpResponse

from .cache import CachedValue

SHARED_PAGE_SECONDS = 1.0

# (status, headers, body) of a finished response, by host and path: at most
# SHARED_PAGE_SECONDS old, and all forgotten at once when an organizer changes what a shared
# page shows (mission.queries.campaign_page_forget).
SHARED_PAGES: CachedValue[tuple[int, list[tuple[str, str]], bytes]] = CachedValue(
    "core.shared-page", fresh_for=SHARED_PAGE_SECONDS
)


def share(response: HttpResponse) -> HttpResponse:
    """Mark a response as the same for every anonymous visitor of this URL."""
    response.shared_page = True
    return response


def _key(request) -> str | None:
    if request.method != "GET" or request.META.get("QUERY_STRING"):
        return None
    if settings.SESSION_COOKIE_NAME in request.COOKIES:
        return None
    if settings.STATIC_URL and request.path.startswith(settings.STATIC_URL):
        return None  # WhiteNoise answers these; no need to ask the cache first
    return f"{request.get_host()}{request.path}"


class SharedPageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        key = _key(request)
        if key is not None:
            entry = SHARED_PAGES.peek(key=key)
            if entry is not None:
                status, headers, body = entry
                response = HttpResponse(body, status=status)
                for name, value in headers:
                    response[name] = value
                return response
        response = self.get_response(request)
        if (
            key is not None
            and getattr(response, "shared_page", False)
            and response.status_code == 200
            and not response.streaming
            and not response.cookies
        ):
            SHARED_PAGES.put(
                (response.status_code, list(response.items()), response.content), key=key
            )
        return response
