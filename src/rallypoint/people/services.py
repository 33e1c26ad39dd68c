"""Writes to the people layer. Every entry point (join page, actions, import, API) matches here."""

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from rallypoint.core.audit import log_action
from rallypoint.core.geo import lookup_postal_code
from rallypoint.core.mail import email_queue
from rallypoint.core.statements import Select, insert, update
from rallypoint.ledger.models import Activity
from rallypoint.ledger.services import activity_record
from rallypoint.webhooks.services import webhook_emit

from .models import EmailAddress, EmailStatus, Person, PhoneNumber, PostalAddress, Tag, Tagging
from .normalize import clean_email, clean_phone, email_key

NAME_FIELDS = (
    "given_name",
    "family_name",
    "additional_name",
    "honorific_prefix",
    "honorific_suffix",
)
FIELD_LIMITS = {name: Person._meta.get_field(name).max_length for name in (*NAME_FIELDS, "source")}


# One submission is validated by the form, by the tool's service and by the matching (and a
# known supporter comes back): remember recent good answers. Errors are not cached.
_email_checked = lru_cache(maxsize=4096)(clean_email)
_phone_checked = lru_cache(maxsize=4096)(clean_phone)


@dataclass
class PersonData:
    """What an entry point knows about someone. Blank means "not given", never "erase"."""

    email: str = ""
    phone: str = ""
    given_name: str = ""
    family_name: str = ""
    additional_name: str = ""
    honorific_prefix: str = ""
    honorific_suffix: str = ""
    address_lines: list[str] = field(default_factory=list)
    locality: str = ""
    region: str = ""
    postal_code: str = ""
    country: str = "US"
    latitude: float | None = None
    longitude: float | None = None
    # None: leave consent as it is. True: the person ticked "text me". False: explicit opt-out.
    sms_consent: bool | None = None
    # None: a new address is subscribed, an existing one keeps its status.
    # "subscribed"/"unsubscribed": an explicit choice by the person.
    email_status: str | None = None
    tags: list[str] = field(default_factory=list)
    custom_fields: dict[str, str] = field(default_factory=dict)
    languages_spoken: list[str] = field(default_factory=list)
    source: str = ""
    identifiers: list[str] = field(default_factory=list)
    # Set by validated(): the type phonenumbers gives `phone` ("mobile", "landline", …).
    phone_type: str = field(default="", repr=False, compare=False)

    def validated(self) -> "PersonData":
        """A copy with email/phone cleaned; raises ValidationError keyed by field."""
        errors: dict[str, list[str]] = {}
        email = phone = phone_type = ""
        if self.email.strip():
            try:
                email = _email_checked(self.email)
            except ValidationError as exc:
                errors["email"] = exc.messages
        if self.phone.strip():
            try:
                phone, phone_type = _phone_checked(self.phone, self.country or "US")
            except ValidationError as exc:
                errors["phone"] = exc.messages
        if not self.email.strip() and not self.phone.strip():
            errors["email"] = ["Enter an email address or a phone number."]
        for name, limit in FIELD_LIMITS.items():
            if len(getattr(self, name) or "") > limit:
                errors[name] = [f"Keep this under {limit} characters."]
        if len(self.postal_code) > 20:
            errors["postal_code"] = ["That postal code is too long."]
        if self.email_status and self.email_status not in EmailStatus.values:
            errors["email_status"] = [f"Unknown email status {self.email_status!r}."]
        if errors:
            raise ValidationError(errors)
        data = PersonData(**{**self.__dict__})
        data.email, data.phone, data.phone_type = email, phone, phone_type
        data.tags = [t.strip()[:100] for t in self.tags if t and t.strip()]
        return data


def find_person(*, email: str = "", phone: str = "") -> Person | None:
    """Email first (case-insensitive, trimmed), then phone (E.164)."""
    return _match(email, phone)[0]


def _by_email_or_phone(
    email_rank: int, key: str, phone_rank: int, phone: str
) -> models.QuerySet[Person]:
    # The ranks are parameters too, in the order the SQL takes them.
    by_email = (
        Person.objects.filter(email_addresses__address_normalized=key)
        .annotate(match_rank=models.Value(email_rank))
        .order_by()
    )
    by_phone = (
        Person.objects.filter(phone_numbers__number=phone)
        .annotate(match_rank=models.Value(phone_rank))
        .order_by()
    )
    return by_email.union(by_phone, all=True).order_by("match_rank", "-modified_at")[:1]


