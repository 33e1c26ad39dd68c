"""Multi-row writes for bulk work: COPY on PostgreSQL, executemany / multi-row INSERT elsewhere.

Columns come from the model's own fields, so a field another app adds later (with a default)
is filled from its default instead of breaking the import. Values are converted the way the
field itself converts them (get_db_prep_save), once per distinct value where that is safe.
"""

import json
import os
import uuid
from collections.abc import Callable
from typing import Any
from uuid import UUID

from django.db import connections, models
from django.db.models import NOT_PROVIDED, BooleanField, Expression, F
from django.utils import timezone

Convert = Callable[[Any], Any]
_EMPTY_JSON = {list: "[]", dict: "{}"}


def _identity(value: Any) -> Any:
    return value


def _converter(field: models.Field, connection, *, for_copy: bool) -> Convert:
    """value → what the driver wants for this column."""
    kind = field.get_internal_type()
    if kind == "JSONField":
        if for_copy or connection.vendor != "postgresql":
            # Django's own SQLite/MySQL adaptation is json.dumps; COPY takes the JSON text.
            encoder = getattr(field, "encoder", None)

            def dumps(value):
                if value is None:
                    return None
                if not value and type(value) in _EMPTY_JSON:
                    return _EMPTY_JSON[type(value)]  # most rows: no custom fields, no languages
                return json.dumps(value, cls=encoder)

            return dumps
        return lambda value: field.get_db_prep_save(value, connection)
    if kind == "UUIDField":
        if for_copy:
            return _identity
        if not connection.features.has_native_uuid_field:
            # What UUIDField.get_db_prep_value gives a UUID there: its hex digits.
            return lambda value: (
                value.hex if type(value) is UUID else field.get_db_prep_save(value, connection)
            )
        return lambda value: field.get_db_prep_save(value, connection)
    if kind in {"DateTimeField", "DateField", "TimeField", "DecimalField", "DurationField"}:
        # The same timestamp repeats on every row of a batch: convert it once.
        seen: dict[Any, Any] = {}

        def convert(value):
            if value not in seen:
                seen[value] = field.get_db_prep_save(value, connection)
            return seen[value]

        return _identity if for_copy and kind == "DateTimeField" else convert
    return _identity


def _column(f: Any) -> str:
    """A concrete field's column name."""
    return str(f.column)


def _is_auto_time(f: models.Field) -> bool:
    return bool(getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False))


class _Plan:
    """How to build full rows for `model` from values of `columns`."""

    def __init__(self, model: type[models.Model], columns: list[str], connection, for_copy: bool):
        by_name = {f.attname: f for f in model._meta.concrete_fields}
        self.fields = [by_name[name] for name in columns]
        constant: list[tuple[models.Field, Any]] = []
        per_row: list[models.Field] = []
        now = timezone.now()
        for f in model._meta.concrete_fields:
            if f.primary_key or f.attname in columns:
                continue
            if f.db_default is not NOT_PROVIDED and not f.has_default():
                continue  # the database fills it
            if _is_auto_time(f):
                constant.append((f, now))
            elif f.has_default() and callable(f.default) and f.default not in (list, dict):
                per_row.append(f)
            else:
                constant.append((f, f.get_default()))  # as Model() would ("" for text)
        self.all_fields = [*self.fields, *per_row, *(f for f, _ in constant)]
        convert = [_converter(f, connection, for_copy=for_copy) for f in self.all_fields]
        self.constant = tuple(
            convert[len(self.fields) + len(per_row) + i](value)
            for i, (_, value) in enumerate(constant)
        )
        # Per-row defaults, each with its conversion folded in (a new uuid4 is made directly in
        # the form the column takes: the field's own default and conversion cost ~10 µs a row).
        hex_uuids = not for_copy and not connection.features.has_native_uuid_field
        self.per_row = []
        for i, f in enumerate(per_row, start=len(self.fields)):
            if hex_uuids and f.default is uuid.uuid4:
                self.per_row.append(_uuid4_hex)
                convert[i] = _identity
            else:
                self.per_row.append(f.get_default)
        n = len(self.fields) + len(per_row)
        self.convert = [(i, c) for i, c in enumerate(convert[:n]) if c is not _identity]

    def row(self, values: tuple) -> list:
        row = list(values)
        for default in self.per_row:
            row.append(default())
        for i, convert in self.convert:
            value = row[i]
            if value is not None:
                row[i] = convert(value)
        row += self.constant
        return row


