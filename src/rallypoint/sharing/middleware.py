from django.conf import settings

from .referral import (
    COOKIE_NAME,
    COOKIE_SALT,
    cookie_value,
    from_cookie,
    from_query,
    referral_max_age,
)


class ReferralMiddleware:
    """Remembers ?ref=CODE (&ch=channel) in a signed cookie: first touch within the cookie's
    lifetime wins, unless REFERRAL_ATTRIBUTION=last. Sets request.referral for the tools."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        stored = from_cookie(request)
        incoming = from_query(request.GET) if request.method == "GET" else None
        last_touch = getattr(settings, "REFERRAL_ATTRIBUTION", "first") == "last"
        keep_new = incoming is not None and (stored is None or (last_touch and incoming != stored))
        request.referral = incoming if keep_new else (stored or incoming)
        response = self.get_response(request)
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
        return response
