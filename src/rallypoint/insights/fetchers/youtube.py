"""YouTube: the Data API v3's channel statistics (needs INSIGHTS_YOUTUBE_API_KEY).

GET <INSIGHTS_YOUTUBE_API>/channels?part=statistics&forHandle=@name&key=KEY, or &id=UC… for a
channel id. A channel that hides its subscriber count has none to give."""

import re
from urllib.parse import urlencode

from django.conf import settings

from .base import Fetcher, FetchError, FetchResult, count_from, get_json, register

DEFAULT_API = "https://www.googleapis.com/youtube/v3"
CHANNEL_ID_RE = re.compile(r"^UC[A-Za-z0-9_-]{22}$")


class YouTubeFetcher(Fetcher):
    platform = "youtube"

    def enabled(self) -> bool:
        return bool(getattr(settings, "INSIGHTS_YOUTUBE_API_KEY", ""))

    def fetch(self, *, handle: str, url: str) -> FetchResult:
        name = handle.strip()
        if not name:
            raise FetchError("The YouTube handle is empty.")
        query = {
            "part": "statistics",
            "key": str(getattr(settings, "INSIGHTS_YOUTUBE_API_KEY", "")),
        }
        if CHANNEL_ID_RE.match(name):
            query["id"] = name
        else:
            query["forHandle"] = "@" + name.lstrip("@")
        api = str(getattr(settings, "INSIGHTS_YOUTUBE_API", DEFAULT_API)).rstrip("/")
        data = get_json(f"{api}/channels?{urlencode(query)}")
        items = data.get("items") if isinstance(data, dict) else None
        if not items or not isinstance(items, list) or not isinstance(items[0], dict):
            raise FetchError("The platform does not know this account.")
        stats = items[0].get("statistics") or {}
        if not isinstance(stats, dict) or stats.get("hiddenSubscriberCount") is True:
            raise FetchError("This channel hides its subscriber count.")
        audience = count_from(stats.get("subscriberCount"), "subscriber count")
        videos = stats.get("videoCount")
        posts = int(videos) if isinstance(videos, str) and videos.isdigit() else None
        return FetchResult(audience, posts)


register(YouTubeFetcher())