# Every submission starts with one of these: their SQL is compiled once per connection.
_MATCH_EMAIL_OR_PHONE = Select("people.match.email_or_phone", Person, _by_email_or_phone)
_MATCH_EMAIL = Select(
    "people.match.email",
    Person,
    lambda key: Person.objects.filter(email_addresses__address_normalized=key)[:1],
)
_MATCH_PHONE = Select(
    "people.match.phone",
    Person,
    lambda phone: Person.objects.filter(phone_numbers__number=phone).order_by("-modified_at")[:1],
)
_POSTAL_ADDRESSES = Select(
    "people.postal_addresses",
    PostalAddress,
    lambda person_id: PostalAddress.objects.filter(person_id=person_id),
)


def _match(email: str, phone: str, *, by_phone: bool = True) -> tuple[Person | None, bool]:
    """(person, matched by email?) in one query.

    `by_phone` (trusted callers that ask for it: an organizer, a read-write API key): email
    first, then the phone number's most recently active owner. Otherwise a given email address
    decides alone (a phone number never picks the person for a submission that names an
    address); the phone number is used only when no address is given."""
    key = email_key(email) if email else ""
    if key and phone and by_phone:
        person = _MATCH_EMAIL_OR_PHONE.one(0, key, 1, phone)
        return person, person is not None and person.match_rank == 0
    if key:
        return _MATCH_EMAIL.one(key), True
    if phone:
        return _MATCH_PHONE.one(phone), False
    return None, False


@dataclass(frozen=True)
class PersonMatch:
    """What matching did with one submission.

    `kept_aside`: what the visitor typed that was not written to the existing record they were
    matched to (a different name, a phone number or address the record does not have, a request
    to resubscribe); the caller keeps it with the act, so nothing they said is lost.
    `possible_duplicate_of`: a new person was created although the phone number they gave is
    already on this person's record (organizers review the pair on the duplicates page)."""

    person: Person
    created: bool
    kept_aside: dict[str, Any] = field(default_factory=dict)
    possible_duplicate_of: int | None = None


def person_match(
    data: PersonData, *, trusted: bool = False, overwrite: bool = True, update_by_phone: bool = True
) -> PersonMatch:
    """Find the person `data` describes or create them, and merge what may be merged.

    Anonymous (the default: public forms, embeds, keyless API helpers, RSVPs, group joins):
    matched by email alone when an address is given, else by phone; an existing person's
    blanks may be filled, but a name, address or contact they have is never replaced, no new
    email or phone is attached to them, tags are never removed and an unsubscribed address or
    phone is never opted back in. What was not applied comes back in `kept_aside`.
    Trusted (`trusted=True`: organizers, read-write API keys): email first, then phone (unless
    `update_by_phone=False`: then a new address with a known phone number makes a new person,
    as for anonymous callers, and `possible_duplicate_of` names the phone's owner); names and
    addresses are replaced unless `overwrite=False` (fill blanks only), contacts attached.
    Raises ValidationError for bad email/phone.
    """
    data = data.validated()
    for _attempt in range(3):
        # No savepoint of its own: a concurrent submission of the same new address is caught
        # by insert(…, ignore_conflicts=True) before anything else is written (never by an
        # exception), so this block never has to roll back alone.
        with transaction.atomic(savepoint=False):
            by_phone = trusted and update_by_phone
            person, by_email = _match(data.email, data.phone, by_phone=by_phone)
            kept: dict[str, Any] | None = {}
            duplicate_of = None
            created = person is None
            if created:
                person = _person_create(data)
                if person is not None and data.phone and not by_phone:
                    duplicate_of = (
                        PhoneNumber.objects.filter(number=data.phone)
                        .exclude(person_id=person.pk)
                        .values_list("person_id", flat=True)
                        .first()
                    )
            else:
                kept = _person_merge_data(
                    person, data, by_email=by_email, overwrite=overwrite, trusted=trusted
                )
                if kept is None:
                    person = None
            if person is not None:
                if kept:
                    log_action(
                        "person.kept_aside",
                        obj=person,
                        data={"source": data.source or "public form", "kept_aside": kept},
                    )
                webhook_emit("person.created" if created else "person.updated", person)
                return PersonMatch(
                    person=person,
                    created=created,
                    kept_aside=kept or {},
                    possible_duplicate_of=duplicate_of,
                )
        # The address was taken a moment ago by a concurrent submission: match again.
    raise IntegrityError(f"Could not match or create a person for {data.email!r}.")


