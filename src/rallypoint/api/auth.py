"""Who is calling: the API key from the OSDI-API-Token header (or `Authorization: Bearer`), and
the per-key rate limit. A key is never taken from the URL: URLs are written to access logs,
proxy logs and browser histories."""

from django.conf import settings

from rallypoint.core.ratelimit import client_ip, hit

from .errors import BadRequest, TooManyRequests, Unauthorized
from .models import ApiKey
from .queries import apikey_by_token
from .services import apikey_mark_used

HEADER = "HTTP_OSDI_API_TOKEN"
AUTHORIZATION = "HTTP_AUTHORIZATION"
AUTHORIZATION_SCHEMES = ("bearer", "token")
# Query parameters clients put keys in (the OSDI spelling once accepted here, and the usual
# others): refused, never read, so a key in a URL fails loudly instead of leaking quietly.
QUERY_NAMES = (
    "osdi-api-token",
    "osdi_api_token",
    "api_key",
    "api-key",
    "apikey",
    "api_token",
    "token",
    "access_token",
    "auth_token",
)


def presented_token(request) -> str:
    """The key from the OSDI-API-Token header, else from `Authorization: Bearer <key>` (or
    `Token <key>`). Another Authorization scheme (a proxy's Basic login) is not ours: ignored."""
    for name in QUERY_NAMES:
        if name in request.GET:
            raise BadRequest(
                "Send your API key in the OSDI-API-Token header (or Authorization: Bearer …), "
                f"never in the URL: the {name} query parameter is refused. A key sent in a URL "
                "may be in logs: an organizer can revoke it and make a new one.",
                field=name,
            )
    token = (request.META.get(HEADER) or "").strip()
    if token:
        return token
    scheme, _, credentials = (request.META.get(AUTHORIZATION) or "").strip().partition(" ")
    if scheme.lower() in AUTHORIZATION_SCHEMES:
        return credentials.strip()
    return ""


def authenticate(request, *, allow_anonymous: bool) -> ApiKey | None:
    """The active key the request presents. No key at all is allowed only where
    `allow_anonymous` (helpers posted by embedded forms); a wrong or revoked key never is."""
    token = presented_token(request)
    if not token:
        if allow_anonymous:
            return None
        raise Unauthorized("Send your API key in the OSDI-API-Token header.")
    key = apikey_by_token(token)
    if key is None:
        raise Unauthorized(
            "This API key is not valid. Check it, or ask an organizer for a new one."
        )
    if not key.is_active:
        raise Unauthorized("This API key has been revoked. Ask an organizer for a new one.")
    apikey_mark_used(key=key)
    return key


def throttle(request, key: ApiKey | None) -> None:
    """Count the request against its key (or, without a key, against the caller's address)."""
    window = int(getattr(settings, "API_RATE_WINDOW", 60))
    if key is not None:
        allowed, retry_after = hit(
            f"api:key:{key.pk}", limit=int(getattr(settings, "API_RATE_LIMIT", 240)), window=window
        )
    else:
        allowed, retry_after = hit(
            f"api:ip:{client_ip(request)}",
            limit=int(getattr(settings, "API_HELPER_RATE_LIMIT", 30)),
            window=window,
        )
    if not allowed:
        raise TooManyRequests(
            f"Too many requests. Try again in {retry_after} seconds.",
            headers={"Retry-After": str(max(retry_after, 1))},
        )
