"""Batch matching for imports: the Join page's rules, thousands of rows at a time.

`people_bulk_upsert(rows)` gives the same result as calling `person_match_or_create(data,
overwrite=...)` on each row in order (email first, then phone; merged arrays; blanks never erase;
unknown-to-known status changes only by explicit choice), but with a handful of queries per batch:
one lookup per key type, one insert per table (COPY on PostgreSQL) and one update per table.
Rows are validated by `PersonData.validated()` — the same function every entry point uses.

The matching rule: a row is matched by its email address; a row without an email by its phone
number. A row whose email is new but whose phone number is already someone else's creates a new
person (never updates the phone's owner) and is reported as a possible duplicate of that owner,
unless the caller opts in to `update_by_phone`, which matches such rows by phone.

Each row comes back with what it did (created, updated, unchanged, possible duplicate), and each
update of a person who existed before the batch can be written to their change history (the
audit log) in one statement per batch.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from rallypoint.core.geo import lookup_postal_code
from rallypoint.core.models import AuditEntry

from ..models import (
    EmailAddress,
    EmailStatus,
    Person,
    PhoneNumber,
    PostalAddress,
    Tagging,
    new_share_codes,
)
from ..normalize import email_key
from ..services import NAME_FIELDS, PersonData, tag_get_or_create
from .sql import InList, insert_rows, update_rows

FIELD_LABELS = {
    "email": "Email",
    "phone": "Phone",
    "given_name": "First name",
    "family_name": "Last name",
    "additional_name": "Middle name",
    "honorific_prefix": "Title",
    "honorific_suffix": "Suffix",
    "source": "Source",
    "postal_code": "Postal code",
    "email_status": "Email status",
}
PERSON_MERGED_FIELDS = (
    *NAME_FIELDS,
    "source",
    "custom_fields",
    "languages_spoken",
    "foreign_identifiers",
)
ADDRESS_VALUE_FIELDS = (
    "address_lines",
    "locality",
    "region",
    "postal_code",
    "country",
    "latitude",
    "longitude",
    "accuracy",
)
BLANK = ("", None, [])
# Line numbers kept in one history entry (a person a file names a thousand times gets one entry).
MAX_HISTORY_LINES = 20


@dataclass
class RowError:
    line: int
    reason: str


Outcome = Literal["created", "updated", "unchanged"]


@dataclass
class RowOutcome:
    """What one row did: created a person, changed a known one, or brought nothing new.
    `duplicate_of`: another person who has this row's phone number (a possible duplicate)."""

    line: int
    person_id: int
    outcome: Outcome
    duplicate_of: int | None = None


@dataclass
class BatchResult:
    created: int = 0
    updated: int = 0  # rows that changed a known person
    unchanged: int = 0  # rows matched to a known person that brought nothing new
    possible_duplicates: int = 0
    errors: list[RowError] = field(default_factory=list)
    # line number → id of the person the row was merged into (or created)
    person_ids: dict[int, int] = field(default_factory=dict)
    rows: list[RowOutcome] = field(default_factory=list)

    def reset(self) -> None:
        self.created = self.updated = self.unchanged = self.possible_duplicates = 0
        self.person_ids, self.rows = {}, []


@dataclass(frozen=True)
class ChangeSource:
    """Where a batch of changes came from ("import #12") and the user who made it (their id,
    or None): each known person the batch changes gets a "person.updated" entry in their
    history with this source."""

    source: str
    actor_id: int | None = None


def error_reason(exc: ValidationError) -> str:
    """One readable sentence from a PersonData validation error."""
    if not hasattr(exc, "error_dict"):
        return " ".join(exc.messages)
    parts = []
    for name, messages in exc.message_dict.items():
        text = " ".join(messages)
        if name == "email" and text == "Enter an email address or a phone number.":
            parts.append("No email address and no phone number.")
        else:
            parts.append(f"{FIELD_LABELS.get(name, name)}: {text}")
    return " ".join(parts)


# --- in-memory state of the people a batch touches ----------------------------------------------


@dataclass
class _Phone:
    number: str
    number_type: str
    sms_capable: bool
    sms_consent: bool
    sms_consent_at: datetime | None
    primary: bool
    id: int | None = None
    touched: bool = False
    original_consent: bool | None = None


@dataclass
class _Address:
    primary: bool
    values: dict[str, Any]
    id: int | None = None
    touched: bool = False
    order: int = 0  # creation order for addresses added in this batch


