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
