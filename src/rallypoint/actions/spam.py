"""Spam resistance for public forms: per-IP rate limit and the signed token of embedded forms.

First-party pages are protected by Django's CSRF check. An embedded form lives in an iframe on
someone else's site, where browsers withhold our cookies, so it cannot carry a CSRF cookie: it is
exempt from the CSRF check and instead must return a signed, short-lived token rendered into the
iframe (proof that the form came from us, recently, for this action), an empty honeypot field,
and stay under the per-IP rate limit."""

from django.conf import settings
from django.core import signing

from rallypoint.core.ratelimit import client_ip, hit

EMBED_TOKEN_SALT = "rallypoint.actions.embed"
THANKS_TOKEN_SALT = "rallypoint.actions.thanks"
THANKS_TOKEN_MAX_AGE = 7 * 24 * 3600


def rate_limit() -> tuple[int, int]:
    """(submissions, seconds) from ACTION_RATE_LIMIT, e.g. "30/3600"; 0 submissions = no limit."""
    raw = str(getattr(settings, "ACTION_RATE_LIMIT", "30/3600"))
    try:
        count, _, window = raw.partition("/")
        return max(0, int(count)), max(1, int(window or 3600))
    except ValueError:
        return 30, 3600


def submission_allowed(request) -> tuple[bool, int]:
    """Count one public submission from this IP. Returns (allowed, seconds to wait)."""
    limit, window = rate_limit()
    if limit == 0:
        return True, 0
    return hit(f"actions:submit:{client_ip(request)}", limit=limit, window=window)


def embed_token(action_id: int) -> str:
    return signing.TimestampSigner(salt=EMBED_TOKEN_SALT).sign(str(action_id))


def embed_token_valid(token: str, action_id: int) -> bool:
    max_age = int(getattr(settings, "ACTION_EMBED_TOKEN_MAX_AGE", 2 * 3600))
    try:
        value = signing.TimestampSigner(salt=EMBED_TOKEN_SALT).unsign(token or "", max_age=max_age)
    except signing.BadSignature:
        return False
    return value == str(action_id)


def thanks_token(submission_id: int, *, name: str = "") -> str:
    """The thank-you page's signed token: the submission and the first name the visitor typed
    (the page greets them with it, never with what the record says, so typing someone else's
    address shows nothing of theirs and not whether they had signed)."""
    return signing.dumps({"s": submission_id, "n": name[:60]}, salt=THANKS_TOKEN_SALT)


def thanks_token_read(token: str) -> tuple[int, str] | None:
    try:
        data = signing.loads(token, salt=THANKS_TOKEN_SALT, max_age=THANKS_TOKEN_MAX_AGE)
        return int(data["s"]), str(data.get("n") or "")
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
