"""An organizer's edits of one known person: their own fields, contact details they add, an
address's subscription status. Each is audited."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from rallypoint.core.audit import log_action
from rallypoint.core.outbox import outbox_record

from ..models import EmailAddress, EmailStatus, Person, PhoneNumber, PostalAddress
from ..normalize import email_key
from .data import NAME_FIELDS, PersonData, address_values
from .matching import find_person

EDITABLE_FIELDS = (*NAME_FIELDS, "source", "public_display")


def person_update(*, person: Person, actor: Any, **values: Any) -> Person:
    """An organizer's edit of a person's own fields, audited with before/after."""
    unknown = set(values) - set(EDITABLE_FIELDS)
    if unknown:
        raise ValueError(f"Not editable here: {', '.join(sorted(unknown))}")
    before = {k: getattr(person, k) for k in values}
    changed = {k: v for k, v in values.items() if before[k] != v}
    if not changed:
        return person
    with transaction.atomic():
        for key, value in changed.items():
            setattr(person, key, value)
        person.save(update_fields=[*changed, "modified_at"])
        log_action(
            "person.updated",
            obj=person,
            actor=actor,
            data={"before": {k: before[k] for k in changed}, "after": changed},
        )
        outbox_record("person.updated", subject=person)
    return person


def person_contact_add(
    *,
    person: Person,
    actor: Any,
    email: str = "",
    phone: str = "",
    sms_consent: bool | None = None,
    postal_code: str = "",
    country: str = "US",
) -> Person:
    """An organizer adds contact details to a person. An email or phone already on someone
    else stays theirs: the organizer is told to merge the two instead. Audited."""
    data = PersonData(
        email=email, phone=phone, sms_consent=sms_consent, postal_code=postal_code, country=country
    )
    if email or phone:
        data = data.validated()
    errors: dict[str, str] = {}
    if data.email:
        owner = find_person(email=data.email)
        if owner is not None and owner.pk != person.pk:
            errors["email"] = f"That address belongs to {owner} (#{owner.pk}): merge them instead."
    if data.phone:
        owners = PhoneNumber.objects.filter(number=data.phone).exclude(person=person)
        if owners.exists():
            errors["phone"] = "That number is on another person's record: merge them instead."
    if errors:
        raise ValidationError(errors)
    added: dict[str, Any] = {
        k: v for k, v in {"email": data.email, "phone": data.phone}.items() if v
    }
    if postal_code:
        added.update(postal_code=postal_code, country=country)
    if sms_consent is not None and data.phone:
        added["sms_consent"] = sms_consent
    with transaction.atomic():
        if data.email:
            _email_add(person, data.email)
        if data.phone:
            _merge_phone(person, data)
        if postal_code:
            _merge_address(person, data)
        person.save(update_fields=["modified_at"])
        log_action("person.contact.added", obj=person, actor=actor, data={"after": added})
    return person


def email_status_set(*, email: EmailAddress, status: str, actor: Any) -> EmailAddress:
    """Change one address's status (the person asked to be unsubscribed, or to come back)."""
    if status not in EmailStatus.values:
        raise ValidationError(f"Unknown email status {status!r}.")
    if email.status == status:
        return email
    before = email.status
    with transaction.atomic():
        email.status = status
        email.save(update_fields=["status", "modified_at"])
        log_action(
            "person.email.status",
            obj=email.person,
            actor=actor,
            data={
                "email": email.address,
                "before": {"status": before},
                "after": {"status": status},
            },
        )
        outbox_record(
            "unsubscribe" if status == EmailStatus.UNSUBSCRIBED else "person.updated",
            subject=email.person,
        )
    return email


def _email_add(person: Person, address: str) -> None:
    """Add an address nobody has (checked by the caller) to `person`."""
    EmailAddress.objects.get_or_create(
        address_normalized=email_key(address),
        defaults={
            "person": person,
            "address": address,
            "primary": not person.email_addresses.exists(),
            "status": EmailStatus.SUBSCRIBED,
        },
    )


def _merge_phone(person: Person, data: PersonData) -> None:
    """Add `data.phone` (validated) to `person`, or record their SMS choice on it."""
    phone = person.phone_numbers.filter(number=data.phone).first()
    if phone is None:
        has_phones = person.phone_numbers.exists()
        phone = PhoneNumber(
            person=person,
            number=data.phone,
            number_type=data.phone_type,
            sms_capable=data.phone_type in {"mobile", "voip"},
            primary=not has_phones,
        )
        _phone_consent(phone, data.sms_consent)
        # A concurrent submission may have added the same number a moment ago: theirs stays.
        PhoneNumber.objects.bulk_create([phone], ignore_conflicts=True)
        return
    if _phone_consent(phone, data.sms_consent):
        phone.save(update_fields=["sms_consent", "sms_consent_at", "sms_capable", "modified_at"])


def _phone_consent(phone: PhoneNumber, sms_consent: bool | None) -> bool:
    """Record the person's SMS choice on `phone` (in memory); True when it changed."""
    if sms_consent is None or phone.sms_consent == sms_consent:
        return False
    phone.sms_consent = sms_consent
    phone.sms_consent_at = timezone.now()
    if sms_consent:
        phone.sms_capable = True
    return True


def _merge_address(person: Person, data: PersonData) -> None:
    """Add the address `data` gives as `person`'s primary one, or complete the one they have
    with the same postal code."""
    values = address_values(data)
    postal_code = values["postal_code"]
    addresses = list(person.postal_addresses.all())
    same = next(
        (
            a
            for a in addresses
            if a.postal_code == postal_code
            and (not values["address_lines"] or a.address_lines in ([], values["address_lines"]))
        ),
        None,
    )
    if same is not None:
        changed = [
            key
            for key, value in values.items()
            if value not in ("", None, []) and getattr(same, key) != value
        ]
        for key in changed:
            setattr(same, key, values[key])
        if changed:
            same.save(update_fields=[*changed, "modified_at"])
        return
    if any(a.primary for a in addresses):
        person.postal_addresses.filter(primary=True).update(primary=False)
    PostalAddress.objects.create(person=person, primary=True, **values)
