"""Imports' side of matching: rows of a file, validated with their line numbers, matched
thousands at a time by `people.services.match_or_create_many` (trusted: an organizer chose the
file), with the counts and errors an import reports.

`people_bulk_upsert(rows)` gives the same result as `person_match_or_create(data, trusted=True,
overwrite=..., update_by_phone=...)` on each row in order: the decision is made in one place.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, fields
from operator import attrgetter
from typing import Literal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction

from ..services import ChangeSource, PersonData, match_or_create_many

__all__ = [
    "BatchResult",
    "ChangeSource",
    "PreparedRows",
    "RowError",
    "RowOutcome",
    "error_reason",
    "people_bulk_prepare",
    "people_bulk_upsert",
    "people_bulk_write",
]

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


_DATA_FIELDS = tuple(f.name for f in fields(PersonData))
_data_values = attrgetter(*_DATA_FIELDS)


@dataclass
class PreparedRows:
    """Rows checked by PersonData.validated(), ready for people_bulk_write. Pickled (to reach
    the writing process) as plain tuples of their values: about a third of the bytes and of
    the time of pickling the PersonData objects themselves."""

    valid: list[tuple[int, PersonData]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)

    def __getstate__(self) -> dict:
        return {
            "valid": [(line, _data_values(data)) for line, data in self.valid],
            "errors": self.errors,
        }

    def __setstate__(self, state: dict) -> None:
        self.valid = [(line, PersonData(*values)) for line, values in state["valid"]]
        self.errors = state["errors"]


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
    if not prepared.valid:
        return result
    lines = [line for line, _ in prepared.valid]
    rows = [data for _, data in prepared.valid]
    for attempt in range(3):
        try:
            with transaction.atomic(), connection.wrap_database_errors:
                matches = match_or_create_many(
                    rows,
                    trusted=True,
                    overwrite=overwrite,
                    update_by_phone=update_by_phone,
                    changed_by=changed_by,
                    lines=lines,
                    record_events=False,
                )
            break
        except IntegrityError:
            # A concurrent writer added one of these phone numbers or tags meanwhile (the
            # bulk writes take no conflicts): look everything up again.
            if attempt == 2:
                raise
    for line, match in zip(lines, matches, strict=True):
        person_id = match.person_id
        result.person_ids[line] = person_id
        result.rows.append(RowOutcome(line, person_id, match.outcome, match.possible_duplicate_of))
        if match.outcome == "created":
            result.created += 1
        elif match.outcome == "updated":
            result.updated += 1
        else:
            result.unchanged += 1
        if match.possible_duplicate_of is not None:
            result.possible_duplicates += 1
    return result


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
    (trusted) on each row in order."""
    return people_bulk_write(
        people_bulk_prepare(rows, tags=tags, source=source),
        overwrite=overwrite,
        update_by_phone=update_by_phone,
        changed_by=changed_by,
    )