def act_details(match: PersonMatch, details: dict[str, Any]) -> dict[str, Any] | None:
    """An act's details with what matching kept aside (so what the visitor typed stays with
    their act); None when there is nothing to keep."""
    if match.kept_aside:
        details = {**details, "kept_aside": match.kept_aside}
    if match.possible_duplicate_of is not None:
        details = {**details, "possible_duplicate_of": match.possible_duplicate_of}
    return details or None


def person_match_or_create(
    data: PersonData,
    *,
    overwrite: bool = True,
    trusted: bool = False,
    update_by_phone: bool = True,
) -> tuple[Person, bool]:
    """`person_match` for callers that need only (person, created). Anonymous unless
    `trusted=True` (see `person_match` for the two rules)."""
    match = person_match(
        data, trusted=trusted, overwrite=overwrite, update_by_phone=update_by_phone
    )
    return match.person, match.created


def _person_create(data: PersonData) -> Person | None:
    """A new person with their contact details: one INSERT per row. None (and nothing kept)
    when a concurrent submission took the email address first."""
    person = person_new(data)
    insert(person)
    email, phone, address = person_contacts_new(person, data)
    if email is not None and not insert(email, ignore_conflicts=True):
        Person.objects.filter(pk=person.pk).delete()
        return None
    if phone is not None:
        insert(phone)
    if address is not None:
        insert(address)
    for name in data.tags:
        tag_add(person=person, name=name)
    return person


def person_new(data: PersonData) -> Person:
    """The unsaved person `data` (validated) describes, as `person_match_or_create` creates
    them. For writers that store many new people at once (signatures written together)."""
    person = Person(source=data.source[:200])
    _fields_merge(person, data, overwrite=True)
    return person


def person_contacts_new(
    person: Person, data: PersonData
) -> tuple[EmailAddress | None, PhoneNumber | None, PostalAddress | None]:
    """The unsaved email address, phone number and postal address of a new (saved) person,
    each None when `data` has none. Tags are not included (`tag_add`)."""
    email = phone = address = None
    if data.email:
        email = EmailAddress(
            person=person,
            address=data.email,
            address_normalized=email_key(data.email),
            primary=True,
            status=data.email_status or EmailStatus.SUBSCRIBED,
        )
    if data.phone:
        phone = _phone_new(person, data.phone, data.sms_consent, primary=True)
    if data.postal_code or data.address_lines or data.locality:
        address = PostalAddress(person=person, primary=True, **_address_values(data))
    return email, phone, address


def _person_merge_data(
    person: Person, data: PersonData, *, by_email: bool, overwrite: bool, trusted: bool
) -> dict[str, Any] | None:
    """Merge `data` into a known person; returns what was kept aside (not written: see
    `person_match`). None (nothing written) when their new email address was taken a moment
    ago by a concurrent submission."""
    kept: dict[str, Any] = {}
    if not trusted:
        overwrite = False
        kept.update(_fields_not_filled(person, data))
    changed = _fields_merge(person, data, overwrite=overwrite, identifiers=trusted)
    if data.email and by_email:
        status = data.email_status
        if status == EmailStatus.SUBSCRIBED and not trusted:
            # Only the person, through a signed link, opts an address back in.
            address = person.email_addresses.filter(address_normalized=email_key(data.email))
            if address.exclude(status=EmailStatus.SUBSCRIBED).exists():
                kept["email_status"] = status
            status = None
        if status in {EmailStatus.SUBSCRIBED, EmailStatus.UNSUBSCRIBED}:
            # Only an explicit choice changes a known address's status.
            updated = (
                EmailAddress.objects.filter(address_normalized=email_key(data.email))
                .exclude(status=status)
                .update(status=status, modified_at=timezone.now())
            )
            if updated and status == EmailStatus.UNSUBSCRIBED:
                webhook_emit("unsubscribe", person)
    elif data.email:
        # Matched by phone (trusted callers only): the address is nobody's yet (the match
        # looked it up).
        email = EmailAddress(
            person=person,
            address=data.email,
            address_normalized=email_key(data.email),
            primary=not person.email_addresses.exists(),
            status=data.email_status or EmailStatus.SUBSCRIBED,
        )
        if not insert(email, ignore_conflicts=True):
            return None
    if data.phone:
        if trusted:
            _merge_phone(person, data.phone, data.sms_consent)
        else:
            kept.update(_merge_phone_known(person, data.phone, data.sms_consent))
    has_address = bool(data.postal_code or data.address_lines or data.locality)
    if has_address and not _merge_address(person, data, overwrite=overwrite) and not trusted:
        kept["address"] = {
            key: value
            for key, value in {
                "address_lines": data.address_lines,
                "locality": data.locality,
                "region": data.region,
                "postal_code": data.postal_code,
                "country": data.country,
            }.items()
            if value
        }
    for name in data.tags:
        tag_add(person=person, name=name)
    # Always bump modified_at: the record was touched by a new act.
    update(person, [*changed, "modified_at"])
    return kept


