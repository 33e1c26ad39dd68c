"""Channels over time (recruits, conversions, K-factor per channel and bucket) and which share
texts work (recruits per share while each text was in use).

The definitions are grid.py's: a channel's K-factor in a bucket is the recruits made through
it in that bucket ÷ the people who acted in that bucket; conversions are acts by people whose
recruitment came through the channel, divided by the share-link visits to the campaign's pages
through that channel (grid.share_link_visits).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import Count, Q

from rallypoint.core.models import AuditEntry
from rallypoint.ledger.models import Activity, Recruitment
from rallypoint.sharing.kit import DEFAULT_SHARE_TEXTS, SHARE_TEXT_LABELS

from .grid import UNKNOWN_CHANNEL, Window, channel_label
from .growth import Buckets, active_people, bucket_of, buckets_between, day_bounds

CHANNELS_SHOWN = 6  # channels drawn one line each; the others are summed


@dataclass(frozen=True)
class ChannelTimeline:
    buckets: Buckets
    participants: list[int]  # people who acted, per bucket
    recruits: dict[str, list[int]]  # channel → recruits per bucket, most recruits first
    conversions: dict[str, list[int]]  # channel → acts by people it brought, per bucket
    labels: dict[str, str]

    def k_factor(self, channel: str) -> list[float | None]:
        return [
            (made / people if people else None)
            for made, people in zip(self.recruits.get(channel, []), self.participants, strict=False)
        ]


def channel_timeline(campaign: Any, first: date, last: date) -> ChannelTimeline:
    """Per bucket between `first` and `last`: people who acted, and per channel the recruits
    and conversions. Three grouped queries."""
    buckets = buckets_between(first, last)
    count = len(buckets.starts)
    bounds = day_bounds(first, last)
    acts = Activity.objects.filter(campaign_id=campaign.pk, **bounds).order_by()
    participants = active_people(acts, buckets)
    recruits: dict[str, list[int]] = {}
    edges = (
        Recruitment.objects.filter(campaign_id=campaign.pk, **bounds)
        .order_by()
        .annotate(bucket=bucket_of(buckets))
        .values_list("bucket", "channel")
        .annotate(n=Count("id"))
        .values_list("bucket", "channel", "n")
    )
    for day, channel, n in edges:
        i = buckets.index(day)
        if i is not None:
            recruits.setdefault(channel or UNKNOWN_CHANNEL, [0] * count)[i] += n
    conversions: dict[str, list[int]] = {}
    converted = (
        acts.filter(person__recruited_by__campaign_id=campaign.pk)
        .exclude(kind="recruit")
        .annotate(bucket=bucket_of(buckets))
        .values_list("bucket", "person__recruited_by__channel")
        .annotate(n=Count("id"))
        .values_list("bucket", "person__recruited_by__channel", "n")
    )
    for day, channel, n in converted:
        i = buckets.index(day)
        if i is not None:
            conversions.setdefault(channel or UNKNOWN_CHANNEL, [0] * count)[i] += n
    order = sorted(
        {*recruits, *conversions},
        key=lambda c: (-sum(recruits.get(c, [])), -sum(conversions.get(c, [])), c),
    )
    return ChannelTimeline(
        buckets=buckets,
        participants=participants,
        recruits={c: recruits.get(c, [0] * count) for c in order},
        conversions={c: conversions.get(c, [0] * count) for c in order},
        labels={c: channel_label(c) for c in order},
    )


# --- share texts -------------------------------------------------------------------------------

# Share texts per channel (the email's subject and body count as one text).
TEXT_KEYS: dict[str, list[str]] = {
    "x": ["x"],
    "whatsapp": ["whatsapp"],
    "email": ["email_subject", "email"],
    "sms": ["sms"],
    "bluesky": ["bluesky"],
    "mastodon": ["mastodon"],
}


@dataclass(frozen=True)
class ShareTextUse:
    channel: str
    label: str
    text: str
    custom: bool  # the organizer's own text (not the default)
    since: datetime | None  # None: from the start
    until: datetime | None  # None: still in use
    shares: int
    recruits: int

    @property
    def recruits_per_share(self) -> float | None:
        return self.recruits / self.shares if self.shares else None


def _text(stored: dict[str, str], channel: str) -> tuple[str, bool]:
    parts = []
    custom = False
    for key in TEXT_KEYS[channel]:
        value = stored.get(key) or ""
        custom = custom or bool(value)
        text = value or DEFAULT_SHARE_TEXTS.get(key, "")
        if len(TEXT_KEYS[channel]) > 1:
            text = f"{SHARE_TEXT_LABELS.get(key, key)}: {text}"
        parts.append(text)
    return "\n".join(parts), custom


def share_text_uses(campaign: Any, window: Window) -> list[ShareTextUse]:
    """Each channel's share texts with the shares and recruits made through the channel while
    each was in use (within the window). Texts come from the audit log of the campaign's
    share-text changes ("campaign.share_texts.updated", which stores the whole set): before the
    first change the defaults were used (a campaign starts with them); without any change,
    the campaign's current texts. Three queries however many versions."""
    changes = list(
        AuditEntry.objects.filter(
            object_type=campaign._meta.label_lower,
            object_id=str(campaign.pk),
            action="campaign.share_texts.updated",
        )
        .order_by("created_at", "id")
        .values_list("created_at", "data")
    )
    versions: list[tuple[datetime | None, dict[str, str]]]
    if changes:
        versions = [(None, {})] + [(at, data or {}) for at, data in changes]
    else:
        versions = [(None, dict(campaign.share_texts or {}))]
    periods: list[tuple[str, str, bool, datetime | None, datetime | None]] = []
    for channel in TEXT_KEYS:
        current: tuple[str, bool] | None = None
        started: datetime | None = None
        for at, stored in versions:
            text = _text(stored, channel)
            if current is None:
                current, started = text, at
            elif text != current:
                periods.append((channel, current[0], current[1], started, at))
                current, started = text, at
        if current is not None:
            periods.append((channel, current[0], current[1], started, None))
    start, end = window.start, window.end

    def span(since: datetime | None, until: datetime | None) -> Q:
        condition = Q()
        for bound in (since, start):
            if bound is not None:
                condition &= Q(created_at__gte=bound)
        for bound in (until, end):
            if bound is not None:
                condition &= Q(created_at__lt=bound)
        return condition

    shares = Activity.objects.filter(campaign_id=campaign.pk, kind="share").aggregate(
        **{
            f"p{i}": Count("id", filter=span(s, u) & Q(channel=channel))
            for i, (channel, _, _, s, u) in enumerate(periods)
        }
    )
    recruits = Recruitment.objects.filter(campaign_id=campaign.pk).aggregate(
        **{
            f"p{i}": Count("id", filter=span(s, u) & Q(channel=channel))
            for i, (channel, _, _, s, u) in enumerate(periods)
        }
    )
    return [
        ShareTextUse(
            channel=channel,
            label=channel_label(channel),
            text=text,
            custom=custom,
            since=since,
            until=until,
            shares=int(shares.get(f"p{i}") or 0),
            recruits=int(recruits.get(f"p{i}") or 0),
        )
        for i, (channel, text, custom, since, until) in enumerate(periods)
    ]
