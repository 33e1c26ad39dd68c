"""Merging two records of one person: an organizer's decision, audited."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction

from rallypoint.core.audit import log_action

from ..models import Person
from .data import NAME_FIELDS


def person_snapshot(person: Person) -> dict[str, Any]:
    return {
        "id": person.pk,
        "uuid": str(person.uuid),
        "name": person.full_name,
        "emails": list(person.email_addresses.values_list("address", flat=True)),
        "phones": list(person.phone_numbers.values_list("number", flat=True)),
        "tags": list(person.taggings.values_list("tag__name", flat=True)),
    }


def person_merge(*, keep: Person, other: Person, actor: Any) -> Person:
    """Fold `other` into `keep`: contact details, tags, history and every other reference move
    to `keep`; `keep`'s known values win, `other` fills its blanks. Audited; `other` is deleted."""
    if keep.pk == other.pk:
        raise ValidationError("Choose two different people to merge.")
    with transaction.atomic():
        keep = Person.objects.select_for_update().get(pk=keep.pk)
        other = Person.objects.select_for_update().get(pk=other.pk)
        snapshot = {"kept": person_snapshot(keep), "merged": person_snapshot(other)}
        for name in (*NAME_FIELDS, "source"):
            if not getattr(keep, name) and getattr(other, name):
                setattr(keep, name, getattr(other, name))
        keep.custom_fields = {**other.custom_fields, **keep.custom_fields}
        keep.languages_spoken = list(
            dict.fromkeys([*keep.languages_spoken, *other.languages_spoken])
        )
        keep.foreign_identifiers = list(
            dict.fromkeys(
                [*keep.foreign_identifiers, *other.foreign_identifiers, f"rallypoint:{other.uuid}"]
            )
        )
        keep.public_display = keep.public_display and other.public_display
        has_primary_email = keep.email_addresses.filter(primary=True).exists()
        other.email_addresses.update(
            person=keep, primary=False if has_primary_email else models.F("primary")
        )
        known_numbers = set(keep.phone_numbers.values_list("number", flat=True))
        for phone in other.phone_numbers.all():
            if phone.number in known_numbers:
                mine = keep.phone_numbers.get(number=phone.number)
                if phone.sms_consent and not mine.sms_consent:
                    mine.sms_consent, mine.sms_consent_at = True, phone.sms_consent_at
                mine.do_not_call = mine.do_not_call or phone.do_not_call
                mine.save()
                phone.delete()
            else:
                phone.person, phone.primary = keep, phone.primary and not known_numbers
                phone.save()
        has_primary_address = keep.postal_addresses.filter(primary=True).exists()
        other.postal_addresses.update(
            person=keep, primary=False if has_primary_address else models.F("primary")
        )
        known_tags = set(keep.taggings.values_list("tag_id", flat=True))
        other.taggings.exclude(tag_id__in=known_tags).update(person=keep)
        moved = _move_references(keep=keep, other=other)
        account = getattr(other, "account", None)
        if account is not None and getattr(keep, "account", None) is None:
            account.person = keep
            account.save(update_fields=["person"])
        keep.save()
        log_action("person.merged", obj=keep, actor=actor, data={**snapshot, "moved": moved})
        other.delete()
    return keep


def _move_references(*, keep: Person, other: Person) -> dict[str, int]:
    """Re-point every other foreign key to `other` (ledger, signatures, RSVPs, …) at `keep`.
    A row that would break a uniqueness rule (both signed the same petition) stays with `other`
    and is deleted with it; the ledger keeps the record of the act."""
    handled = {"email_addresses", "phone_numbers", "postal_addresses", "taggings", "account"}
    moved: dict[str, int] = {}
    for relation in Person._meta.related_objects:
        if relation.get_accessor_name() in handled or relation.many_to_many:
            continue
        if relation.one_to_one:
            continue
        model, fk_name = relation.related_model, relation.field.name
        rows = model._base_manager.filter(**{fk_name: other})
        try:
            with transaction.atomic():
                count = rows.update(**{fk_name: keep})
        except IntegrityError:
            count = 0
            for row in rows:
                try:
                    with transaction.atomic():
                        model._base_manager.filter(pk=row.pk).update(**{fk_name: keep})
                        count += 1
                except IntegrityError:
                    continue
        if count:
            moved[f"{model._meta.label_lower}.{fk_name}"] = count
    return moved