def _fields_not_filled(person: Person, data: PersonData) -> dict[str, Any]:
    """What an anonymous submission says that differs from what the person already has (so
    it is not written)."""
    kept: dict[str, Any] = {}
    for name in NAME_FIELDS:
        value = (getattr(data, name) or "").strip()
        current = getattr(person, name)
        if value and current and current != value:
            kept[name] = value
    custom = {
        str(key).strip()[:100]: str(value).strip()
        for key, value in data.custom_fields.items()
        if str(value).strip()
        and person.custom_fields.get(str(key).strip()[:100]) not in (None, "", str(value).strip())
    }
    if custom:
        kept["custom_fields"] = custom
    identifiers = [i for i in data.identifiers if i and i not in person.foreign_identifiers]
    if identifiers:
        kept["identifiers"] = identifiers
    return kept


def _fields_merge(
    person: Person, data: PersonData, *, overwrite: bool, identifiers: bool = True
) -> set[str]:
    """Copy names, source, custom fields, languages and (unless `identifiers=False`) foreign
    identifiers onto `person` (in memory); returns the names of the fields that changed."""
    changed: set[str] = set()
    for name in NAME_FIELDS:
        value = (getattr(data, name) or "").strip()
        if value and getattr(person, name) != value and (overwrite or not getattr(person, name)):
            setattr(person, name, value)
            changed.add(name)
    if data.source and not person.source:
        person.source = data.source[:200]
        changed.add("source")
    for key, value in data.custom_fields.items():
        key, value = str(key).strip()[:100], str(value).strip()
        current = person.custom_fields.get(key)
        if key and value and current != value and (overwrite or not current):
            person.custom_fields = {**person.custom_fields, key: value}
            changed.add("custom_fields")
    for language in data.languages_spoken:
        if language and language not in person.languages_spoken:
            person.languages_spoken = [*person.languages_spoken, language]
            changed.add("languages_spoken")
    for identifier in data.identifiers if identifiers else ():
        if identifier and identifier not in person.foreign_identifiers:
            person.foreign_identifiers = [*person.foreign_identifiers, identifier]
            changed.add("foreign_identifiers")
    return changed


def _merge_email(person: Person, address: str, status: str | None, *, created: bool) -> None:
    existing = EmailAddress.objects.filter(address_normalized=email_key(address)).first()
    if existing is None:
        EmailAddress.objects.create(
            person=person,
            address=address,
            address_normalized=email_key(address),
            primary=not person.email_addresses.exists(),
            status=status or EmailStatus.SUBSCRIBED,
        )
    elif status in {EmailStatus.SUBSCRIBED, EmailStatus.UNSUBSCRIBED} and existing.status != status:
        # Only an explicit choice changes a known address's status.
        existing.status = status
        existing.save(update_fields=["status", "modified_at"])
        if status == EmailStatus.UNSUBSCRIBED:
            webhook_emit("unsubscribe", person)


def _phone_new(person: Person, number: str, sms_consent: bool | None, *, primary: bool):
    e164, number_type = _phone_checked(number)
    phone = PhoneNumber(
        person=person,
        number=e164,
        number_type=number_type,
        sms_capable=number_type in {"mobile", "voip"},
        primary=primary,
    )
    _phone_consent(phone, sms_consent)
    return phone


def _phone_consent(phone: PhoneNumber, sms_consent: bool | None) -> bool:
    """Record the person's SMS choice on `phone` (in memory); True when it changed."""
    if sms_consent is None or phone.sms_consent == sms_consent:
        return False
    phone.sms_consent = sms_consent
    phone.sms_consent_at = timezone.now()
    if sms_consent:
        phone.sms_capable = True
    return True


def _merge_phone(person: Person, number: str, sms_consent: bool | None) -> None:
    phones = list(person.phone_numbers.all())
    phone = next((p for p in phones if p.number == number), None)
    if phone is None:
        phone = _phone_new(person, number, sms_consent, primary=not phones)
        if insert(phone, ignore_conflicts=True):
            return
        # The same number was added to this person a moment ago by a concurrent submission.
        phone = person.phone_numbers.get(number=phone.number)
    if _phone_consent(phone, sms_consent):
        phone.save(update_fields=["sms_consent", "sms_consent_at", "sms_capable", "modified_at"])


