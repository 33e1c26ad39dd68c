"""The set-based half of a big matching batch (see `batch`): its independent new rows, each of
which can only make a new person, written without deciding them one by one.

1. `_entangled`: one lookup of the batch's email keys and one of its phone numbers say which
   rows touch a known person; counting the keys says which rows share one with another row.
   Those rows are decided row by row; the others are independent.
2. `_ids_reserve`: every new person of the batch gets their id beforehand, in row order (from
   the sequence on PostgreSQL; on SQLite, which holds the write lock from the transaction's
   start, after the highest id the table has ever given).
3. `_stage_people`: each independent row, as the values its new person gets (names trimmed,
   the email key, the phone's SMS flags, the postal address worked out at validation), goes
   into a temporary table: COPY on PostgreSQL, one executemany on SQLite. Then one INSERT …
   SELECT writes the people and one their email addresses (on PostgreSQL `ON CONFLICT DO
   NOTHING`: an address a concurrent transaction took sends the batch back to matching).
4. `_stage_contacts`: one INSERT … SELECT each for phone numbers and postal addresses; the
   tags in one bulk insert.

The columns each table takes from the stage are named here; every other column gets its
field's default, so a field added later with a default needs nothing here.
"""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from django.db import connection, models
from django.db.models import NOT_PROVIDED

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
from ..rows import InList, insert_rows
from .batch_state import ADDRESS_VALUE_FIELDS, ConflictError
from .data import NAME_FIELDS, PersonData, address_values

STAGE_TABLE = "rallypoint_people_stage"
# The stage's columns, with their PostgreSQL types (SQLite takes them untyped).
STAGE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("person_id", "bigint"),
    ("uuid", "uuid"),
    ("share_code", "text"),
    *((name, "text") for name in NAME_FIELDS),
    ("source", "text"),
    ("custom_fields", "jsonb"),
    ("languages_spoken", "jsonb"),
    ("foreign_identifiers", "jsonb"),
    ("email", "text"),
    ("email_key", "text"),
    ("email_status", "text"),
    ("phone", "text"),
    ("phone_type", "text"),
    ("sms_capable", "boolean"),
    ("sms_consent", "boolean"),
    ("has_address", "boolean"),
    ("address_lines", "jsonb"),
    ("locality", "text"),
    ("region", "text"),
    ("postal_code", "text"),
    ("country", "text"),
    ("latitude", "double precision"),
    ("longitude", "double precision"),
    ("accuracy", "text"),
)
SMS_TYPES = frozenset({"mobile", "voip"})


def stage_supported() -> bool:
    return connection.vendor in {"postgresql", "sqlite"}


def emails_found(keys: Collection[str]) -> list[EmailAddress]:
    """The email addresses with these keys, with their people (one query)."""
    if not keys:
        return []
    return list(
        EmailAddress.objects.filter(InList("address_normalized", keys)).select_related("person")
    )


def phones_found(numbers: Collection[str]) -> list[PhoneNumber]:
    """The phone numbers with these numbers, with their people (one query)."""
    if not numbers:
        return []
    return list(PhoneNumber.objects.filter(InList("number", numbers)).select_related("person"))


@dataclass(frozen=True)
class Value:
    """A value every row gets (a parameter, converted by the field)."""

    value: Any


@dataclass(frozen=True)
class WhenConsent:
    """`value` where the row gave SMS consent, else NULL."""

    value: Any


# What each table takes from the stage (`s`), by field attname: a stage column, or a Value.
PERSON_TAKES: dict[str, Any] = {
    "id": "s.person_id",
    "uuid": "s.uuid",
    "share_code": "s.share_code",
    **{name: f"s.{name}" for name in NAME_FIELDS},
    "source": "s.source",
    "custom_fields": "s.custom_fields",
    "languages_spoken": "s.languages_spoken",
    "foreign_identifiers": "s.foreign_identifiers",
}
EMAIL_TAKES: dict[str, Any] = {
    "person_id": "s.person_id",
    "address": "s.email",
    "address_normalized": "s.email_key",
    "primary": Value(True),
    "status": "s.email_status",
}
PHONE_TAKES: dict[str, Any] = {
    "person_id": "s.person_id",
    "number": "s.phone",
    "primary": Value(True),
    "number_type": "s.phone_type",
    "sms_capable": "s.sms_capable",
    "sms_consent": "s.sms_consent",
}
ADDRESS_TAKES: dict[str, Any] = {
    "person_id": "s.person_id",
    "primary": Value(True),
    **{name: f"s.{name}" for name in ADDRESS_VALUE_FIELDS},
}


def _json_list(values: list) -> str:
    """A new person's list (languages, identifiers): each truthy value once, in order."""
    if not values:
        return "[]"
    return json.dumps(list(dict.fromkeys(v for v in values if v)))


