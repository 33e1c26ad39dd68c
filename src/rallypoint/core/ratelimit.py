"""Fixed-window rate limits kept in the cache (shared across processes when REDIS_URL is set)."""

import ipaddress
import time

from django.core.cache import cache

# An IPv6 user is handed a whole /64 (often more): counting single addresses would give each
# visitor 2**64 fresh limits. One IPv4 address, one IPv6 /64.
IPV6_PREFIX = 64


def client_ip(request) -> str:
    """The address rate limits count for this request.

    With TRUSTED_PROXY_COUNT = 0 (the default) it is the peer of the connection
    (REMOTE_ADDR). Behind N reverse proxies that each append the address they received the
    request from to X-Forwarded-For, the client is the N-th entry from the right: whatever
    stands to the left of it was written by the client and is not looked at. A header with
    fewer entries than proxies, or an entry that is not an address, falls back to REMOTE_ADDR
    (the nearest proxy: one shared count, never one the client chooses)."""
    from django.conf import settings

    remote = _address(request.META.get("REMOTE_ADDR", ""))
    proxies = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if proxies > 0:
        hops = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
        if len(hops) >= proxies and (forwarded := _address(hops[-proxies])) is not None:
            return _counted(forwarded)
    return _counted(remote) if remote is not None else "unknown"


def _address(raw: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An address as proxies write it: `203.0.113.7`, `203.0.113.7:5123`, `2001:db8::1`,
    `[2001:db8::1]:5123`, IPv4 mapped into IPv6. None for anything else."""
    text = raw.strip()
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:
        text = text.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _counted(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str:
    if isinstance(address, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((address, IPV6_PREFIX), strict=False))
    return str(address)


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
