"""Columns of numbers read from a queryset straight into numpy arrays.

A million-row read through the driver builds a Python tuple, and an object per value, for every
row: seconds before any computing starts. The spread summary only needs whole numbers (person
ids) and times, so on PostgreSQL the database packs each column into one binary string,
`string_agg(int8send(value), '')` (8 bytes, big-endian, per row), and numpy reads it as it is:
one row whatever the count, no object per value. All the aggregates of one query read its rows
in the same order, so the n-th values of columns with the same condition belong to the same
row. Other databases (SQLite, the embedded default) read the rows through the ORM, which is fast
enough at their size. Both give the same arrays.

    edges = read_columns(
        Recruitment.objects.filter(campaign_id=1),
        recruiter=Whole("recruiter_id"),
        at=Moment("created_at"),
        late=Whole("recruit_id", when=Q(created_at__gte=start)),
    )
    edges["recruiter"]  # int64 array; edges["at"]: float64 seconds since 1970

A column of PostgreSQL's kind holds at most 1 GB: 134 million rows.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from django.db import connections
from django.db.models import (
    Aggregate,
    BigIntegerField,
    BinaryField,
    BooleanField,
    Case,
    F,
    Func,
    Q,
    QuerySet,
    Value,
    When,
)
from django.db.models.expressions import Combinable
from django.db.models.functions import Cast

# PostgreSQL's binary timestamps count microseconds from 2000-01-01 00:00 UTC.
PG_EPOCH_MICROSECONDS = 946_684_800_000_000


class EpochMicroseconds(Func):
    """A datetime column as whole microseconds since 1970, exactly (SQLite keeps datetimes as
    UTC text, "YYYY-MM-DD HH:MM:SS[.ffffff]"; its date functions round to milliseconds)."""

    output_field = BigIntegerField()
    template = "(EXTRACT(EPOCH FROM %(expressions)s) * 1000000)::int8"

    def as_sqlite(self, compiler, connection, **extra):
        # The whole seconds through julianday (exact once rounded), the microseconds as written.
        whole = "CAST(round((julianday(substr(%(expressions)s, 1, 19)) - 2440587.5) * 86400.0)"
        fraction = "CAST(substr(%(expressions)s, 21, 6) AS INTEGER)"
        template = f"({whole} AS INTEGER) * 1000000 + {fraction})"
        return self.as_sql(compiler, connection, template=template, **extra)


class _Packed(Aggregate):
    """PostgreSQL: the column's binary values, end to end, as one bytea."""

    function = "string_agg"
    template = "%(function)s(%(expressions)s, ''::bytea)"
    output_field = BinaryField()


class Column:
    """A column to read: a field name or an expression, of the rows that meet `when` (all rows
    without it)."""

    def __init__(self, value: str | Combinable, *, when: Q | None = None) -> None:
        self.value = F(value) if isinstance(value, str) else value
        self.when = when

    def packed(self) -> Any:
        """PostgreSQL: the aggregate of the column's values as one binary string."""
        return _Packed(self.sent(), filter=self.when)

    def sent(self) -> Any:
        raise NotImplementedError

    def unpack(self, data: bytes) -> np.ndarray:
        raise NotImplementedError

    def plain(self) -> Any:
        """Elsewhere: the value of each row."""
        return self.value

    def array(self, values: list[Any]) -> np.ndarray:
        raise NotImplementedError


class Whole(Column):
    """Whole numbers, read as int64."""

    def sent(self) -> Any:
        value = Cast(self.value, BigIntegerField())
        return Func(value, function="int8send", output_field=BinaryField())

    def unpack(self, data: bytes) -> np.ndarray:
        return np.frombuffer(data, dtype=">i8").astype(np.int64)

    def array(self, values: list[Any]) -> np.ndarray:
        return np.array(values, dtype=np.int64)


class Moment(Column):
    """A datetime, read as float64 seconds since 1970: the nearest double to the exact
    microsecond count (on PostgreSQL the same numbers as EXTRACT(EPOCH FROM …)::float8)."""

    def sent(self) -> Any:
        return Func(self.value, function="timestamptz_send", output_field=BinaryField())

    def unpack(self, data: bytes) -> np.ndarray:
        micro = np.frombuffer(data, dtype=">i8").astype(np.int64) + PG_EPOCH_MICROSECONDS
        return micro / 1_000_000

    def plain(self) -> Any:
        return EpochMicroseconds(self.value)

    def array(self, values: list[Any]) -> np.ndarray:
        return np.array(values, dtype=np.int64) / 1_000_000


def read_columns(queryset: QuerySet[Any], **columns: Column) -> dict[str, np.ndarray]:
    """The queryset's rows as one numpy array per named column (one query)."""
    if connections[queryset.db].vendor == "postgresql":
        packed = queryset.aggregate(**{name: c.packed() for name, c in columns.items()})
        return {name: c.unpack(bytes(packed[name] or b"")) for name, c in columns.items()}
    return _read_rows(queryset, columns)


def read_grouped(
    queryset: QuerySet[Any], by: str, **columns: Column
) -> dict[Any, dict[str, np.ndarray]]:
    """Like read_columns, in groups: {each value of the field `by`: its rows' columns}, the
    values in order (one query, GROUP BY `by`)."""
    if connections[queryset.db].vendor == "postgresql":
        aliases = {f"packed{i}": c.packed() for i, c in enumerate(columns.values())}
        rows = (
            queryset.order_by()
            .values(by)
            .annotate(**aliases)
            .values_list(by, *aliases)
            .order_by(by)
        )
        return {
            value: {
                name: c.unpack(bytes(data or b""))
                for (name, c), data in zip(columns.items(), packed, strict=True)
            }
            for value, *packed in rows
        }
    if any(c.when is not None for c in columns.values()):
        raise ValueError("read_grouped reads whole groups: its columns take no condition")
    groups: dict[Any, list[tuple[Any, ...]]] = {}
    for value, *row in queryset.order_by().values_list(by, *(c.plain() for c in columns.values())):
        groups.setdefault(value, []).append(tuple(row))
    return {
        value: {
            name: c.array([row[i] for row in groups[value]])
            for i, (name, c) in enumerate(columns.items())
        }
        for value in sorted(groups)
    }


def _read_rows(queryset: QuerySet[Any], columns: dict[str, Column]) -> dict[str, np.ndarray]:
    """The rows through the ORM (one query): each column's values, with a flag per condition
    to keep only the rows that meet it."""
    conditions = list(dict.fromkeys(c.when for c in columns.values() if c.when is not None))
    flags = [
        Case(When(q, then=Value(True)), default=Value(False), output_field=BooleanField())
        for q in conditions
    ]
    rows = list(queryset.order_by().values_list(*(c.plain() for c in columns.values()), *flags))
    arrays = {}
    for i, (name, c) in enumerate(columns.items()):
        met = len(columns) + conditions.index(c.when) if c.when is not None else None
        arrays[name] = c.array([row[i] for row in rows if met is None or row[met]])
    return arrays
