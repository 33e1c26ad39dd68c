"""Briefly cached reads that stay fast under load.

A plain cache entry that expires every few seconds lets every request that arrives in the
same instant recompute it together (a stampede): on a busy mission page that is dozens of
identical aggregates at once. Here an entry keeps its value past its freshness; when it goes
stale, one caller (holding a short lock in the cache) recomputes it while the others keep
serving the stale value for those few milliseconds.
"""

import time
from collections.abc import Callable
from typing import TypeVar

from django.core.cache import cache

T = TypeVar("T")
KEEP_STALE_FOR = 300  # seconds a stale value may still be served while one caller refreshes
LOCK_SECONDS = 30


def cached(key: str, fresh_for: float, compute: Callable[[], T], *, use_cache: bool = True) -> T:
    """`compute()`'s value, at most `fresh_for` seconds old (a little older while another
    caller is recomputing it)."""
    if not use_cache:
        return compute()
    entry = cache.get(key)
    now = time.time()
    if entry is not None:
        value, fresh_until = entry
        if now < fresh_until or not cache.add(f"{key}:lock", 1, timeout=LOCK_SECONDS):
            return value
    try:
        value = compute()
        cache.set(key, (value, time.time() + fresh_for), timeout=fresh_for + KEEP_STALE_FOR)
    finally:
        if entry is not None:
            cache.delete(f"{key}:lock")
    return value
