"""Optional per-platform fetchers of an account's audience, each switched on by a setting (none
is needed: snapshots can be entered by hand or imported from CSV).

- Mastodon (INSIGHTS_FETCH_MASTODON): the account's server's public lookup API.
- Bluesky (INSIGHTS_FETCH_BLUESKY): the public AppView's getProfile.
- YouTube (INSIGHTS_YOUTUBE_API_KEY): the Data API's channel statistics.

`fetcher_for(platform)` gives the switched-on fetcher of a platform, or None;
`rallypoint insights_fetch_presence` runs them (services.presence_fetch).
"""

from .base import Fetcher, FetchError, FetchResult, fetcher_for, fetchers_enabled

__all__ = ["FetchError", "FetchResult", "Fetcher", "fetcher_for", "fetchers_enabled"]
