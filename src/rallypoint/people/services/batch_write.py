"""Writing what a matching batch decided: one statement per table (COPY on PostgreSQL for big
batches), then the change history."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connection

from rallypoint.core.models import AuditEntry

from ..models import EmailAddress, Person, PhoneNumber, PostalAddress, Tagging, new_share_codes
from ..rows import insert_rows, insert_rows_new, update_rows
from .batch_state import (
    ADDRESS_VALUE_FIELDS,
    MAX_HISTORY_LINES,
    PERSON_MERGED_FIELDS,
    ConflictError,
    EmailState,
    Slot,
    primary_address_view,
    yes_no,
)
from .data import PersonData
from .results import ChangeSource


class BatchWrites:
    """The writing half of `MatchBatch` (which fills these in while it decides)."""

    rows: Sequence[PersonData]
    small: bool
    now: Any
    slots: dict[int, Slot]
    new_slots: list[Slot]
    emails: dict[str, EmailState]
    new_emails: list[EmailState]
    tag_names: dict[int, str]

    # --- writes: one statement per table ------------------------------------------------------

    def _write(self) -> None:
        now = self.now
        small = self.small
        new_people = [slot.person for slot in self.new_slots]
        for person in new_people:
            person.created_at = person.modified_at = now
        if small:
            Person.objects.bulk_create(new_people)
        elif new_people:
            columns = ["created_at", "modified_at", "share_code", *PERSON_MERGED_FIELDS]
            codes = new_share_codes(len(new_people))
            rows = [
                (now, now, code, *(getattr(p, f) for f in PERSON_MERGED_FIELDS))
                for p, code in zip(new_people, codes, strict=True)
            ]
            if new_people[0].pk is not None:
                # Ids given beforehand (a staged batch numbers all its new people in row order).
                given = [(p.pk, *row) for p, row in zip(new_people, rows, strict=True)]
                insert_rows(Person, ["id", *columns], given)
            else:
                ids = insert_rows(Person, columns, rows, returning=True)
                for person, pk in zip(new_people, ids, strict=True):
                    person.pk = pk
        self._write_emails(new_people)
        known = list(self.slots.values())
        for slot in known:
            if slot.matched:  # always bumped: the record was touched by a new act
                slot.person.modified_at = now
        update_rows(
            Person,
            ["modified_at", *PERSON_MERGED_FIELDS],
            [
                (s.person.pk, [now, *(getattr(s.person, f) for f in PERSON_MERGED_FIELDS)])
                for s in known
                if s.matched
            ],
        )
        update_rows(
            EmailAddress,
            ["status", "modified_at"],
            [(e.id, [e.status, now]) for e in self.emails.values() if e.status_changed and e.id],
        )
        slots = [*known, *self.new_slots]
        new_phones, changed_phones = [], []
        for slot in slots:
            for p in slot.phones.values():
                if p.id is None:
                    new_phones.append(
                        (
                            slot.person.pk,
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
        # A concurrent submission may add the same number to a known person: theirs stays.
        insert_rows(
            PhoneNumber,
            [
                "person_id",
                "number",
                "primary",
                "number_type",
                "sms_capable",
                "sms_consent",
                "sms_consent_at",
                "created_at",
                "modified_at",
            ],
            new_phones,
            ignore_conflicts=small,
        )
        update_rows(
            PhoneNumber,
            ["sms_capable", "sms_consent", "sms_consent_at", "modified_at"],
            changed_phones,
        )
        new_addresses, changed_addresses = [], []
        for slot in slots:
            for a in slot.addresses:
                values = [a.values[f] for f in ADDRESS_VALUE_FIELDS]
                if a.id is None:
                    new_addresses.append((slot.person.pk, a.primary, *values, now, now))
                elif a.touched:
                    changed_addresses.append((a.id, [a.primary, *values, now]))
        update_rows(
            PostalAddress, ["primary", *ADDRESS_VALUE_FIELDS, "modified_at"], changed_addresses
        )
        insert_rows(
            PostalAddress,
            ["person_id", "primary", *ADDRESS_VALUE_FIELDS, "created_at", "modified_at"],
            new_addresses,
            copy=not small,
        )
        insert_rows(
            Tagging,
            ["person_id", "tag_id", "created_at", "modified_at"],
            [(s.person.pk, tag_id, now, now) for s in slots for tag_id in s.new_tag_ids],
            ignore_conflicts=small,
        )

    def _write_emails(self, new_people: list[Person]) -> None:
        columns = [
            "person_id",
            "address",
            "address_normalized",
            "primary",
            "status",
            "created_at",
            "modified_at",
        ]
        now = self.now
        rows = [
            (e.slot.person.pk, e.address, e.key, e.primary, e.status, now, now)
            for e in self.new_emails
        ]
        if connection.vendor != "postgresql":
            # SQLite: the transaction took the write lock before the lookups (IMMEDIATE), so
            # no other writer can have added one of these addresses since.
            insert_rows(EmailAddress, columns, rows)
            return
        written = insert_rows_new(EmailAddress, columns, rows, unique="address_normalized")
        if len(written) < len(rows):
            # Taken a moment ago by a concurrent transaction: undo this batch's new people
            # (nothing else is written yet) and let the caller match the batch again.
            Person.objects.filter(pk__in=[p.pk for p in new_people]).delete()
            raise ConflictError

    # --- the change history: one "person.updated" entry per known person the batch changed ----

    def _write_history(self, changed_by: ChangeSource) -> None:
        added_emails: dict[int, list[str]] = {}
        for email in self.new_emails:
            if not email.slot.is_new:
                added_emails.setdefault(email.slot.person.pk, []).append(email.address)
        status_changes: dict[int, list[EmailState]] = {}
        for email in self.emails.values():
            if email.status_changed and email.status != email.original_status:
                status_changes.setdefault(email.slot.person.pk, []).append(email)
        label = Person._meta.label_lower
        entries = []
        for slot in self.slots.values():
            if not slot.changed_lines:
                continue
            pk = slot.person.pk
            before: dict[str, Any] = {}
            after: dict[str, Any] = {}
            for name in PERSON_MERGED_FIELDS:
                if slot.original[name] != getattr(slot.person, name):
                    before[name], after[name] = slot.original[name], getattr(slot.person, name)
            if pk in added_emails:
                before["email_added"], after["email_added"] = "", ", ".join(added_emails[pk])
            for email in status_changes.get(pk, []):
                before[f"email_status {email.address}"] = email.original_status
                after[f"email_status {email.address}"] = email.status
            new_numbers = [p.number for p in slot.phones.values() if p.id is None]
            if new_numbers:
                before["phone_added"], after["phone_added"] = "", ", ".join(new_numbers)
            for phone in slot.phones.values():
                if phone.id is not None and phone.sms_consent != phone.original_consent:
                    before[f"sms_consent {phone.number}"] = yes_no(phone.original_consent)
                    after[f"sms_consent {phone.number}"] = yes_no(phone.sms_consent)
            address = primary_address_view(slot)
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
            entries.append(("person.updated", label, str(pk), changed_by.actor_id, data))
        # The rows log_action would write, in one statement for the batch.
        insert_rows(AuditEntry, ["action", "object_type", "object_id", "actor_id", "data"], entries)
