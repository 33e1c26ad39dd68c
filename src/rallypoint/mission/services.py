"""Writes of the mission layer: campaigns, their goals, share texts and points."""

import re
from datetime import datetime
from typing import Any

import nh3
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils.text import slugify

from rallypoint.core.audit import log_action
from rallypoint.ledger.kinds import KINDS, PARTICIPATION_KINDS, default_points
from rallypoint.segments.models import Segment
from rallypoint.sharing.kit import DEFAULT_SHARE_TEXTS, SHARE_TEXT_MAX

from .models import Campaign, CampaignStatus, Goal
from .queries import campaign_page_forget

STORY_TAGS = {
    "p",
    "br",
    "strong",
    "b",
    "em",
    "i",
    "u",
    "a",
    "ul",
    "ol",
    "li",
    "h2",
    "h3",
    "h4",
    "blockquote",
    "hr",
}
BLOCK_TAG = re.compile(r"<(p|ul|ol|li|h[1-6]|blockquote|div|hr|table)\b", re.IGNORECASE)
# Slugs that would collide with fixed paths under /campaigns/.
RESERVED_SLUGS = {"organize", "new", "edit", "leaderboard"}
POINTS_MAX = 1000


def story_clean(raw: str) -> str:
    """Sanitised story HTML: basic formatting and links (rel=noopener), nothing executable.
    Text without block tags becomes paragraphs (blank lines) and line breaks."""
    text = (raw or "").replace("\r\n", "\n").strip()
    if not text:
        return ""
    if not BLOCK_TAG.search(text):
        # Written as plain text (perhaps with a link or bold): blank lines make paragraphs.
        paragraphs = re.split(r"\n\s*\n", text)
        text = "".join(
            "<p>" + p.strip().replace("\n", "<br>") + "</p>" for p in paragraphs if p.strip()
        )
    return nh3.clean(
        text,
        tags=STORY_TAGS,
        attributes={"a": {"href", "title"}},
        link_rel="noopener noreferrer",
        url_schemes={"http", "https", "mailto"},
    ).strip()


def _check_slug(slug: str, *, exclude: int | None = None) -> str:
    slug = slugify(slug)[:100]
    if not slug:
        raise ValidationError({"slug": "Give the campaign a web address (letters and numbers)."})
    if slug in RESERVED_SLUGS:
        raise ValidationError({"slug": f"“{slug}” is reserved. Choose another address."})
    if Campaign.objects.filter(slug=slug).exclude(pk=exclude).exists():
        raise ValidationError({"slug": "Another campaign already uses this address."})
    return slug


def _check_dates(starts_at: datetime | None, ends_at: datetime | None) -> None:
    if starts_at and ends_at and ends_at <= starts_at:
        raise ValidationError({"ends_at": "The end has to come after the start."})


def campaign_create(
    *,
    actor: Any,
    name: str,
    slug: str = "",
    summary: str = "",
    story: str = "",
    image: UploadedFile | None = None,
    image_url: str = "",
    starts_at: datetime | None = None,
    ends_at: datetime | None = None,
    status: str = CampaignStatus.DRAFT,
) -> Campaign:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Give the campaign a name."})
    if status not in CampaignStatus.values:
        raise ValidationError({"status": "Choose draft, live or closed."})
    _check_dates(starts_at, ends_at)
    with transaction.atomic():
        campaign = Campaign(
            name=name[:200],
            slug=_check_slug(slug or name),
            summary=(summary or "").strip()[:300],
            story=story_clean(story),
            image_url=(image_url or "").strip(),
            starts_at=starts_at,
            ends_at=ends_at,
            status=status,
        )
        if image:
            campaign.image = image
        campaign.save()
        log_action(
            "campaign.created",
            obj=campaign,
            actor=actor,
            data={"name": campaign.name, "status": status},
        )
    return campaign


CAMPAIGN_EDITABLE = {
    "name",
    "slug",
    "summary",
    "story",
    "image",
    "image_url",
    "starts_at",
    "ends_at",
    "status",
}


def campaign_update(*, actor: Any, campaign: Campaign, **changes: Any) -> Campaign:
    """Change any of CAMPAIGN_EDITABLE; `image=False` removes the uploaded image."""
    unknown = set(changes) - CAMPAIGN_EDITABLE
    if unknown:
        raise TypeError(f"campaign_update cannot change {', '.join(sorted(unknown))}")
    if "name" in changes and not (changes["name"] or "").strip():
        raise ValidationError({"name": "Give the campaign a name."})
    if "status" in changes and changes["status"] not in CampaignStatus.values:
        raise ValidationError({"status": "Choose draft, live or closed."})
    _check_dates(
        changes.get("starts_at", campaign.starts_at), changes.get("ends_at", campaign.ends_at)
    )
    with transaction.atomic():
        before = {"status": campaign.status, "slug": campaign.slug}
        for field, value in changes.items():
            if field == "slug":
                value = _check_slug(value, exclude=campaign.pk)
            elif field == "story":
                value = story_clean(value)
            elif field == "image":
                if value is None:
                    continue  # no new upload: keep the current image
                if value is False:
                    campaign.image.delete(save=False)
                    value = ""
            elif isinstance(value, str):
                value = value.strip()
            setattr(campaign, field, value)
        campaign.save()
        after = {"status": campaign.status, "slug": campaign.slug}
        log_action(
            "campaign.updated",
            obj=campaign,
            actor=actor,
            data={"fields": sorted(changes), "before": before, "after": after},
        )
    campaign_page_forget(campaign, before["slug"])
    return campaign