@dataclass
class _Email:
    address: str
    key: str
    status: str
    slot: _Slot
    primary: bool = False
    id: int | None = None
    status_changed: bool = False
    original_status: str = ""


@dataclass(eq=False)
class _Slot:
    """One person: existing (id set) or to be created by this batch."""

    fields: dict[str, Any]
    id: int | None = None
    has_email: bool = False
    phones: dict[str, _Phone] = field(default_factory=dict)
    addresses: list[_Address] = field(default_factory=list)
    tag_ids: set[int] = field(default_factory=set)
    new_tag_ids: list[int] = field(default_factory=list)
    modified_at: datetime | None = None
    # For the change history of a person who existed before the batch: their fields and
    # primary address as loaded, and the lines of the rows that changed them.
    original: dict[str, Any] | None = None
    original_address: dict[str, str] = field(default_factory=dict)
    changed_lines: list[int] = field(default_factory=list)

    @property
    def is_new(self) -> bool:
        return self.id is None


def _new_slot(source: str) -> _Slot:
    return _Slot(
        fields={
            **dict.fromkeys(NAME_FIELDS, ""),
            "source": source[:200],
            "custom_fields": {},
            "languages_spoken": [],
            "foreign_identifiers": [],
        }
    )


# --- the batch --------------------------------------------------------------------------------


