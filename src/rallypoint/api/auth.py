"""Who is calling: the API key from the OSDI-API-Token header (or ?osdi-api-token=), and the
per-key rate limit."""

from django.conf import settings

from rallypoint.core.ratelimit import client_ip, hit

from .errors import TooManyRequests, Unauthorized
from .models import ApiKey
from .queries import apikey_by_token
from .services import apikey_mark_used

HEADER = "HTTP_OSDI_API_TOKEN"
QUERY = "osdi-api-token"


def presented_token(request) -> str:
    return (request.META.get(HEADER) or request.GET.get(QUERY) or "").strip()


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
