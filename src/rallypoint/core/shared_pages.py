"""Anonymous copies of the busiest public pages, answered before the middleware stack runs.

The mission page is the page a campaign's whole audience opens at once, and to a visitor with
no session it is the same for everyone (see `mission.views.public`). Its view already renders
it at most once per few seconds, but each request still walks every middleware, resolves its
URL and copies the page out of the cache. `SharedPageMiddleware` sits first in MIDDLEWARE and
keeps the finished response of such a page (body and headers, exactly as the other middleware
left them) in this process's memory for `SHARED_PAGE_SECONDS` (1 s). A matching request within
that second gets a copy straight away.

A request is only ever answered from here when nothing about it can make the page personal:
a GET with no query string (so no `?ref=` share code to remember) and no session cookie (so no
login and no dashboard link). A response is only kept when the view marked it with `share()`,
answered 200 and sets no cookie.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.http import HttpResponse

SHARED_PAGE_SECONDS = 1.0
MAX_PAGES = 256  # per process; plenty for every live campaign's pages on every host name

_pages: dict[str, tuple[float, int, list[tuple[str, str]], bytes]] = {}


def share(response: HttpResponse) -> HttpResponse:
    """Mark a response as the same for every anonymous visitor of this URL."""
    response.shared_page = True
    return response


def _key(request) -> str | None:
    if request.method != "GET" or request.META.get("QUERY_STRING"):
        return None
    if settings.SESSION_COOKIE_NAME in request.COOKIES:
        return None
    return f"{request.get_host()}{request.path}"


def forget_all() -> None:
    _pages.clear()


class SharedPageMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        key = _key(request)
        if key is not None:
            entry = _pages.get(key)
            if entry is not None and entry[0] > time.monotonic():
                _, status, headers, body = entry
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
            if len(_pages) >= MAX_PAGES:
                _pages.clear()
            _pages[key] = (
                time.monotonic() + SHARED_PAGE_SECONDS,
                response.status_code,
                list(response.items()),
                response.content,
            )
        return response
