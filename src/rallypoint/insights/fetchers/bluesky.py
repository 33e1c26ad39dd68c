"""Bluesky: GET <INSIGHTS_BLUESKY_API>/xrpc/app.bsky.actor.getProfile?actor=<handle> (the public
AppView, no key)."""

from urllib.parse import quote

from django.conf import settings

from .base import Fetcher, FetchError, FetchResult, count_from, get_json, register

DEFAULT_API = "https://public.api.bsky.app"


class BlueskyFetcher(Fetcher):
    platform = "bluesky"

    def enabled(self) -> bool:
        return bool(getattr(settings, "INSIGHTS_FETCH_BLUESKY", False))

    def fetch(self, *, handle: str, url: str) -> FetchResult:
        actor = handle.strip().lstrip("@")
        if not actor:
            raise FetchError("The Bluesky handle is empty.")
        api = str(getattr(settings, "INSIGHTS_BLUESKY_API", DEFAULT_API)).rstrip("/")
        data = get_json(f"{api}/xrpc/app.bsky.actor.getProfile?actor={quote(actor)}")
        if not isinstance(data, dict):
            raise FetchError("The platform's answer had no follower count.")
        audience = count_from(data.get("followersCount"), "follower count")
        posts = data.get("postsCount")
        return FetchResult(audience, posts if isinstance(posts, int) and posts >= 0 else None)


register(BlueskyFetcher())
