"""Multi-row writes for bulk work: COPY on PostgreSQL, executemany / multi-row INSERT elsewhere.

Columns come from the model's own fields, so a field another app adds later (with a default)
is filled from its default instead of breaking the import.
"""

import json
from typing import Any

from django.db import connection, models
from django.db.models import NOT_PROVIDED
from django.utils import timezone


def _prep(field: models.Field, value: Any, *, for_copy: bool = False) -> Any:
    """The value as the database driver wants it for this field."""
    if value is None:
        return None
    kind = field.get_internal_type()
    if kind == "JSONField":
        if for_copy:
            return json.dumps(value)
        return field.get_db_prep_save(value, connection)
    if kind in {"UUIDField", "DateTimeField", "DateField", "DecimalField"}:
        if for_copy and kind == "UUIDField":
            return value
        return field.get_db_prep_save(value, connection)
    return value


def _table_plan(model: type[models.Model], columns: list[str]) -> tuple[list, list]:
    """(fields for `columns`, other concrete fields filled from their defaults; fields with
    only a database default are left to the database)."""
    by_name = {f.attname: f for f in model._meta.concrete_fields}
    fields = [by_name[name] for name in columns]
    extras = []
    for f in model._meta.concrete_fields:
        if f.primary_key or f.attname in columns:
            continue
        if f.db_default is NOT_PROVIDED or f.has_default():
            # As Model() would: the field's default ("" for text fields without one).
            extras.append(f)
    return fields, extras


def _is_auto_time(f: models.Field) -> bool:
    return bool(getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False))


def _default(f: models.Field) -> Any:
    return timezone.now() if _is_auto_time(f) else f.get_default()


def insert_rows(
    model: type[models.Model], columns: list[str], rows: list[tuple], *, returning: bool = False
) -> list[int]:
    """Insert rows (values in `columns` order; other fields take their defaults). Returns new ids
    in row order when `returning`."""
    if not rows:
        return []
    fields, extras = _table_plan(model, columns)
    all_fields = [*fields, *extras]
    postgres = connection.vendor == "postgresql"
    pk_name = model._meta.pk.column
    ids: list[int] = []
    if returning and postgres:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [model._meta.db_table, pk_name, len(rows)],
            )
            ids = [r[0] for r in cursor.fetchall()]
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    names = [quote(f.column) for f in all_fields]
    if postgres:
        prepared = (
            tuple(
                _prep(f, v, for_copy=True)
                for f, v in zip(all_fields, (*row, *(_default(f) for f in extras)), strict=True)
            )
            for row in rows
        )
        if returning:
            names = [quote(pk_name), *names]
            prepared = ((pk, *values) for pk, values in zip(ids, prepared, strict=True))
        copy_sql = f"COPY {table} ({', '.join(names)}) FROM STDIN"
        with connection.cursor() as cursor, cursor.cursor.copy(copy_sql) as copy:
            for values in prepared:
                copy.write_row(values)
        return ids
    prepared_rows = [
        tuple(
            _prep(f, v)
            for f, v in zip(all_fields, (*row, *(_default(f) for f in extras)), strict=True)
        )
        for row in rows
    ]
    placeholders = "(" + ", ".join(["%s"] * len(all_fields)) + ")"
    with connection.cursor() as cursor:
        if not returning:
            cursor.executemany(
                f"INSERT INTO {table} ({', '.join(names)}) VALUES {placeholders}",  # noqa: S608
                prepared_rows,
            )
            return []
        # Multi-row INSERT … RETURNING, in chunks under the bound-parameter limit.
        per_statement = max(1, 30000 // len(all_fields))
        for start in range(0, len(prepared_rows), per_statement):
            chunk = prepared_rows[start : start + per_statement]
            cursor.execute(
                f"INSERT INTO {table} ({', '.join(names)}) VALUES "  # noqa: S608
                + ", ".join([placeholders] * len(chunk))
                + f" RETURNING {quote(pk_name)}",
                [value for values in chunk for value in values],
            )
            ids.extend(r[0] for r in cursor.fetchall())
    return ids


def update_rows(
    model: type[models.Model], columns: list[str], rows: list[tuple[int, list]]
) -> None:
    """UPDATE … SET columns WHERE pk = id, for each (id, values)."""
    if not rows:
        return
    fields, _ = _table_plan(model, columns)
    quote = connection.ops.quote_name
    assignments = ", ".join(f"{quote(f.column)} = %s" for f in fields)
    sql = (
        f"UPDATE {quote(model._meta.db_table)} SET {assignments} "  # noqa: S608
        f"WHERE {quote(model._meta.pk.column)} = %s"
    )
    params = [
        [*(_prep(f, v) for f, v in zip(fields, values, strict=True)), pk] for pk, values in rows
    ]
    with connection.cursor() as cursor:
        cursor.executemany(sql, params)
