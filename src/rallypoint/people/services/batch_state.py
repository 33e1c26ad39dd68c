"""The in-memory state of the people a matching batch touches, as loaded and as the batch's rows
change it, until it is written."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from types import SimpleNamespace
from typing import Any

from .data import NAME_FIELDS

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
BLANK: tuple[Any, ...] = ("", None, [])
# Line numbers kept in one history entry (a person a file names a thousand times gets one entry).
MAX_HISTORY_LINES = 20
# Up to this many rows, new people are written with the ORM's bulk_create and contacts with
# INSERT … ON CONFLICT DO NOTHING (a concurrent submission's row wins); bigger batches (imports)
# use COPY on PostgreSQL.
SMALL_BATCH = 100
# From this many rows a batch sets its independent new rows apart and writes them set-based
# (`batch_stage`); below it, staging costs more statements than it saves.
STAGE_MIN_ROWS = SMALL_BATCH + 1


class ConflictError(Exception):
    """A concurrent transaction took one of the batch's new addresses: the batch's new people
    were deleted again, and it has to be matched anew."""


@dataclass
class PhoneState:
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
class AddressState:
    primary: bool
    values: dict[str, Any]
    id: int | None = None
    touched: bool = False
    order: int = 0  # creation order for addresses added in this batch


@dataclass
class EmailState:
    address: str
    key: str
    status: str
    slot: Slot
    primary: bool = False
    id: int | None = None
    status_changed: bool = False
    original_status: str = ""


def new_record(source: str) -> SimpleNamespace:
    """A new person's fields in a big batch, where building a Person instance for each new row
    would cost more than writing it."""
    return SimpleNamespace(
        pk=None,
        **dict.fromkeys(NAME_FIELDS, ""),
        source=source[:200],
        custom_fields={},
        languages_spoken=[],
        foreign_identifiers=[],
    )


@dataclass(eq=False)
class Slot:
    """One person: known before the batch, or created by it (`is_new`). `person` is their
    Person instance, or for a new person in a big batch their fields (`new_record`)."""

    person: Any
    is_new: bool = False
    matched: bool = False  # a row of the batch is this person (not only a phone's other owner)
    has_email: bool = False
    phones: dict[str, PhoneState] = field(default_factory=dict)
    addresses: list[AddressState] = field(default_factory=list)
    tag_ids: set[int] = field(default_factory=set)
    new_tag_ids: list[int] = field(default_factory=list)
    # For the change history of a known person: their fields and primary address as loaded,
    # and the lines of the rows that changed them.
    original: dict[str, Any] = field(default_factory=dict)
    original_address: dict[str, str] = field(default_factory=dict)
    changed_lines: list[int] = field(default_factory=list)


def yes_no(value: bool | None) -> str:
    return "yes" if value else "no"


def primary_address_view(slot: Slot) -> dict[str, str]:
    """The primary address and its coordinates as text, for before/after in the history."""
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
