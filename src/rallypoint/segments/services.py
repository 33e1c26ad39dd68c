"""Writes for segments: create, change, delete — each checked and audited."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.text import slugify

from rallypoint.core.audit import log_action

from .definition import definition_clean
from .models import Segment
from .queries import segments_using

RESERVED_SLUGS = {"new", "preview"}  # page addresses under /segments/


def _unique_slug(name: str, exclude_pk: int | None = None) -> str:
    base = (slugify(name) or "segment")[:120]
    if base in RESERVED_SLUGS:
        base = f"{base}-segment"
    slug, n = base, 2
    taken = Segment.objects.exclude(pk=exclude_pk)
    while taken.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def _check_name(name: str, exclude_pk: int | None = None) -> str:
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": "Give the segment a name."})
    if len(name) > 120:
        raise ValidationError({"name": "Keep the name under 120 characters."})
    if Segment.objects.exclude(pk=exclude_pk).filter(name__iexact=name).exists():
        raise ValidationError({"name": "There is already a segment with this name."})
    return name


def segment_create(
    *, name: str, definition: dict[str, Any], actor: Any, description: str = ""
) -> Segment:
    name = _check_name(name)
    definition = definition_clean(definition)
    try:
        with transaction.atomic():
            segment = Segment.objects.create(
                name=name,
                slug=_unique_slug(name),
                description=description.strip()[:300],
                definition=definition,
                created_by=actor if getattr(actor, "is_authenticated", False) else None,
            )
            log_action("segment.created", obj=segment, actor=actor, data={"after": definition})
    except IntegrityError:
        raise ValidationError({"name": "There is already a segment with this name."})
    return segment


def segment_update(
    *,
    segment: Segment,
    actor: Any,
    name: str | None = None,
    definition: dict[str, Any] | None = None,
    description: str | None = None,
) -> Segment:
    before = {"name": segment.name, "definition": segment.definition}
    if name is not None:
        segment.name = _check_name(name, exclude_pk=segment.pk)
    if description is not None:
        segment.description = description.strip()[:300]
    if definition is not None:
        segment.definition = definition_clean(definition, segment_id=segment.pk)
    with transaction.atomic():
        segment.save()
        log_action(
            "segment.updated",
            obj=segment,
            actor=actor,
            data={
                "before": before,
                "after": {"name": segment.name, "definition": segment.definition},
            },
        )
    return segment


def segment_delete(*, segment: Segment, actor: Any) -> None:
    users = segments_using(segment)
    if users:
        names = ", ".join(s.name for s in users)
        raise ValidationError(f"Other segments use this one ({names}): change them first.")
    with transaction.atomic():
        log_action(
            "segment.deleted",
            obj=segment,
            actor=actor,
            data={"name": segment.name, "definition": segment.definition},
        )
        segment.delete()


def segment_from_people(*, name: str, person_ids: list[int], actor: Any) -> Segment:
    """A segment of people picked by hand (a selection on the people list, "whom to ask
    next"): it holds exactly them until someone edits it."""
    ids = sorted({int(i) for i in person_ids})
    definition = {"match": "any", "conditions": [{"type": "people", "people": ids}]}
    return segment_create(name=name, definition=definition, actor=actor)


def segment_people_add(*, segment: Segment, person_ids: list[int], actor: Any) -> int:
    """Add people by hand to `segment` and return how many were new to its hand-picked list.
    Only where that adds them: a segment that matches any of its conditions (or has none). A
    segment that needs every condition would not take them in, so it says so instead."""
    definition = dict(segment.definition or {})
    conditions = [dict(c) for c in definition.get("conditions", [])]
    others = [c for c in conditions if c.get("type") != "people"]
    if others and definition.get("match") != "any":
        raise ValidationError(
            f"“{segment.name}” keeps only people who meet every one of its conditions, so people "
            "added by hand would not count. Make a new segment from the selection, or set it to "
            "match any condition."
        )
    picked = next((c for c in conditions if c.get("type") == "people"), None)
    if picked is None:
        picked = {"type": "people", "people": []}
        conditions.append(picked)
    known = set(picked["people"])
    new = [i for i in dict.fromkeys(int(i) for i in person_ids) if i not in known]
    if not new:
        return 0
    picked["people"] = [*picked["people"], *new]
    definition.update(match="any", conditions=conditions)
    segment_update(segment=segment, actor=actor, definition=definition)
    return len(new)
