"""The batch behind `match_or_create_many`: load the people a batch's rows point at, decide row
by row in memory (each row sees what the rows before it did), then write each table once.

A big batch (an import's) first sets apart its independent new rows: rows whose email address
and phone number no one has and no other row of the batch gives. Each of them can only make a
new person, so they are written set-based (`batch_stage`): staged in a temporary table and
copied into the people tables with INSERT … SELECT. Only the other rows go through the
decision row by row; new people get their ids in row order either way.

The rule itself is described in `matching`; `MatchRules` says how far a batch is trusted.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils import timezone

from rallypoint.core.models import AuditEntry

from ..models import (
    EmailAddress,
    EmailStatus,
    Person,
    PhoneNumber,
    PostalAddress,
    Tagging,
)
from ..normalize import email_key
from ..rows import InList
from .batch_stage import BatchStage, emails_found, phones_found, stage_supported
from .batch_state import (
    ADDRESS_VALUE_FIELDS,
    BLANK,
    PERSON_MERGED_FIELDS,
    SMALL_BATCH,
    STAGE_MIN_ROWS,
    AddressState,
    ConflictError,
    EmailState,
    PhoneState,
    Slot,
    new_record,
    primary_address_view,
)
from .batch_write import BatchWrites
from .data import NAME_FIELDS, PersonData, address_values
from .results import ChangeSource, MatchResult, MatchRules, Outcome
from .tags import tag_get_or_create

__all__ = ["ConflictError", "MatchBatch"]


def _fields_not_filled(person: Person, data: PersonData) -> dict[str, Any]:
    """What an anonymous row says that differs from what the person already has (so it is not
    written)."""
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


def _fields_merge(person: Person, data: PersonData, *, overwrite: bool, identifiers: bool) -> bool:
    """Copy names, source, custom fields, languages and (with `identifiers`) foreign identifiers
    onto `person` (in memory, each changed list or dict replaced, never mutated); True when
    something changed."""
    changed = False
    for name in NAME_FIELDS:
        value = (getattr(data, name) or "").strip()
        current = getattr(person, name)
        if value and current != value and (overwrite or not current):
            setattr(person, name, value)
            changed = True
    if data.source and not person.source:
        person.source = data.source[:200]
        changed = True
    for key, value in data.custom_fields.items():
        key, value = str(key).strip()[:100], str(value).strip()
        current = person.custom_fields.get(key)
        if key and value and current != value and (overwrite or not current):
            person.custom_fields = {**person.custom_fields, key: value}
            changed = True
    for language in data.languages_spoken:
        if language and language not in person.languages_spoken:
            person.languages_spoken = [*person.languages_spoken, language]
            changed = True
    for identifier in data.identifiers if identifiers else ():
        if identifier and identifier not in person.foreign_identifiers:
            person.foreign_identifiers = [*person.foreign_identifiers, identifier]
            changed = True
    return changed


@dataclass
class _Row:
    """What the decision made of one row, until the batch is written."""

    slot: Slot
    outcome: Outcome
    kept: dict[str, Any]
    duplicate_of: Slot | None
    unsubscribed: bool
    source: str


class MatchBatch(BatchStage, BatchWrites):
    def __init__(
        self, rows: Sequence[PersonData], rules: MatchRules, lines: Sequence[int] | None = None
    ):
        self.rows = rows
        self.rules = rules
        self.lines = list(lines) if lines is not None else list(range(len(rows)))
        self.now = timezone.now()
        # A small batch builds Person instances and writes them with bulk_create; a big one
        # keeps new people's fields in plain records and writes them in bulk.
        self.small = len(rows) <= SMALL_BATCH
        self.slots: dict[int, Slot] = {}  # known people by id
        self.new_slots: list[Slot] = []
        self.emails: dict[str, EmailState] = {}  # by key, for every address the batch mentions
        self.new_emails: list[EmailState] = []
        self.phone_owner: dict[str, Slot] = {}  # the most recently active owner
        self.tag_ids: dict[str, int] = {}
        self.tag_names: dict[int, str] = {}
        self.address_seq = 0
        # The known email addresses and phone numbers of the rows, with their people, when
        # looked up before the decision (a staged batch).
        self.found: tuple[list[EmailAddress], list[PhoneNumber]] | None = None

    @staticmethod
    def person_new(data: PersonData) -> Person:
        """The unsaved person a new row describes."""
        person = Person(source=data.source[:200])
        _fields_merge(person, data, overwrite=True, identifiers=True)
        return person

    # --- lookups: one query per key type, then what the rows need of the people found ---------

    def _known(self, person: Person) -> Slot:
        slot = self.slots.get(person.pk)
        if slot is None:
            original = {name: getattr(person, name) for name in PERSON_MERGED_FIELDS}
            slot = self.slots[person.pk] = Slot(person=person, original=original)
        return slot

    def _load(self, *, history: bool) -> None:
        rows = self.rows
        keys = {email_key(data.email) for data in rows if data.email}
        numbers = {data.phone for data in rows if data.phone}
        # A staged batch looked them up already, for all its rows (`_entangled`).
        found_emails, found_phones = self.found or (emails_found(keys), phones_found(numbers))
        if keys:
            for email in found_emails:
                slot = self._known(email.person)
                slot.has_email = True
                self.emails[email.address_normalized] = EmailState(
                    email.address,
                    email.address_normalized,
                    email.status,
                    slot,
                    id=email.pk,
                    original_status=email.status,
                )
        loaded_phones: set[int] = set()
        if numbers:
            best: dict[str, tuple[datetime, int]] = {}
            for phone in found_phones:
                slot = self._known(phone.person)
                self._phone_known(slot, phone.pk, phone)
                loaded_phones.add(phone.pk)
                rank = (phone.person.modified_at, phone.person_id)
                if phone.number not in best or rank > best[phone.number]:
                    best[phone.number] = rank
            for number, (_, person_id) in best.items():
                self.phone_owner[number] = self.slots[person_id]
        if not self.slots:
            return
        slot_ids = list(self.slots)
        if self.rules.trusted and numbers:
            # Trusted rows attach new numbers: each person's first one becomes primary.
            for phone in PhoneNumber.objects.filter(InList("person_id", slot_ids)).order_by():
                if phone.pk not in loaded_phones:
                    self._phone_known(self.slots[phone.person_id], phone.pk, phone)
        without_email = [pk for pk, slot in self.slots.items() if not slot.has_email]
        if keys and self.rules.by_phone and without_email:
            for person_id in (
                EmailAddress.objects.filter(InList("person_id", without_email))
                .order_by()
                .values_list("person_id", flat=True)
                .distinct()
            ):
                self.slots[person_id].has_email = True
        if history or any(data.has_address for data in rows):
            for row in (
                PostalAddress.objects.filter(InList("person_id", slot_ids))
                .order_by("-primary", "id")
                .values_list("person_id", "id", "primary", *ADDRESS_VALUE_FIELDS)
            ):
                person_id, pk, primary, *values = row
                self.slots[person_id].addresses.append(
                    AddressState(
                        primary, dict(zip(ADDRESS_VALUE_FIELDS, values, strict=True)), id=pk
                    )
                )
        if history:
            for slot in self.slots.values():
                slot.original_address = primary_address_view(slot)
        if self.tag_ids:
            for person_id, tag_id in (
                Tagging.objects.filter(
                    InList("person_id", slot_ids), tag_id__in=set(self.tag_ids.values())
                )
                .order_by()
                .values_list("person_id", "tag_id")
            ):
                self.slots[person_id].tag_ids.add(tag_id)

    @staticmethod
    def _phone_known(slot: Slot, pk: int, phone: PhoneNumber) -> None:
        slot.phones[phone.number] = PhoneState(
            phone.number,
            phone.number_type,
            phone.sms_capable,
            phone.sms_consent,
            phone.sms_consent_at,
            phone.primary,
            id=pk,
            original_consent=phone.sms_consent,
        )

    def _tags(self) -> None:
        for data in self.rows:
            for name in data.tags:
                key = name.strip()[:100].lower()
                if key and key not in self.tag_ids:
                    tag = tag_get_or_create(name)
                    self.tag_ids[key], self.tag_names[tag.pk] = tag.pk, tag.name

    # --- the decision, row by row -----------------------------------------------------------

    def _match(self, data: PersonData) -> tuple[Slot | None, Slot | None, bool]:
        """(the person this row is, or None for a new one; another person who has the row's
        phone number; matched by email?)."""
        owner = self.phone_owner.get(data.phone) if data.phone else None
        if not data.email:
            return owner, None, False
        known = self.emails.get(email_key(data.email))
        if known is not None:
            # A trusted row attaches its number, so two records then share it (an anonymous
            # row's number is kept aside instead: nothing to review).
            shared = (
                self.rules.trusted and owner is not None and data.phone not in known.slot.phones
            )
            return known.slot, (owner if shared else None), True
        if owner is not None and self.rules.by_phone:
            return owner, None, False
        return None, owner, False

    def run(self, *, changed_by: ChangeSource | None = None) -> list[MatchResult]:
        self._tags()
        if len(self.rows) >= STAGE_MIN_ROWS and stage_supported():
            return self._run_staged(changed_by)
        self._load(history=changed_by is not None)
        decided = self._decide(self.lines, self.rows)
        self._write()
        return self._finish(decided, changed_by)

    def _run_staged(self, changed_by: ChangeSource | None) -> list[MatchResult]:
        """A big batch: its independent new rows are written set-based, the others are decided
        row by row as in a small batch (they share no person with the independent ones)."""
        rows, lines = self.rows, self.lines
        entangled = self._entangled()
        simple_at = [i for i, tied in enumerate(entangled) if not tied]
        tied_at = [i for i, tied in enumerate(entangled) if tied]
        self.small = False
        self.rows, self.lines = [rows[i] for i in tied_at], [lines[i] for i in tied_at]
        decided: dict[int, _Row] = {}
        if tied_at:
            self._load(history=changed_by is not None)
            decided = dict(zip(tied_at, self._decide(self.lines, self.rows), strict=True))
        # New people's ids in row order, as if the rows had been matched one by one.
        created_at = [i for i, row in decided.items() if row.outcome == "created"]
        new_at = sorted([*simple_at, *created_at])
        ids = dict(zip(new_at, self._ids_reserve(len(new_at)), strict=True))
        for i, row in decided.items():
            if row.outcome == "created":
                row.slot.person.pk = ids[i]
        simple = [(ids[i], rows[i]) for i in simple_at]
        try:
            self._stage_people(simple)
            self._write()
            self._stage_contacts(simple)
        except ConflictError:
            Person.objects.filter(pk__in=list(ids.values())).delete()
            raise
        by_position = {
            i: MatchResult(person_id=pk, outcome="created")
            for i, (pk, _) in zip(simple_at, simple, strict=True)
        }
        tied_results = self._finish(list(decided.values()), changed_by)
        by_position.update(zip(decided, tied_results, strict=True))
        return [by_position[i] for i in range(len(rows))]

    def _decide(self, lines: Sequence[int], rows: Sequence[PersonData]) -> list[_Row]:
        """Each row matched or created in order, merged into its person in memory."""
        decided: list[_Row] = []
        for line, data in zip(lines, rows, strict=True):
            slot, duplicate_of, by_email = self._match(data)
            outcome: Outcome
            if slot is None:
                record = Person(source=data.source[:200]) if self.small else new_record(data.source)
                slot = Slot(person=record, is_new=True)
                self.new_slots.append(slot)
                _, kept, unsubscribed = self._apply(slot, data, by_email=False, created=True)
                outcome = "created"
            else:
                changed, kept, unsubscribed = self._apply(
                    slot, data, by_email=by_email, created=False
                )
                outcome = "updated" if changed else "unchanged"
                if changed:
                    slot.changed_lines.append(line)
            slot.matched = True
            decided.append(_Row(slot, outcome, kept, duplicate_of, unsubscribed, data.source))
        return decided

    def _finish(self, decided: list[_Row], changed_by: ChangeSource | None) -> list[MatchResult]:
        """The decided rows' results; what they kept aside and (with `changed_by`) the known
        people's changes go to the history."""
        results = [
            MatchResult(
                person_id=row.slot.person.pk,
                record=row.slot.person if isinstance(row.slot.person, Person) else None,
                outcome=row.outcome,
                kept_aside=row.kept,
                possible_duplicate_of=row.duplicate_of.person.pk if row.duplicate_of else None,
                unsubscribed=row.unsubscribed,
            )
            for row in decided
        ]
        kept_entries = [
            AuditEntry(
                action="person.kept_aside",
                object_type=Person._meta.label_lower,
                object_id=str(row.slot.person.pk),
                data={"source": row.source or "public form", "kept_aside": row.kept},
            )
            for row in decided
            if row.kept
        ]
        if kept_entries:
            AuditEntry.objects.bulk_create(kept_entries)
        if changed_by is not None:
            self._write_history(changed_by)
        return results

    def _apply(
        self, slot: Slot, data: PersonData, *, by_email: bool, created: bool
    ) -> tuple[bool, dict[str, Any], bool]:
        """Merge one row into its person (in memory): (changed?, kept aside, unsubscribed?).
        `created`: this row creates the person (a later row of the batch finds them known)."""
        rules, person = self.rules, slot.person
        anonymous = not created and not rules.trusted
        overwrite = created or rules.replaces
        kept: dict[str, Any] = _fields_not_filled(person, data) if anonymous else {}
        changed = _fields_merge(
            person, data, overwrite=overwrite, identifiers=created or rules.trusted
        )
        unsubscribed = False
        if data.email:
            known = self.emails.get(email_key(data.email)) if by_email else None
            if known is None:
                # A new person's address, or a trusted row matched by phone: nobody has it.
                self._email_new(slot, data.email, data.email_status)
                changed = True
            else:
                status = data.email_status
                if status == EmailStatus.SUBSCRIBED and anonymous:
                    # Only the person, through a signed link, opts an address back in.
                    if known.status != EmailStatus.SUBSCRIBED:
                        kept["email_status"] = status
                    status = None
                if status in {EmailStatus.SUBSCRIBED, EmailStatus.UNSUBSCRIBED} and (
                    known.status != status
                ):
                    known.status, known.status_changed = status, True
                    unsubscribed = status == EmailStatus.UNSUBSCRIBED
                    changed = True
        if data.phone:
            if anonymous:
                changed = self._phone_known_merge(slot, data, kept) or changed
            else:
                changed = self._phone_merge(slot, data) or changed
        if data.has_address:
            written, address_changed = self._address_merge(slot, data, overwrite=overwrite)
            changed = changed or address_changed
            if not written and anonymous:
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
            tag_id = self.tag_ids[name.strip()[:100].lower()]
            if tag_id not in slot.tag_ids:
                slot.tag_ids.add(tag_id)
                slot.new_tag_ids.append(tag_id)
                changed = True
        # The person was touched last: a later phone-only row finds them first (newest wins).
        for number in slot.phones:
            if number in self.phone_owner:
                self.phone_owner[number] = slot
        return changed, kept, unsubscribed

    def _email_new(self, slot: Slot, address: str, status: str | None) -> None:
        email = EmailState(
            address,
            email_key(address),
            status or EmailStatus.SUBSCRIBED,
            slot,
            primary=not slot.has_email,
        )
        slot.has_email = True
        self.emails[email.key] = email
        self.new_emails.append(email)

    def _consent(self, phone: PhoneState, sms_consent: bool | None) -> bool:
        if sms_consent is None or phone.sms_consent == sms_consent:
            return False
        phone.sms_consent, phone.sms_consent_at = sms_consent, self.now
        if sms_consent:
            phone.sms_capable = True
        phone.touched = True
        return True

    def _phone_merge(self, slot: Slot, data: PersonData) -> bool:
        """A new person's number, or a trusted row's: added, its SMS choice recorded."""
        phone = slot.phones.get(data.phone)
        if phone is None:
            phone = PhoneState(
                data.phone,
                data.phone_type,
                sms_capable=data.phone_type in {"mobile", "voip"},
                sms_consent=False,
                sms_consent_at=None,
                primary=not slot.phones,
            )
            slot.phones[data.phone] = phone
            self.phone_owner[data.phone] = slot
            self._consent(phone, data.sms_consent)
            return True
        return self._consent(phone, data.sms_consent)

    def _phone_known_merge(self, slot: Slot, data: PersonData, kept: dict[str, Any]) -> bool:
        """An anonymous row's number for a known person: only a number already on their record
        is touched (its SMS choice recorded, but an opted-out number is not opted back in)."""
        phone = slot.phones.get(data.phone)
        if phone is None:
            kept["phone"] = data.phone
            if data.sms_consent is not None:
                kept["sms_consent"] = data.sms_consent
            return False
        if data.sms_consent and not phone.sms_consent and phone.sms_consent_at is not None:
            kept["sms_consent"] = True
            return False
        return self._consent(phone, data.sms_consent)

    def _address_merge(self, slot: Slot, data: PersonData, *, overwrite: bool) -> tuple[bool, bool]:
        """(written?, changed?): not written when the person has another address and
        `overwrite` is off (a known address is kept)."""
        values = dict(data.address) if data.address is not None else address_values(data)
        if not slot.addresses:  # most rows: a new person's first address
            self.address_seq += 1
            slot.addresses.append(AddressState(True, values, touched=True, order=self.address_seq))
            return True, True
        postal_code = values["postal_code"]
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
                current = same.values[key]
                if value not in BLANK and (overwrite or current in BLANK) and current != value:
                    same.values[key] = value
                    changed = True
            same.touched = same.touched or changed
            return True, changed
        if not overwrite:
            return False, False
        for address in slot.addresses:
            if address.primary:
                address.primary = False
                address.touched = True
        self.address_seq += 1
        slot.addresses.append(AddressState(True, values, touched=True, order=self.address_seq))
        return True, True
