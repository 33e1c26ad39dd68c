"""Tags: find or make one by name, add it to a person, take it off."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from rallypoint.core.audit import log_action

from ..models import Person, Tag, Tagging


def tag_get_or_create(name: str) -> Tag:
    name = name.strip()[:100]
    if not name:
        raise ValidationError("A tag needs a name.")
    tag = Tag.objects.filter(name__iexact=name).first()
    if tag is None:
        try:
            with transaction.atomic():
                tag = Tag.objects.create(name=name)
        except IntegrityError:
            tag = Tag.objects.get(name__iexact=name)
    return tag


def tag_add(*, person: Person, name: str, actor: Any = None) -> Tagging:
    tag = tag_get_or_create(name)
    tagging, created = Tagging.objects.get_or_create(person=person, tag=tag)
    if created and actor is not None:
        log_action("person.tag.added", obj=person, actor=actor, data={"tag": tag.name})
    return tagging


def tag_remove(*, person: Person, tag: Tag, actor: Any = None) -> bool:
    deleted, _ = Tagging.objects.filter(person=person, tag=tag).delete()
    if deleted and actor is not None:
        log_action("person.tag.removed", obj=person, actor=actor, data={"tag": tag.name})
    return bool(deleted)


def tag_add_many(*, person_ids: list[int], name: str, actor: Any = None) -> int:
    """Tag many people at once (the people list's bulk action): set-based, one audit entry on
    the tag. Returns how many people got the tag now (those who had it are left as they were)."""
    tag = tag_get_or_create(name)
    ids = set(person_ids)
    had = set(
        Tagging.objects.filter(tag=tag, person_id__in=ids).values_list("person_id", flat=True)
    )
    new = sorted(ids - had)
    with transaction.atomic():
        Tagging.objects.bulk_create(
            [Tagging(person_id=pk, tag=tag) for pk in new], ignore_conflicts=True, batch_size=1000
        )
        if new and actor is not None:
            log_action("people.tag.added", obj=tag, actor=actor, data={"people": len(new)})
    return len(new)


def tag_remove_many(*, person_ids: list[int], name: str, actor: Any = None) -> int:
    """Take a tag off many people at once; returns how many had it. An unknown tag name is a
    ValidationError (nothing to take off)."""
    tag = Tag.objects.filter(name__iexact=(name or "").strip()).first()
    if tag is None:
        raise ValidationError(f"No one has the tag “{(name or '').strip()}”.")
    with transaction.atomic():
        deleted, _ = Tagging.objects.filter(tag=tag, person_id__in=set(person_ids)).delete()
        if deleted and actor is not None:
            log_action("people.tag.removed", obj=tag, actor=actor, data={"people": deleted})
    return deleted
