"""The one way a value is cached: a named value with a freshness and a generation.

The rule
--------
What is cached: only reads that are the same for everyone allowed to see them and that many
requests share: what public pages show to anonymous visitors (the rendered mission page and
its live fragment, the finished response of a shared page), public counts and aggregates over
the ledger (goal progress, the activity feed, the leaderboard, "ways to help", a petition's
count) and the public action behind /act/<slug>/. Nothing personal is cached, and organizer
pages read the database (`use_cache=False`). A `None` answer (nothing found) is never kept,
so a page that starts to exist shows at once.

For how long: each value is declared once, at module level, as
`CachedValue("app.what", fresh_for=seconds)`. `fresh_for` is how far behind the database a
number on a public page may be when nothing forgets it (1 to 30 s; organizer-only aggregates
over the whole ledger, such as the insights pages, up to a few minutes). When it has passed, one
caller recomputes the value while the others keep getting the previous one (for at most
`STALE_SECONDS`), so a busy page never runs the same aggregate many times at once.

How it is invalidated: a write that changes what a value shows calls `value.forget(scope)`
once it has committed (`transaction.on_commit`, or after the service returns). Every scope
(an action's id, a campaign's slug, or "" for a whole value) has a generation token in the
cache; forgetting replaces the token. An entry remembers the token it was computed under and
is only served under that token, so every process stops serving it at the same moment (with
Redis), and a computation that started before the write cannot store an old answer under the
new token. Values that nobody forgets simply age out after `fresh_for`.

The values there are (name: scope, fresh_for, what forgets it):

    core.shared-page    host + path     1 s   any campaign change (all copies at once)
    mission.page        campaign slug   5 s   a change to the campaign or its goals
    mission.ways        campaign id     5 s   a change to the campaign or its goals
    mission.progress    goal set        5 s   nothing (a changed goal makes a new key)
    ledger.feed         campaign id     5 s   nothing
    ledger.leaderboard  campaign id    30 s   nothing
    actions.page        action slug     5 s   a change to the action or its questions
    actions.count       action id       5 s   a new counted signature, an organizer's edit
    webhooks.active-hooks  ""          30 s   a hook created, edited, switched on or off, deleted
    insights.spread     campaign + window 120 s  nothing (organizers' aggregate over the ledger)
    insights.pages      page + campaign + window 120 s  nothing

A forgotten value is never served stale: the next caller computes it.

Where: Django's default cache (LocMemCache per process in the embedded setup, Redis shared by
every process at scale), under keys "rp:<name>:<scope>…". Nothing lives in module globals:
clearing the cache (as the test suite does between tests) forgets everything.

Not covered, on purpose: memos of pure functions (`functools.lru_cache` over answers that
never change for the same arguments, such as time zone rules or postal-code data), and state
kept in the cache that is not a copy of anything (rate-limit counters, one-shot flags).
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from django.core.cache import cache

T = TypeVar("T")

STALE_SECONDS = 300  # how long a stale entry may still be served while one caller refreshes
LOCK_SECONDS = 30  # a refresh that takes longer than this lets another caller try


class CachedValue(Generic[T]):
    """A named, briefly cached value (see the module docstring for the rule)."""

    def __init__(self, name: str, *, fresh_for: float) -> None:
        self.name = name
        self.fresh_for = fresh_for

    def _keys(self, scope: Hashable, key: Hashable) -> tuple[str, str]:
        base = f"rp:{self.name}:{_key_part(scope)}"
        return f"{base}:generation", f"{base}:value:{_key_part(key)}"

    def _generation(self, generation_key: str) -> str:
        """A new token for a scope that has none yet (the first reader's wins)."""
        token = secrets.token_hex(8)
        if cache.add(generation_key, token, timeout=None):
            return token
        return cache.get(generation_key) or token

    def _store(self, value_key: str, generation: str, value: T) -> None:
        if value is not None:
            entry = (generation, time.time() + self.fresh_for, value)
            cache.set(value_key, entry, timeout=self.fresh_for + STALE_SECONDS)

    def get(
        self,
        compute: Callable[[], T],
        *,
        scope: Hashable = "",
        key: Hashable = "",
        use_cache: bool = True,
    ) -> T:
        """The value for (scope, key), computed by `compute()` when there is no fresh one."""
        if not use_cache:
            return compute()
        generation_key, value_key = self._keys(scope, key)
        found = cache.get_many([generation_key, value_key])
        generation = found.get(generation_key)
        entry = found.get(value_key)
        if generation is None:
            generation = self._generation(generation_key)
        elif entry is not None and entry[0] == generation:
            _, fresh_until, value = entry
            lock_key = f"{value_key}:refreshing"
            if time.time() < fresh_until or not cache.add(lock_key, 1, timeout=LOCK_SECONDS):
                return value
            try:
                value = compute()
                self._store(value_key, generation, value)
            finally:
                cache.delete(lock_key)
            return value
        value = compute()
        self._store(value_key, generation, value)
        return value

    def peek(self, *, scope: Hashable = "", key: Hashable = "") -> T | None:
        """The fresh value for (scope, key), or None; never computes (see `put`)."""
        generation_key, value_key = self._keys(scope, key)
        found = cache.get_many([generation_key, value_key])
        entry = found.get(value_key)
        generation = found.get(generation_key)
        if entry is None or generation is None or entry[0] != generation:
            return None
        _, fresh_until, value = entry
        return value if time.time() < fresh_until else None

    def put(self, value: T, *, scope: Hashable = "", key: Hashable = "") -> None:
        """Keep `value` for (scope, key), for callers that decide after the fact whether a
        result may be kept (`peek` reads it back)."""
        generation_key, value_key = self._keys(scope, key)
        generation = cache.get(generation_key) or self._generation(generation_key)
        self._store(value_key, generation, value)

    def forget(self, scope: Hashable = "") -> None:
        """Stop serving every entry of `scope`, in every process; call it after commit."""
        generation_key, _ = self._keys(scope, "")
        cache.set(generation_key, secrets.token_hex(8), timeout=None)


def _key_part(part: Hashable) -> str:
    """`part` as text any cache backend takes in a key (short, no spaces or control
    characters), hashed when it is not."""
    text = str(part)
    if len(text) <= 100 and text.isascii() and text.isprintable() and " " not in text:
        return text
    return "h" + hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:32]
