"""Fixed-window rate limits kept in the cache (shared across processes when REDIS_URL is set)."""

import time

from django.core.cache import cache


def client_ip(request) -> str:
    # Behind a proxy, set RALLYPOINT_TRUST_X_FORWARDED_FOR so the real client is counted.
    from django.conf import settings

    if getattr(settings, "TRUST_X_FORWARDED_FOR", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip()
    return request.META.get("REMOTE_ADDR", "") or "unknown"


def hit(key: str, *, limit: int, window: int) -> tuple[bool, int]:
    """Count one hit on `key`. Returns (allowed, seconds until the window resets)."""
    now = int(time.time())
    bucket = now - now % window
    cache_key = f"rl:{key}:{bucket}"
    cache.add(cache_key, 0, timeout=window + 1)
    try:
        count = cache.incr(cache_key)
    except ValueError:
        cache.set(cache_key, 1, timeout=window + 1)
        count = 1
    return count <= limit, bucket + window - now
