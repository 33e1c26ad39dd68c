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
