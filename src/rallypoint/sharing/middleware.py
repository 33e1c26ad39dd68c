import logging

from django.conf import settings
from django.db import DatabaseError
from django.utils.cache import patch_cache_control

from rallypoint.people.referral import OWN_CODE_SESSION_KEY

from .referral import (
    COOKIE_NAME,
    COOKIE_SALT,
    cookie_value,
    from_cookie,
    from_query,
    referral_max_age,
)
from .services import share_visit_record


class ReferralMiddleware:
    """Remembers ?ref=CODE (&ch=channel) in a signed cookie: first touch within the cookie's
    lifetime wins, unless REFERRAL_ATTRIBUTION=last. Sets request.referral for the tools."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        stored = from_cookie(request)
        if stored is not None and _is_own_code(request, stored.code, session_only=True):
            stored = None
        incoming = from_query(request.GET) if request.method == "GET" else None
        if incoming is not None and _is_own_code(request, incoming.code):
            # Someone opening their own share link must not lock out a friend's referral.
            incoming = None
        last_touch = getattr(settings, "REFERRAL_ATTRIBUTION", "first") == "last"
        keep_new = incoming is not None and (stored is None or (last_touch and incoming != stored))
        request.referral = incoming if keep_new else (stored or incoming)
        response = self.get_response(request)
        if incoming is not None and incoming != stored and response.status_code == 200:
            # A browser's first arrival through this link (reloads and later pages, which carry
            # the cookie, are not counted again): the denominator of conversion rates.
            _visit_count(incoming, request.path)
        if keep_new:
            response.set_signed_cookie(
                COOKIE_NAME,
                cookie_value(incoming),
                salt=COOKIE_SALT,
                max_age=referral_max_age(),
                httponly=True,
                samesite="Lax",
                secure=request.is_secure(),
            )
            # This visitor's cookie must never be handed to others by a shared cache.
            patch_cache_control(response, private=True)
        return response


def _is_own_code(request, code: str, *, session_only: bool = False) -> bool:
    """Is `code` the visitor's own? Known from a dashboard session, or (costing one query,
    so only for an incoming ?ref=) from the logged-in account's person."""
    session = getattr(request, "session", None)
    if session is not None and session.get(OWN_CODE_SESSION_KEY) == code:
        return True
    if session_only:
        return False
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.person_id:
        return user.person.share_code == code
    return False


logger = logging.getLogger(__name__)


def _visit_count(referral, path: str) -> None:
    try:
        share_visit_record(code=referral.code, channel=referral.channel, path=path)
    except DatabaseError:  # a visit that could not be counted never breaks the page
        logger.warning("A share-link visit was not counted.", exc_info=True)