def _uuid4_hex() -> str:
    """uuid.uuid4().hex (SQLite's form of a UUIDField), without building the UUID object."""
    raw = bytearray(os.urandom(16))
    raw[6] = (raw[6] & 0x0F) | 0x40  # version 4
    raw[8] = (raw[8] & 0x3F) | 0x80  # RFC 4122 variant
    return raw.hex()


def insert_rows(
    model: type[models.Model],
    columns: list[str],
    rows: list[tuple],
    *,
    returning: bool = False,
    ignore_conflicts: bool = False,
    copy: bool = True,
    using: str = "default",
) -> list[int]:
    """Insert rows (values in `columns` order; other fields take their defaults). Returns new ids
    in row order when `returning`. `ignore_conflicts`: a row a unique constraint already holds
    is skipped (ON CONFLICT DO NOTHING; on PostgreSQL an executemany instead of COPY).
    `copy=False`: an executemany on PostgreSQL too (a few rows: COPY costs more than it saves)."""
    if not rows:
        return []
    if ignore_conflicts and returning:
        raise ValueError("insert_rows(ignore_conflicts=True) returns no ids")
    connection = connections[using]
    postgres = connection.vendor == "postgresql" and copy and not ignore_conflicts
    plan = _Plan(model, columns, connection, for_copy=postgres)
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    pk_name = model._meta.pk.column
    names = [quote(_column(f)) for f in plan.all_fields]
    if postgres:
        ids: list[int] = []
        if returning:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                    [model._meta.db_table, pk_name, len(rows)],
                )
                ids = [r[0] for r in cursor.fetchall()]
            names = [quote(str(pk_name)), *names]
        copy_sql = f"COPY {table} ({', '.join(names)}) FROM STDIN"
        with connection.cursor() as cursor, cursor.cursor.copy(copy_sql) as writer:
            if returning:
                for pk, values in zip(ids, rows, strict=True):
                    writer.write_row([pk, *plan.row(values)])
            else:
                for values in rows:
                    writer.write_row(plan.row(values))
        return ids
    prepared = [plan.row(values) for values in rows]
    placeholders = "(" + ", ".join(["%s"] * len(names)) + ")"
    insert = f"INSERT INTO {table} ({', '.join(names)}) VALUES {placeholders}"  # noqa: S608
    if ignore_conflicts:
        insert += " ON CONFLICT DO NOTHING"
    with connection.cursor() as cursor:
        # One statement text, whatever the batch size: the driver prepares it once. (Each
        # multi-row INSERT of a new length would be prepared and cached anew, ~2 MB apiece.)
        cursor.executemany(insert, prepared)
        if not returning:
            return []
        key = next((f for f in plan.all_fields if f.unique), None)
        if key is None:
            raise ValueError(f"{model.__name__} needs a unique field to read new ids back")
        position = plan.all_fields.index(key)
        keys = [row[position] for row in prepared]
        cursor.execute(
            f"SELECT {quote(str(pk_name))}, {quote(_column(key))} FROM {table} "  # noqa: S608
            f"WHERE {quote(_column(key))} IN (SELECT value FROM json_each(%s))",
            [json.dumps(keys)],
        )
        found = {k: pk for pk, k in cursor.fetchall()}
    return [found[k] for k in keys]


class InList(Expression):
    """`column IN (values)` as one SQL text whatever the number of values (`= ANY(%s)` on
    PostgreSQL, `IN (SELECT value FROM json_each(%s))` elsewhere), so a batch lookup is
    prepared once instead of once per list length."""

    output_field = BooleanField()
    conditional = True

    def __init__(self, column: str, values):
        super().__init__()
        self.column = F(column)
        self.values = list(values)

    def resolve_expression(
        self, query=None, allow_joins=True, reuse=None, summarize=False, for_save=False
    ):
        clone = self.copy()
        clone.column = self.column.resolve_expression(
            query, allow_joins, reuse, summarize, for_save
        )
        return clone

    def as_sql(self, compiler, connection):
        lhs, params = compiler.compile(self.column)
        if connection.vendor == "postgresql":
            # Typed like the column, or PostgreSQL may compare as numeric and skip the index.
            array_type = self.column.output_field.rel_db_type(connection)
            return f"{lhs} = ANY(%s::{array_type}[])", [*params, self.values]
        sql = f"{lhs} IN (SELECT value FROM json_each(%s))"  # noqa: S608 - lhs is a column
        return sql, [*params, json.dumps(self.values)]