@dataclass
class PreparedRows:
    """Rows checked by PersonData.validated(), ready for people_bulk_write."""

    valid: list[tuple[int, PersonData]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def people_bulk_prepare(
    rows: Iterable[tuple[int, PersonData]], *, tags: Sequence[str] = (), source: str = ""
) -> PreparedRows:
    """Validate rows (no database access, so it can run while the previous batch is written).
    `tags` are added to every row and `source` is used where a row has none."""
    prepared = PreparedRows()
    for line, data in rows:
        if tags:
            data.tags = [*data.tags, *tags]
        if source and not data.source:
            data.source = source
        try:
            prepared.valid.append((line, data.validated()))
        except ValidationError as exc:
            prepared.errors.append(RowError(line, error_reason(exc)))
    return prepared


def people_bulk_write(
    prepared: PreparedRows,
    *,
    overwrite: bool = False,
    update_by_phone: bool = False,
    changed_by: ChangeSource | None = None,
) -> BatchResult:
    """Match or create the person each prepared row describes, in order, in one transaction.
    Bad rows come back as errors (line + reason) and change nothing; the others are written.

    `update_by_phone`: a row with a new email and a known phone number updates the number's
    owner (instead of creating a new person reported as a possible duplicate).
    `changed_by`: record each change of a known person in their history."""
    result = BatchResult(errors=list(prepared.errors))
    valid = prepared.valid
    if not valid:
        return result
    tag_ids, tag_names = _tags(name for _, data in valid for name in data.tags)
    for attempt in range(3):
        try:
            with transaction.atomic(), connection.wrap_database_errors:
                batch = _Batch(
                    valid,
                    overwrite=overwrite,
                    tag_ids=tag_ids,
                    tag_names=tag_names,
                    update_by_phone=update_by_phone,
                )
                batch.run(result, changed_by=changed_by)
            return result
        except IntegrityError:
            # Someone else added one of these addresses in the meantime: look everything up again.
            result.reset()
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def people_bulk_upsert(
    rows: Sequence[tuple[int, PersonData]],
    *,
    overwrite: bool = False,
    update_by_phone: bool = False,
    tags: Sequence[str] = (),
    source: str = "",
    changed_by: ChangeSource | None = None,
) -> BatchResult:
    """people_bulk_prepare then people_bulk_write: the same result as person_match_or_create
    on each row in order."""
    return people_bulk_write(
        people_bulk_prepare(rows, tags=tags, source=source),
        overwrite=overwrite,
        update_by_phone=update_by_phone,
        changed_by=changed_by,
    )


def _tags(names: Iterable[str]) -> tuple[dict[str, int], dict[int, str]]:
    """({lower-cased name: tag id}, {tag id: the tag's name as stored})."""
    ids: dict[str, int] = {}
    stored: dict[int, str] = {}
    for name in names:
        key = name.strip()[:100].lower()
        if key and key not in ids:
            tag = tag_get_or_create(name)
            ids[key], stored[tag.pk] = tag.pk, tag.name
    return ids, stored


def _yes_no(value: bool | None) -> str:
    return "yes" if value else "no"


def _primary_address_view(slot: _Slot) -> dict[str, str]:
    """The primary address and its coordinates as text, to show before/after in the change
    history."""
    primary = next((a for a in slot.addresses if a.primary), None)
    if primary is None:
        return {"address": "", "coordinates": ""}
    values = primary.values
    parts = [*values["address_lines"], values["locality"], values["region"], values["postal_code"]]
    coordinates = ""
    if values["latitude"] is not None and values["longitude"] is not None:
        coordinates = f"{values['latitude']}, {values['longitude']}"
        if values["accuracy"]:
            coordinates += f" ({values['accuracy']})"
    return {"address": ", ".join(str(p) for p in parts if p), "coordinates": coordinates}


class _Batch:
    def __init__(
        self,
        rows: list[tuple[int, PersonData]],
        *,
        overwrite: bool,
        tag_ids: dict[str, int],
        tag_names: dict[int, str] | None = None,
        update_by_phone: bool = False,
    ):
        self.rows = rows
        self.overwrite = overwrite
        self.update_by_phone = update_by_phone
        self.tag_ids = tag_ids
        self.tag_names = tag_names or {}
        self.now = timezone.now()
        self.slots: dict[int, _Slot] = {}  # existing people by id
        self.new_slots: list[_Slot] = []
        self.emails: dict[str, _Email] = {}  # by key, for every address this batch mentions
        self.new_emails: list[_Email] = []
        self.phone_owner: dict[str, _Slot] = {}
        self.address_seq = 0

    # Lookups: one query per key type, then the people they point at.
    def _load(self) -> None:
        keys = {email_key(data.email) for _, data in self.rows if data.email}
        numbers = {data.phone for _, data in self.rows if data.phone}
        email_rows = list(
            EmailAddress.objects.filter(InList("address_normalized", keys))
            .order_by()
            .values_list("id", "address_normalized", "address", "status", "person_id")
        )
        best_phone: dict[str, tuple[datetime, int]] = {}
        for number, person_id, modified in (
            PhoneNumber.objects.filter(InList("number", numbers))
            .order_by()
            .values_list("number", "person_id", "person__modified_at")
        ):
            if number not in best_phone or (modified, person_id) > best_phone[number]:
                best_phone[number] = (modified, person_id)
        person_ids = {row[4] for row in email_rows} | {pid for _, pid in best_phone.values()}
        for pk, *values in (
            Person.objects.filter(InList("id", person_ids))
            .order_by()
            .values_list("pk", "modified_at", *PERSON_MERGED_FIELDS)
        ):
            modified_at, *merged = values
            slot = _Slot(fields=dict(zip(PERSON_MERGED_FIELDS, merged, strict=True)), id=pk)
            slot.modified_at = modified_at
            slot.original = dict(slot.fields)
            self.slots[pk] = slot
        for email_id, key, address, status, person_id in email_rows:
            slot = self.slots[person_id]
            slot.has_email = True
            self.emails[key] = _Email(
                address, key, status, slot, id=email_id, original_status=status
            )
        for person_id in (
            EmailAddress.objects.filter(
                InList("person_id", set(self.slots) - {r[4] for r in email_rows})
            )
            .order_by()
            .values_list("person_id", flat=True)
            .distinct()
        ):
            self.slots[person_id].has_email = True
        phones = PhoneNumber.objects.filter(InList("person_id", self.slots)).order_by()
        for row in phones.values_list(
            "person_id",
            "id",
            "number",
            "number_type",
            "sms_capable",
            "sms_consent",
            "sms_consent_at",
            "primary",
        ):
            person_id, pk, number, *rest = row
            phone = _Phone(number, *rest, id=pk)
            phone.original_consent = phone.sms_consent
            self.slots[person_id].phones[number] = phone
        for number, (_, person_id) in best_phone.items():
            self.phone_owner[number] = self.slots[person_id]
        for row in (
            PostalAddress.objects.filter(InList("person_id", self.slots))
            .order_by("-primary", "id")
            .values_list("person_id", "id", "primary", *ADDRESS_VALUE_FIELDS)
        ):
            person_id, pk, primary, *values = row
            self.slots[person_id].addresses.append(
                _Address(primary, dict(zip(ADDRESS_VALUE_FIELDS, values, strict=True)), id=pk)
            )
        for slot in self.slots.values():
            slot.original_address = _primary_address_view(slot)
        for person_id, tag_id in (
            Tagging.objects.filter(
                InList("person_id", self.slots), tag_id__in=set(self.tag_ids.values())
            )
            .order_by()
            .values_list("person_id", "tag_id")
        ):
            self.slots[person_id].tag_ids.add(tag_id)

    def _match(self, data: PersonData) -> tuple[_Slot | None, _Slot | None]:
        """(the person this row updates or None for a new one, another person who has the
        row's phone number)."""
        owner = self.phone_owner.get(data.phone) if data.phone else None
        if not data.email:
            return owner, None
        known = self.emails.get(email_key(data.email))
        if known is not None:
            shared = owner is not None and data.phone not in known.slot.phones
            return known.slot, (owner if shared else None)
        if owner is not None and self.update_by_phone:
            return owner, None
        return None, owner

    def run(self, result: BatchResult, *, changed_by: ChangeSource | None = None) -> None:
        self._load()
        line_slots: list[tuple[int, _Slot, Outcome, _Slot | None]] = []
        for line, data in self.rows:
            slot, duplicate_of = self._match(data)
            outcome: Outcome
            if slot is None:
                slot = _new_slot(data.source)
                self.new_slots.append(slot)
                self._apply(slot, data)
                outcome = "created"
            elif self._apply(slot, data):
                outcome = "updated"
                slot.changed_lines.append(line)
            else:
                outcome = "unchanged"
            line_slots.append((line, slot, outcome, duplicate_of))
        self._write()
        for line, slot, outcome, duplicate_of in line_slots:
            assert slot.id is not None
            result.person_ids[line] = slot.id
            other = duplicate_of.id if duplicate_of is not None else None
            result.rows.append(RowOutcome(line, slot.id, outcome, other))
            if outcome == "created":
                result.created += 1
            elif outcome == "updated":
                result.updated += 1
            else:
                result.unchanged += 1
            if other is not None:
                result.possible_duplicates += 1
        if changed_by is not None:
            self._write_history(changed_by)

    # The merge, row by row — mirrors people.services._apply. True when something changed.
    def _apply(self, slot: _Slot, data: PersonData) -> bool:
        fields, overwrite = slot.fields, self.overwrite
        changed = False
        for name in NAME_FIELDS:
            value = (getattr(data, name) or "").strip()
            if value and fields[name] != value and (overwrite or not fields[name]):
                fields[name] = value
                changed = True
        if data.source and not fields["source"]:
            fields["source"] = data.source[:200]
            changed = True
        for key, value in data.custom_fields.items():
            key, value = str(key).strip()[:100], str(value).strip()
            current = fields["custom_fields"].get(key)
            if key and value and current != value and (overwrite or not current):
                fields["custom_fields"] = {**fields["custom_fields"], key: value}
                changed = True
        for language in data.languages_spoken:
            if language and language not in fields["languages_spoken"]:
                fields["languages_spoken"] = [*fields["languages_spoken"], language]
                changed = True
        for identifier in data.identifiers:
            if identifier and identifier not in fields["foreign_identifiers"]:
                fields["foreign_identifiers"] = [*fields["foreign_identifiers"], identifier]
                changed = True
        if data.email:
            changed = self._merge_email(slot, data.email, data.email_status) or changed
        if data.phone:
            changed = (
                self._merge_phone(slot, data.phone, data.phone_type, data.sms_consent) or changed
            )
        if data.postal_code or data.address_lines or data.locality:
            changed = self._merge_address(slot, data) or changed
        for name in data.tags:
            tag_id = self.tag_ids[name.strip()[:100].lower()]
            if tag_id not in slot.tag_ids:
                slot.tag_ids.add(tag_id)
                slot.new_tag_ids.append(tag_id)
                changed = True
        # The person was touched last: a later phone-only row finds them first (newest wins).
        for number in slot.phones:
            if number in self.phone_owner:
                self.phone_owner[number] = slot
        return changed

    def _merge_email(self, slot: _Slot, address: str, status: str | None) -> bool:
        key = email_key(address)
        existing = self.emails.get(key)
        if existing is None:
            email = _Email(
                address,
                key,
                status or EmailStatus.SUBSCRIBED,
                slot,
                primary=not slot.has_email,
            )
            slot.has_email = True
            self.emails[key] = email
            self.new_emails.append(email)
            return True
        if status in {EmailStatus.SUBSCRIBED, EmailStatus.UNSUBSCRIBED} and (
            existing.status != status
        ):
            existing.status = status
            existing.status_changed = True
            return True
        return False

    def _merge_phone(
        self, slot: _Slot, number: str, number_type: str, sms_consent: bool | None
    ) -> bool:
        """`number` is E.164 and `number_type` its type, both from PersonData.validated()."""
        changed = False
        phone = slot.phones.get(number)
        if phone is None:
            phone = _Phone(
                number,
                number_type,
                sms_capable=number_type in {"mobile", "voip"},
                sms_consent=False,
                sms_consent_at=None,
                primary=not slot.phones,
            )
            slot.phones[number] = phone
            self.phone_owner[number] = slot
            changed = True
        if sms_consent is not None and phone.sms_consent != sms_consent:
            phone.sms_consent = sms_consent
            phone.sms_consent_at = self.now
            if sms_consent:
                phone.sms_capable = True
            changed = True
        phone.touched = True
        return changed

    def _merge_address(self, slot: _Slot, data: PersonData) -> bool:
        overwrite = self.overwrite
        country = (data.country or "US").upper()[:2]
        postal_code = data.postal_code.strip()
        place = lookup_postal_code(postal_code, country) if postal_code else None
        latitude = data.latitude if data.latitude is not None else (place and place.latitude)
        longitude = data.longitude if data.longitude is not None else (place and place.longitude)
        values = {
            "address_lines": [line.strip() for line in data.address_lines if line.strip()],
            "locality": data.locality.strip() or (place.locality if place else ""),
            "region": data.region.strip() or (place.region if place else ""),
            "postal_code": postal_code,
            "country": country,
            "latitude": latitude,
            "longitude": longitude,
            "accuracy": (
                "rooftop" if data.latitude is not None else ("approximate" if place else "")
            ),
        }
        if not slot.addresses:  # most rows: a new person's first address
            self.address_seq += 1
            slot.addresses.append(_Address(True, values, touched=True, order=self.address_seq))
            return True
        addresses = sorted(
            slot.addresses,
            key=lambda a: (not a.primary, a.id if a.id is not None else 10**18 + a.order),
        )
        same = next(
            (
                a
                for a in addresses
                if a.values["postal_code"] == postal_code
                and (
                    not values["address_lines"]
                    or a.values["address_lines"] in ([], values["address_lines"])
                )
            ),
            None,
        )
        if same is not None:
            changed = False
            for key, value in values.items():
                if value not in BLANK and (overwrite or same.values[key] in BLANK):
                    changed = changed or same.values[key] != value
                    same.values[key] = value
            same.touched = True
            return changed
        if addresses and not overwrite:
            return False
        if overwrite:
            for address in slot.addresses:
                if address.primary:
                    address.primary = False
                    address.touched = True
        self.address_seq += 1
        slot.addresses.append(_Address(True, values, touched=True, order=self.address_seq))
        return True

    # The change history: one "person.updated" entry per known person the batch changed.
    def _write_history(self, changed_by: ChangeSource) -> None:
        added_emails: dict[int, list[str]] = {}
        for email in self.new_emails:
            if email.slot.id is not None and email.slot.original is not None:
                added_emails.setdefault(email.slot.id, []).append(email.address)
        status_changes: dict[int, list[_Email]] = {}
        for email in self.emails.values():
            if email.status_changed and email.status != email.original_status:
                status_changes.setdefault(email.slot.id or 0, []).append(email)
        label = Person._meta.label_lower
        entries = []
        for slot in self.slots.values():
            if not slot.changed_lines or slot.original is None:
                continue
            before: dict[str, Any] = {}
            after: dict[str, Any] = {}
            for name in PERSON_MERGED_FIELDS:
                if slot.original[name] != slot.fields[name]:
                    before[name], after[name] = slot.original[name], slot.fields[name]
            if slot.id in added_emails:
                before["email_added"], after["email_added"] = "", ", ".join(added_emails[slot.id])
            for email in status_changes.get(slot.id or 0, []):
                before[f"email_status {email.address}"] = email.original_status
                after[f"email_status {email.address}"] = email.status
            new_numbers = [p.number for p in slot.phones.values() if p.id is None]
            if new_numbers:
                before["phone_added"], after["phone_added"] = "", ", ".join(new_numbers)
            for phone in slot.phones.values():
                if phone.id is not None and phone.sms_consent != phone.original_consent:
                    before[f"sms_consent {phone.number}"] = _yes_no(phone.original_consent)
                    after[f"sms_consent {phone.number}"] = _yes_no(phone.sms_consent)
            address = _primary_address_view(slot)
            for key, value in address.items():
                if value != slot.original_address.get(key, ""):
                    before[key], after[key] = slot.original_address.get(key, ""), value
            if slot.new_tag_ids:
                names = [self.tag_names.get(t, str(t)) for t in slot.new_tag_ids]
                before["tags_added"], after["tags_added"] = "", ", ".join(names)
            if not after:
                continue  # changed and changed back within the batch
            data = {
                "source": changed_by.source,
                "lines": slot.changed_lines[:MAX_HISTORY_LINES],
                "before": before,
                "after": after,
            }
            entries.append(("person.updated", label, str(slot.id), changed_by.actor_id, data))
        # The rows log_action would write, in one statement for the batch.
        insert_rows(AuditEntry, ["action", "object_type", "object_id", "actor_id", "data"], entries)

    # Writes: one statement per table.
    def _write(self) -> None:
        now = self.now
        if self.new_slots:
            columns = ["created_at", "modified_at", "share_code", *PERSON_MERGED_FIELDS]
            codes = new_share_codes(len(self.new_slots))
            rows = [
                (now, now, code, *(s.fields[f] for f in PERSON_MERGED_FIELDS))
                for s, code in zip(self.new_slots, codes, strict=True)
            ]
            ids = insert_rows(Person, columns, rows, returning=True)
            for slot, pk in zip(self.new_slots, ids, strict=True):
                slot.id = pk
        existing = list(self.slots.values())
        update_rows(
            Person,
            ["modified_at", *PERSON_MERGED_FIELDS],
            [(s.id, [now, *(s.fields[f] for f in PERSON_MERGED_FIELDS)]) for s in existing],
        )
        email_columns = [
            "person_id",
            "address",
            "address_normalized",
            "primary",
            "status",
            "created_at",
            "modified_at",
        ]
        insert_rows(
            EmailAddress,
            email_columns,
            [(e.slot.id, e.address, e.key, e.primary, e.status, now, now) for e in self.new_emails],
        )
        update_rows(
            EmailAddress,
            ["status", "modified_at"],
            [(e.id, [e.status, now]) for e in self.emails.values() if e.status_changed],
        )
        phone_columns = [
            "person_id",
            "number",
            "primary",
            "number_type",
            "sms_capable",
            "sms_consent",
            "sms_consent_at",
            "created_at",
            "modified_at",
        ]
        slots = [*existing, *self.new_slots]
        new_phones, changed_phones = [], []
        for slot in slots:
            for p in slot.phones.values():
                if p.id is None:
                    new_phones.append(
                        (
                            slot.id,
                            p.number,
                            p.primary,
                            p.number_type,
                            p.sms_capable,
                            p.sms_consent,
                            p.sms_consent_at,
                            now,
                            now,
                        )
                    )
                elif p.touched:
                    changed_phones.append(
                        (p.id, [p.sms_capable, p.sms_consent, p.sms_consent_at, now])
                    )
        insert_rows(PhoneNumber, phone_columns, new_phones)
        update_rows(
            PhoneNumber,
            ["sms_capable", "sms_consent", "sms_consent_at", "modified_at"],
            changed_phones,
        )
        new_addresses, changed_addresses = [], []
        for slot in slots:
            for a in slot.addresses:
                if a.id is None:
                    new_addresses.append(
                        (slot.id, a.primary, *(a.values[f] for f in ADDRESS_VALUE_FIELDS), now, now)
                    )
                elif a.touched:
                    changed_addresses.append(
                        (a.id, [a.primary, *(a.values[f] for f in ADDRESS_VALUE_FIELDS), now])
                    )
        update_rows(
            PostalAddress, ["primary", *ADDRESS_VALUE_FIELDS, "modified_at"], changed_addresses
        )
        insert_rows(
            PostalAddress,
            ["person_id", "primary", *ADDRESS_VALUE_FIELDS, "created_at", "modified_at"],
            new_addresses,
        )
        insert_rows(
            Tagging,
            ["person_id", "tag_id", "created_at", "modified_at"],
            [(s.id, tag_id, now, now) for s in slots for tag_id in s.new_tag_ids],
        )