def _json_custom(fields: dict) -> str:
    """A new person's custom fields as the merge writes them: keys and values trimmed (keys
    to 100 characters), blank ones left out, a later key winning."""
    if not fields:
        return "{}"
    cleaned = {}
    for key, value in fields.items():
        key, value = str(key).strip()[:100], str(value).strip()
        if key and value:
            cleaned[key] = value
    return json.dumps(cleaned)


def uuid4_hexes(count: int) -> list[str]:
    """`count` random (version 4) UUIDs as 32 hex digits, from one call to the system's CSPRNG:
    the form SQLite stores, and one PostgreSQL reads."""
    raw = bytearray(os.urandom(16 * count))
    raw[6::16] = bytes((b & 0x0F) | 0x40 for b in raw[6::16])
    raw[8::16] = bytes((b & 0x3F) | 0x80 for b in raw[8::16])
    text = raw.hex()
    return [text[i : i + 32] for i in range(0, 32 * count, 32)]


class BatchStage:
    """The set-based steps of `MatchBatch` (which fills these in)."""

    rows: Sequence[PersonData]
    now: Any
    tag_ids: dict[str, int]
    found: tuple[list[EmailAddress], list[PhoneNumber]] | None

    def _entangled(self) -> list[bool]:
        """For each row: does it touch a known person (its email key or phone number is in the
        database) or share a key with another row of the batch? The addresses and numbers
        found, with their people, are kept for the decision (`found`)."""
        rows = self.rows
        keys = [email_key(d.email) if d.email else "" for d in rows]
        phones = [d.phone for d in rows]
        key_count, phone_count = Counter(keys), Counter(phones)
        key_count.pop("", None)
        phone_count.pop("", None)
        self.found = emails_found(key_count), phones_found(phone_count)
        known_keys = {email.address_normalized for email in self.found[0]}
        known_phones = {phone.number for phone in self.found[1]}
        return [
            bool(k and (k in known_keys or key_count[k] > 1))
            or bool(p and (p in known_phones or phone_count[p] > 1))
            for k, p in zip(keys, phones, strict=True)
        ]

    @staticmethod
    def _ids_reserve(count: int) -> list[int]:
        """`count` new person ids, ascending."""
        if not count:
            return []
        table = Person._meta.db_table
        column = str(Person._meta.pk.column)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT array_agg(id ORDER BY id) FROM (SELECT nextval("
                    "pg_get_serial_sequence(%s, %s)) AS id FROM generate_series(1, %s)) ids",
                    [table, column, count],
                )
                return cursor.fetchone()[0]
            # The table's AUTOINCREMENT never gives an id twice, even one since deleted: start
            # after the highest it gave (sqlite_sequence), which ids inserted here then raise.
            quote = connection.ops.quote_name
            highest = f"SELECT max({quote(column)}) FROM {quote(table)}"  # noqa: S608
            cursor.execute(
                "SELECT max(coalesce((SELECT seq FROM sqlite_sequence WHERE name = %s), 0),"  # noqa: S608
                f" coalesce(({highest}), 0))",
                [table],
            )
            last = cursor.fetchone()[0]
        return list(range(last + 1, last + 1 + count))

    def _stage_people(self, simple: list[tuple[int, PersonData]]) -> None:
        """Stage the independent rows (person id, data) and write their people and email
        addresses; raises ConflictError when a concurrent transaction took an address."""
        if not simple:
            return
        self._stage_fill(self._stage_rows(simple))
        postgres = connection.vendor == "postgresql"
        with connection.cursor() as cursor:
            sql, params = _insert_select(Person, PERSON_TAKES, "TRUE", self.now)
            cursor.execute(sql, params)
            sql, params = _insert_select(EmailAddress, EMAIL_TAKES, "s.email IS NOT NULL", self.now)
            if not postgres:
                # SQLite: the transaction took the write lock before the lookups (IMMEDIATE),
                # so no other writer can have added one of these addresses since.
                cursor.execute(sql, params)
                return
            key = str(EmailAddress._meta.get_field("address_normalized").column)
            cursor.execute(
                f"WITH written AS ({sql} ON CONFLICT ({connection.ops.quote_name(key)})"  # noqa: S608
                " DO NOTHING RETURNING 1) SELECT count(*) FROM written",
                params,
            )
            written = cursor.fetchone()[0]
        if written < sum(1 for _, data in simple if data.email):
            raise ConflictError

    def _stage_contacts(self, simple: list[tuple[int, PersonData]]) -> None:
        """The staged rows' phone numbers, postal addresses and tags."""
        if not simple:
            return
        now = self.now
        with connection.cursor() as cursor:
            if any(data.phone for _, data in simple):
                takes = {**PHONE_TAKES, "sms_consent_at": WhenConsent(now)}
                cursor.execute(*_insert_select(PhoneNumber, takes, "s.phone IS NOT NULL", now))
            if any(data.has_address for _, data in simple):
                cursor.execute(*_insert_select(PostalAddress, ADDRESS_TAKES, "s.has_address", now))
        taggings = []
        for pk, data in simple:
            if data.tags:
                ids = dict.fromkeys(self.tag_ids[name.strip()[:100].lower()] for name in data.tags)
                taggings += [(pk, tag_id, now, now) for tag_id in ids]
        insert_rows(Tagging, ["person_id", "tag_id", "created_at", "modified_at"], taggings)

    def _stage_rows(self, simple: list[tuple[int, PersonData]]) -> list[tuple]:
        """Each independent row as the values of its new person (STAGE_COLUMNS' order)."""
        count = len(simple)
        subscribed = EmailStatus.SUBSCRIBED.value
        out = []
        extras = zip(uuid4_hexes(count), new_share_codes(count), strict=True)
        for (pk, d), (uuid, code) in zip(simple, extras, strict=True):
            email, phone, consent = d.email, d.phone, d.sms_consent is True
            address: tuple[Any, ...]
            if d.has_address:
                a = d.address if d.address is not None else address_values(d)
                lines = a["address_lines"]
                address = (
                    True,
                    json.dumps(lines) if lines else "[]",
                    a["locality"],
                    a["region"],
                    a["postal_code"],
                    a["country"],
                    a["latitude"],
                    a["longitude"],
                    a["accuracy"],
                )
            else:
                address = (False, None, None, None, None, None, None, None, None)
            out.append(
                (
                    pk,
                    uuid,
                    code,
                    (d.given_name or "").strip(),
                    (d.family_name or "").strip(),
                    (d.additional_name or "").strip(),
                    (d.honorific_prefix or "").strip(),
                    (d.honorific_suffix or "").strip(),
                    d.source[:200],
                    _json_custom(d.custom_fields),
                    _json_list(d.languages_spoken),
                    _json_list(d.identifiers),
                    email or None,
                    email_key(email) if email else None,
                    d.email_status or subscribed,
                    phone or None,
                    d.phone_type,
                    d.phone_type in SMS_TYPES or consent,
                    consent,
                    *address,
                )
            )
        return out

    @staticmethod
    def _stage_fill(rows: list[tuple]) -> None:
        """The temporary table holds `rows` alone (created on first use; on PostgreSQL it is
        dropped at commit, on SQLite kept for the connection and emptied)."""
        names = ", ".join(name for name, _ in STAGE_COLUMNS)
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                typed = ", ".join(f"{name} {kind}" for name, kind in STAGE_COLUMNS)
                cursor.execute(
                    f"CREATE TEMPORARY TABLE IF NOT EXISTS {STAGE_TABLE} ({typed}) ON COMMIT DROP"
                )
                cursor.execute(f"DELETE FROM {STAGE_TABLE}")  # noqa: S608
                with cursor.copy(f"COPY {STAGE_TABLE} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                return
            cursor.execute(f"CREATE TEMP TABLE IF NOT EXISTS {STAGE_TABLE} ({names})")
            cursor.execute(f"DELETE FROM {STAGE_TABLE}")  # noqa: S608
            marks = ", ".join(["%s"] * len(STAGE_COLUMNS))
            cursor.executemany(
                f"INSERT INTO {STAGE_TABLE} ({names}) VALUES ({marks})",  # noqa: S608
                rows,
            )


def _insert_select(
    model: type[models.Model], takes: dict[str, Any], where: str, now: Any
) -> tuple[str, list[Any]]:
    """INSERT INTO the model's table SELECT … FROM the stage WHERE `where`: the columns in
    `takes` from the stage (or a Value), the others their field's default (auto times: `now`)."""
    quote = connection.ops.quote_name
    postgres = connection.vendor == "postgresql"
    names: list[str] = []
    exprs: list[str] = []
    params: list[Any] = []

    def parameter(field: models.Field, value: Any) -> str:
        params.append(None if value is None else field.get_db_prep_save(value, connection))
        # PostgreSQL reads an untyped parameter in a SELECT list as text.
        return f"CAST(%s AS {field.db_type(connection)})" if postgres else "%s"

    for field in model._meta.concrete_fields:
        take = takes.get(field.attname)
        if take is None:
            if field.primary_key:
                continue  # the database numbers it
            if field.db_default is not NOT_PROVIDED and not field.has_default():
                continue  # the database fills it
            if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
                take = Value(now)
            elif (
                field.has_default()
                and callable(field.default)
                and field.default not in (list, dict)
            ):
                raise ValueError(
                    f"{model.__name__}.{field.name} has a per-row default the stage does not give"
                )
            else:
                take = Value(field.get_default())
        names.append(quote(str(field.column)))
        if isinstance(take, Value):
            exprs.append(parameter(field, take.value))
        elif isinstance(take, WhenConsent):
            exprs.append(f"CASE WHEN s.sms_consent THEN {parameter(field, take.value)} END")
        else:
            exprs.append(take)
    sql = (
        f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(names)}) "  # noqa: S608
        f"SELECT {', '.join(exprs)} FROM {STAGE_TABLE} s WHERE {where}"
    )
    return sql, params