def campaign_share_texts_set(*, actor: Any, campaign: Campaign, texts: dict[str, str]) -> Campaign:
    """Store the organizer's share texts; blank or default texts fall back to the defaults."""
    stored: dict[str, str] = {}
    errors: dict[str, str] = {}
    for key, value in texts.items():
        if key not in DEFAULT_SHARE_TEXTS:
            errors[key] = "Unknown share channel."
            continue
        value = (value or "").replace("\r\n", "\n").strip()
        if len(value) > SHARE_TEXT_MAX:
            errors[key] = f"Keep this under {SHARE_TEXT_MAX} characters."
        elif value and value != DEFAULT_SHARE_TEXTS[key]:
            stored[key] = value
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        campaign.share_texts = stored
        campaign.save(update_fields=["share_texts", "modified_at"])
        log_action("campaign.share_texts.updated", obj=campaign, actor=actor, data=stored)
    campaign_page_forget(campaign)
    return campaign


def campaign_points_set(*, actor: Any, campaign: Campaign, points: dict[str, int]) -> Campaign:
    """Points per activity kind for this campaign; values equal to the default are not stored."""
    stored: dict[str, int] = {}
    errors: dict[str, str] = {}
    for kind, value in points.items():
        if kind not in KINDS:
            errors[kind] = "Unknown activity."
            continue
        try:
            value = int(value)
        except (TypeError, ValueError):
            errors[kind] = "Enter a whole number."
            continue
        if not 0 <= value <= POINTS_MAX:
            errors[kind] = f"Use a number from 0 to {POINTS_MAX}."
        elif value != default_points(kind):
            stored[kind] = value
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        campaign.points = stored
        campaign.save(update_fields=["points", "modified_at"])
        log_action("campaign.points.updated", obj=campaign, actor=actor, data=stored)
    return campaign


def _clean_goal(kind: str, target: Any, region: str) -> tuple[str, int, str]:
    errors: dict[str, str] = {}
    if kind not in PARTICIPATION_KINDS:
        errors["kind"] = "Choose what this goal counts."
    try:
        target = int(target)
        if target <= 0:
            raise ValueError
    except (TypeError, ValueError):
        errors["target"] = "The target has to be a whole number above zero."
    region = (region or "").strip()
    if len(region) > 100:
        errors["region"] = "Keep the region under 100 characters."
    if errors:
        raise ValidationError(errors)
    return kind, target, region.upper() if len(region) == 2 else region


def goal_create(
    *,
    actor: Any,
    campaign: Campaign,
    kind: str,
    target: int,
    title: str = "",
    deadline: datetime | None = None,
    region: str = "",
    segment: Segment | None = None,
    position: int | None = None,
) -> Goal:
    kind, target, region = _clean_goal(kind, target, region)
    with transaction.atomic():
        if position is None:
            position = campaign.goals.count()
        goal = Goal.objects.create(
            campaign=campaign,
            kind=kind,
            target=target,
            title=(title or "").strip()[:200],
            deadline=deadline,
            region=region,
            segment=segment,
            position=position,
        )
        log_action(
            "goal.created",
            obj=goal,
            actor=actor,
            data={
                "campaign": campaign.pk,
                "kind": kind,
                "target": target,
                "region": region,
                "segment": segment.pk if segment else None,
            },
        )
    campaign_page_forget(campaign)
    return goal


def goal_update(
    *,
    actor: Any,
    goal: Goal,
    kind: str,
    target: int,
    title: str = "",
    deadline: datetime | None = None,
    region: str = "",
    segment: Segment | None = None,
    position: int | None = None,
) -> Goal:
    kind, target, region = _clean_goal(kind, target, region)
    with transaction.atomic():
        before = {
            "kind": goal.kind,
            "target": goal.target,
            "region": goal.region,
            "segment": goal.segment_id,
        }
        goal.kind, goal.target, goal.region, goal.segment = kind, target, region, segment
        goal.title, goal.deadline = (title or "").strip()[:200], deadline
        if position is not None:
            goal.position = position
        goal.save()
        log_action(
            "goal.updated",
            obj=goal,
            actor=actor,
            data={
                "before": before,
                "after": {
                    "kind": kind,
                    "target": target,
                    "region": region,
                    "segment": segment.pk if segment else None,
                },
            },
        )
    campaign_page_forget(goal.campaign)
    return goal


def goal_delete(*, actor: Any, goal: Goal) -> None:
    with transaction.atomic():
        log_action(
            "goal.deleted",
            obj=goal,
            actor=actor,
            data={"campaign": goal.campaign_id, "kind": goal.kind, "target": goal.target},
        )
        goal.delete()
    campaign_page_forget(goal.campaign)
