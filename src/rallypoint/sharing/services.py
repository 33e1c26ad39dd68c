"""Writes of the sharing layer: a share click becomes one "share" act in the ledger."""

from datetime import datetime, time, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from rallypoint.ledger.models import Activity, Channel
from rallypoint.ledger.services import activity_record
from rallypoint.people.models import Person

from .models import ShareVisit


def share_page_key(url: str) -> str:
    """What "the same page" means for de-duplication: the path, without host or query."""
    return urlsplit(url).path or "/"


def share_record(
    *,
    person: Person,
    channel: str,
    url: str,
    campaign: Any = None,
    at: datetime | None = None,
) -> Activity | None:
    """Record that `person` shared `url` on `channel`: once per person, page, channel and day.

    Returns the new act, or None when this share was already counted today."""
    if channel not in Channel.values:
        raise ValueError(f"Unknown channel {channel!r}")
    at = at or timezone.now()
    page = share_page_key(url)
    local_day = timezone.localtime(at).date()
    day_start = timezone.make_aware(datetime.combine(local_day, time.min))
    with transaction.atomic():
        already = Activity.objects.filter(
            person=person,
            kind="share",
            channel=channel,
            created_at__gte=day_start,
            created_at__lt=day_start + timedelta(days=1),
            details__page=page,
        ).exists()
        if already:
            return None
        return activity_record(
            person=person,
            kind="share",
            campaign=campaign,
            channel=channel,
            details={"page": page},
            at=at,
        )


def share_visit_record(*, code: str, channel: str, path: str) -> None:
    """Count one visit through a share link (today, this code, channel and page): one UPDATE,
    and an INSERT the first time of the day."""
    key = {
        "day": timezone.localdate(),
        "code": code[:32],
        "channel": channel[:20],
        "path": path[:200],
    }
    if ShareVisit.objects.filter(**key).update(count=F("count") + 1):
        return
    try:
        with transaction.atomic():
            ShareVisit.objects.create(**key, count=1)
    except IntegrityError:  # another request made today's row first
        ShareVisit.objects.filter(**key).update(count=F("count") + 1)
