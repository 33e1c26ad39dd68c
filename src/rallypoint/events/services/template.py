"""Distributed days of action: an organizer sets a campaign's event template (title, type,
description, the dates events happen on, which fields are locked) and supporters host events
under it. `template_apply` is how every event of the campaign (from the host form or the
API) follows it."""

from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from rallypoint.core.audit import log_action
from rallypoint.core.richtext import rich_text_clean

from ..models import EventTemplate, EventType
from ..permissions import is_organizer

MAX_WINDOW = timedelta(days=366)


@dataclass
class TemplateData:
    title: str
    event_type: str
    starts_on: date | None
    ends_on: date | None
    description: str = ""
    lock_title: bool = True
    lock_event_type: bool = True
    lock_description: bool = False


def event_template_set(*, campaign: Any, data: TemplateData, actor: Any) -> EventTemplate:
    """Set (or change) the campaign's event template. Organizers only; ValidationError keyed
    by field. Events already made keep what they have until they are edited."""
    if not is_organizer(actor):
        raise PermissionDenied("Only organizers set a campaign's event template.")
    errors: dict[str, list[str]] = {}
    title = (data.title or "").strip()
    if not title:
        errors["title"] = ["Give the events a name."]
    elif len(title) > 200:
        errors["title"] = ["Keep the name under 200 characters."]
    if data.event_type not in EventType.values:
        errors["event_type"] = ["Choose a type of event."]
    if data.starts_on is None:
        errors["starts_on"] = ["On which day (or from which day) do the events happen?"]
    if data.ends_on is None:
        errors["ends_on"] = ["Until which day? The same day for a one-day action."]
    if data.starts_on and data.ends_on:
        if data.ends_on < data.starts_on:
            errors["ends_on"] = ["The last day is on or after the first."]
        elif data.ends_on - data.starts_on > MAX_WINDOW:
            errors["ends_on"] = ["The dates span at most a year."]
    if errors:
        raise ValidationError(errors)
    values = {
        "title": title,
        "event_type": data.event_type,
        "description": rich_text_clean((data.description or "")[:20000]),
        "starts_on": data.starts_on,
        "ends_on": data.ends_on,
        "lock_title": data.lock_title,
        "lock_event_type": data.lock_event_type,
        "lock_description": data.lock_description,
    }
    with transaction.atomic():
        template, created = EventTemplate.objects.update_or_create(
            campaign=campaign, defaults=values
        )
        log_action(
            "event.template.set",
            obj=campaign,
            actor=actor,
            data={**{k: str(v) for k, v in values.items()}, "created": created},
        )
    return template


def event_template_remove(*, campaign: Any, actor: Any) -> None:
    if not is_organizer(actor):
        raise PermissionDenied("Only organizers set a campaign's event template.")
    with transaction.atomic():
        deleted, _ = EventTemplate.objects.filter(campaign=campaign).delete()
        if deleted:
            log_action("event.template.removed", obj=campaign, actor=actor)


def template_of(campaign: Any) -> EventTemplate | None:
    if campaign is None:
        return None
    return EventTemplate.objects.filter(campaign=campaign).first()


def template_locked(data: Any) -> tuple[Any, EventTemplate | None]:
    """An event of a campaign with a template: a copy of `data` with the locked fields set to
    the template's values, and the template (None, and `data` itself, without one)."""
    template = template_of(data.campaign)
    if template is None:
        return data, None
    return replace(data, **{name: getattr(template, name) for name in template.locked}), template


def template_dates_check(
    template: EventTemplate | None,
    *,
    starts_at: datetime | None,
    zone: str,
    start_changed: bool,
    errors: dict[str, list[str]],
) -> None:
    """A new (or moved) start must fall on one of the template's days, in the event's own
    time zone. Adds to `errors`."""
    if template is None or starts_at is None or not start_changed or not zone:
        return
    try:
        day = starts_at.astimezone(ZoneInfo(zone)).date()
    except (ZoneInfoNotFoundError, ValueError):
        return
    if not template.starts_on <= day <= template.ends_on:
        errors["starts_at"] = [f"Events of “{template.title}” happen {days_text(template)}."]


def days_text(template: EventTemplate) -> str:
    """“on Sat, Oct 12, 2030” or “between Sat, Oct 12 and Sun, Oct 20, 2030”."""
    first, last = template.starts_on, template.ends_on
    if first == last:
        return f"on {first:%a, %b} {first.day}, {first.year}"
    head = f"{first:%a, %b} {first.day}" + ("" if first.year == last.year else f", {first.year}")
    return f"between {head} and {last:%a, %b} {last.day}, {last.year}"