def _merge_phone_known(person: Person, number: str, sms_consent: bool | None) -> dict[str, Any]:
    """An anonymous submission's phone number for a known person: only a number already on
    their record is touched (its SMS choice recorded, but an opted-out number is not opted
    back in). Returns what was kept aside."""
    phone = person.phone_numbers.filter(number=number).first()
    if phone is None:
        kept: dict[str, Any] = {"phone": number}
        if sms_consent is not None:
            kept["sms_consent"] = sms_consent
        return kept
    if sms_consent and not phone.sms_consent and phone.sms_consent_at is not None:
        return {"sms_consent": True}
    if _phone_consent(phone, sms_consent):
        phone.save(update_fields=["sms_consent", "sms_consent_at", "sms_capable", "modified_at"])
    return {}


def _address_values(data: PersonData) -> dict[str, Any]:
    country = (data.country or "US").upper()[:2]
    postal_code = data.postal_code.strip()
    place = lookup_postal_code(postal_code, country) if postal_code else None
    latitude = data.latitude if data.latitude is not None else (place and place.latitude)
    longitude = data.longitude if data.longitude is not None else (place and place.longitude)
    return {
        "address_lines": [line.strip() for line in data.address_lines if line.strip()],
        "locality": data.locality.strip() or (place.locality if place else ""),
        "region": data.region.strip() or (place.region if place else ""),
        "postal_code": postal_code,
        "country": country,
        "latitude": latitude,
        "longitude": longitude,
        "accuracy": "rooftop" if data.latitude is not None else ("approximate" if place else ""),
    }


def _merge_address(person: Person, data: PersonData, *, overwrite: bool) -> bool:
    """Merge a postal address; False when it was not written (the person has another address
    and `overwrite` is off)."""
    values = _address_values(data)
    postal_code = values["postal_code"]
    addresses = _POSTAL_ADDRESSES.all(person.pk)
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
            if value not in ("", None, [])
            and (overwrite or getattr(same, key) in ("", None, []))
            and getattr(same, key) != value
        ]
        for key in changed:
            setattr(same, key, values[key])
        if changed:
            same.save(update_fields=[*changed, "modified_at"])
        return True
    if addresses and not overwrite:
        return False  # a known address is kept; fill-blanks merges add nothing here
    if overwrite and any(a.primary for a in addresses):
        person.postal_addresses.filter(primary=True).update(primary=False)
    insert(PostalAddress(person=person, primary=True, **values))
    return True


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
        webhook_emit("person.updated", person)
    return person


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


def person_join(
    *, data: PersonData, referral: Any = None, campaign: Any = None
) -> tuple[Person, bool]:
    """Someone joins (the public Join page, a sign-up form): match or create them, record the
    "join" act once per person (a double submit counts once) with its referral, and queue one
    confirmation email. Returns (person, created)."""
    with transaction.atomic():
        match = person_match(data)
        person, created = match.person, match.created
        # Someone new has not joined before; only known people need the check.
        already_joined = (
            not created
            and Activity.objects.filter(person=person, kind="join", campaign=campaign).exists()
        )
        if not already_joined:
            activity_record(
                person=person,
                kind="join",
                campaign=campaign,
                referral=referral,
                person_created=created,
                details=act_details(match, {"source": data.source} if data.source else {}),
            )
        key = email_key(data.email)
        if created and key:
            # Just written by the match: the address as given, with the status it was given.
            address: EmailAddress | None = EmailAddress(
                address=data.email.strip(),
                status=data.email_status or EmailStatus.SUBSCRIBED,
            )
        else:
            address = person.email_addresses.filter(address_normalized=key).first() if key else None
        if address is not None and address.status == EmailStatus.SUBSCRIBED:
            email_queue(
                to=address.address,
                template="people/email/join_confirmation",
                context={"person": person},
                dedupe_key=f"people.join:{person.pk}",
            )
    return person, created


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
    added = {k: v for k, v in {"email": data.email, "phone": data.phone}.items() if v}
    if postal_code:
        added.update(postal_code=postal_code, country=country)
    if sms_consent is not None and data.phone:
        added["sms_consent"] = sms_consent
    with transaction.atomic():
        if data.email:
            _merge_email(person, data.email, None, created=False)
        if data.phone:
            _merge_phone(person, data.phone, sms_consent)
        if postal_code:
            _merge_address(person, data, overwrite=True)
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
        webhook_emit(
            "unsubscribe" if status == EmailStatus.UNSUBSCRIBED else "person.updated",
            email.person,
        )
    return email
