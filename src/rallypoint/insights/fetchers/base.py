"""What every fetcher shares: one JSON GET with the guards of rallypoint.core.http, and the
registry of platforms to fetchers."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, ClassVar

import urllib3
from django.conf import settings

from rallypoint.core.http import OutgoingError, url_check

MAX_REPLY_BYTES = 256 * 1024
USER_AGENT = "Rallypoint presence fetcher"


class FetchError(Exception):
    """The audience could not be fetched; `message` is safe to show to organizers."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass(frozen=True)
class FetchResult:
    audience: int
    posts: int | None = None


def _schemes() -> tuple[str, ...]:
    return tuple(getattr(settings, "INSIGHTS_FETCH_SCHEMES", ("https",)))


def _timeout() -> float:
    return float(getattr(settings, "INSIGHTS_FETCH_TIMEOUT", 10.0))


def get_json(url: str, *, headers: dict[str, str] | None = None) -> Any:
    """GET `url` and parse its JSON reply. The address passes core.http's checks first (public
    addresses only, or hosts named in OUTGOING_ALLOWED_HOSTS; no user info), no redirect is
    followed, every step has a timeout and at most MAX_REPLY_BYTES are read."""
    try:
        url_check(url=url, schemes=_schemes())
    except OutgoingError as exc:
        raise FetchError(exc.message) from None
    timeout = _timeout()
    with urllib3.PoolManager(
        retries=False, timeout=urllib3.Timeout(connect=timeout, read=timeout)
    ) as pool:
        try:
            response = pool.request(
                "GET",
                url,
                headers={"Accept": "application/json", "User-Agent": USER_AGENT, **(headers or {})},
                redirect=False,
                preload_content=False,
            )
        except urllib3.exceptions.HTTPError:
            raise FetchError("Could not reach the platform.") from None
        try:
            raw = response.read(MAX_REPLY_BYTES + 1)
        except urllib3.exceptions.HTTPError:
            raise FetchError("The connection to the platform broke off.") from None
        finally:
            response.release_conn()
    if response.status == 404:
        raise FetchError("The platform does not know this account.")
    if response.status != 200:
        raise FetchError(f"The platform answered with HTTP {response.status}.")
    if len(raw) > MAX_REPLY_BYTES:
        raise FetchError("The platform's answer was too long.")
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise FetchError("The platform's answer wasn't JSON.") from None


def count_from(value: Any, what: str) -> int:
    """A follower or post count from a reply: a non-negative integer (YouTube sends text)."""
    if isinstance(value, bool):
        raise FetchError(f"The platform's answer had no {what}.")
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or value < 0:
        raise FetchError(f"The platform's answer had no {what}.")
    return value


class Fetcher:
    platform: ClassVar[str]

    def enabled(self) -> bool:
        raise NotImplementedError

    def fetch(self, *, handle: str, url: str) -> FetchResult:
        raise NotImplementedError


_REGISTRY: dict[str, Fetcher] = {}


def register(fetcher: Fetcher) -> Fetcher:
    _REGISTRY[fetcher.platform] = fetcher
    return fetcher


def fetcher_for(platform: str) -> Fetcher | None:
    from . import bluesky, mastodon, youtube  # noqa: F401 - they register themselves

    fetcher = _REGISTRY.get(platform)
    return fetcher if fetcher is not None and fetcher.enabled() else None


def fetchers_enabled() -> list[str]:
    from . import bluesky, mastodon, youtube  # noqa: F401

    return sorted(p for p, f in _REGISTRY.items() if f.enabled())