def update_rows(
    model: type[models.Model],
    columns: list[str],
    rows: list[tuple[int, list]],
    *,
    using: str = "default",
) -> None:
    """UPDATE … SET columns WHERE pk = id, for each (id, values)."""
    if not rows:
        return
    connection = connections[using]
    by_name = {f.attname: f for f in model._meta.concrete_fields}
    fields = [by_name[name] for name in columns]
    converters = [_converter(f, connection, for_copy=False) for f in fields]
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(_column(f))} = %s" for f in fields)
    sql = (
        f"UPDATE {quote(model._meta.db_table)} SET {assignments} "  # noqa: S608
        f"WHERE {quote(_column(model._meta.pk))} = %s"
    )
    params = [
        [
            *(None if v is None else c(v) for c, v in zip(converters, values, strict=True)),
            pk,
        ]
        for pk, values in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)


def tables_analyze(models_: list[type[models.Model]], *, using: str = "default") -> None:
    """Refresh PostgreSQL's statistics for tables a bulk load is growing fast: planned with
    the statistics of a much smaller table, the batch lookups can stop using their indexes
    before autovacuum catches up. (SQLite plans from the indexes alone: nothing to do.)"""
    connection = connections[using]
    if connection.vendor != "postgresql":
        return
    names = ", ".join(connection.ops.quote_name(m._meta.db_table) for m in models_)
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {names}")


# Rows per multi-row INSERT … ON CONFLICT: a fixed size, so the statement text repeats.
CONFLICT_CHUNK = 200


def insert_rows_new(
    model: type[models.Model],
    columns: list[str],
    rows: list[tuple],
    *,
    unique: str,
    using: str = "default",
) -> set[Any]:
    """Insert rows unless a row with the same `unique` value exists (ON CONFLICT DO NOTHING,
    PostgreSQL and SQLite 3.35+); returns the `unique` values of the rows written. A row taken
    by a concurrent transaction a moment ago is not written, and not returned."""
    if not rows:
        return set()
    connection = connections[using]
    if connection.vendor == "postgresql" and len(rows) > CONFLICT_CHUNK:
        return _copy_new(model, columns, rows, unique=unique, connection=connection)
    plan = _Plan(model, columns, connection, for_copy=False)
    quote = connection.ops.quote_name
    names = ", ".join(quote(_column(f)) for f in plan.all_fields)
    key = quote(_column(model._meta.get_field(unique)))
    placeholders = "(" + ", ".join(["%s"] * len(plan.all_fields)) + ")"
    written: set[Any] = set()
    with connection.cursor() as cursor:
        for start in range(0, len(rows), CONFLICT_CHUNK):
            chunk = rows[start : start + CONFLICT_CHUNK]
            sql = (
                f"INSERT INTO {quote(model._meta.db_table)} ({names}) "  # noqa: S608
                f"VALUES {', '.join([placeholders] * len(chunk))} "
                f"ON CONFLICT ({key}) DO NOTHING RETURNING {key}"
            )
            cursor.execute(sql, [value for values in chunk for value in plan.row(values)])
            written.update(row[0] for row in cursor.fetchall())
    return written


def _copy_new(
    model: type[models.Model], columns: list[str], rows: list[tuple], *, unique: str, connection
) -> set[Any]:
    """insert_rows_new for many rows on PostgreSQL: COPY them into a temporary table with the
    same columns (no constraints), then one INSERT … SELECT … ON CONFLICT DO NOTHING."""
    plan = _Plan(model, columns, connection, for_copy=True)
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    stage = quote(f"stage_{model._meta.db_table}")
    names = ", ".join(quote(_column(f)) for f in plan.all_fields)
    key = quote(_column(model._meta.get_field(unique)))
    with connection.cursor() as cursor:
        # Lives until the end of the transaction; emptied in case an earlier batch of the
        # same transaction used it.
        cursor.execute(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS {stage} ON COMMIT DROP AS "  # noqa: S608
            f"SELECT {names} FROM {table} WITH NO DATA"
        )
        cursor.execute(f"TRUNCATE {stage}")
        with cursor.cursor.copy(f"COPY {stage} ({names}) FROM STDIN") as copy:
            for values in rows:
                copy.write_row(plan.row(values))
        cursor.execute(
            f"INSERT INTO {table} ({names}) SELECT {names} FROM {stage} "  # noqa: S608
            f"ON CONFLICT ({key}) DO NOTHING RETURNING {key}"
        )
        return {row[0] for row in cursor.fetchall()}
