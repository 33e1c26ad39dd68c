"""Mastodon: GET https://<server>/api/v1/accounts/lookup?acct=<user> (public, no key)."""

import re
from urllib.parse import quote, urlsplit

from django.conf import settings

from .base import Fetcher, FetchError, FetchResult, count_from, get_json, register

HANDLE_RE = re.compile(r"^@?(?P<user>[A-Za-z0-9_.-]+)@(?P<server>[A-Za-z0-9.-]+(?::\d+)?)$")
PROFILE_PATH_RE = re.compile(r"^/@(?P<user>[A-Za-z0-9_.-]+)/?$")


def server_and_user(handle: str, url: str) -> tuple[str, str, str]:
    """(scheme, server, user) from the account's address (https://server/@user) or its handle
    (@user@server)."""
    if url:
        parts = urlsplit(url)
        found = PROFILE_PATH_RE.match(parts.path or "")
        if found and parts.netloc:
            return parts.scheme.lower(), parts.netloc, found["user"]
    found = HANDLE_RE.match(handle.strip())
    if found:
        return "https", found["server"], found["user"]
    raise FetchError(
        "Write the Mastodon handle with its server (@name@mastodon.social) or give the "
        "profile's address."
    )


class MastodonFetcher(Fetcher):
    platform = "mastodon"

    def enabled(self) -> bool:
        return bool(getattr(settings, "INSIGHTS_FETCH_MASTODON", False))

    def fetch(self, *, handle: str, url: str) -> FetchResult:
        scheme, server, user = server_and_user(handle, url)
        data = get_json(f"{scheme}://{server}/api/v1/accounts/lookup?acct={quote(user)}")
        if not isinstance(data, dict):
            raise FetchError("The platform's answer had no follower count.")
        audience = count_from(data.get("followers_count"), "follower count")
        posts = data.get("statuses_count")
        return FetchResult(audience, posts if isinstance(posts, int) and posts >= 0 else None)


register(MastodonFetcher())
