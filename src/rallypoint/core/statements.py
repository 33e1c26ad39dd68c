"""Hot statements whose SQL the ORM writes once per connection, then executed with new values.

Building and compiling a query costs 0.2–0.4 ms of Python for a one-row SELECT or INSERT, many
times what the database itself spends on it. The statements of the petition write path are
always the same text with different values, so they are compiled by the ORM once and kept:

    insert(person)                               # INSERT … RETURNING id, like save(force_insert)
    insert(email, ignore_conflicts=True)         # ON CONFLICT DO NOTHING: False when skipped
    insert(act, credit)                          # one INSERT of two rows, like bulk_create
    update(person, ["given_name", "modified_at"])  # like save(update_fields=…)
    Select("people.match_email", Person, lambda key: Person.objects.filter(...)[:1]).one(key)

The SQL still comes from the ORM's compilers (so it is the same on SQLite and PostgreSQL);
only the per-call work is done here: the values are prepared exactly as the compiler prepares
them (`field.pre_save` + `field.get_db_prep_save`), results are converted and turned into model
instances as the ORM's iterables do. Statements are kept per database connection (each thread
has its own), so nothing is shared between threads. Anything this module does not handle
(expressions as values, fields with their own placeholders) goes through the ORM unchanged.
Like bulk_create, `insert` sends no pre_save/post_save signals and calls no save() override.
"""

import datetime
import decimal
import functools
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from django.db import DatabaseError, connections, models, router
from django.db.models import sql
from django.db.models.constants import OnConflict
from django.db.models.sql.compiler import SQLInsertCompiler

_CACHE_ATTR = "_rallypoint_statements"


def _cache(connection: Any) -> dict[Any, Any]:
    """The statements compiled on `connection` (one DatabaseWrapper per thread and alias)."""
    cache = connection.__dict__.get(_CACHE_ATTR)
    if cache is None:
        cache = connection.__dict__[_CACHE_ATTR] = {}
    return cache


_UNCACHEABLE: Any = object()  # a statement this module leaves to the ORM on that connection


# Values of these types are never SQL expressions: no attribute look-ups needed.
_PLAIN_TYPES = frozenset(
    {
        str,
        int,
        float,
        bool,
        type(None),
        bytes,
        datetime.datetime,
        datetime.date,
        datetime.time,
        datetime.timedelta,
        decimal.Decimal,
        uuid.UUID,
    }
)


def _is_expression(value: Any) -> bool:
    if type(value) in _PLAIN_TYPES:
        return False
    return hasattr(value, "resolve_expression") or hasattr(value, "as_sql")


@functools.cache
def _insert_fields(model: type[models.Model], pk_set: bool) -> tuple[models.Field, ...]:
    """The fields save() would insert (the auto primary key only when it is set)."""
    meta = model._meta
    return tuple(
        f
        for f in meta.local_concrete_fields
        if not f.generated and (pk_set or f is not meta.auto_field)
    )


class _InsertStatement:
    __slots__ = ("sql", "column_major", "returning", "converters")

    def __init__(self, sql_text, column_major, returning, converters):
        self.sql = sql_text
        self.column_major = column_major
        self.returning = returning
        self.converters = converters


def insert(*objs: models.Model, ignore_conflicts: bool = False) -> bool:
    """Write new instances of one model in one INSERT and set their primary keys (and other
    database-returned fields). Field defaults and auto_now(_add) apply as in `save()`.

    `ignore_conflicts=True` (one instance only) adds ON CONFLICT DO NOTHING (SQLite: INSERT OR
    IGNORE, which also skips NOT NULL and CHECK violations, so check those first) and returns
    False when a unique constraint already holds an equal row; nothing is set on `obj` then.
    """
    if not objs:
        return True
    model = type(objs[0])
    if any(type(obj) is not model for obj in objs):
        raise ValueError("insert() writes instances of one model at a time")
    if ignore_conflicts and len(objs) != 1:
        raise ValueError("insert(ignore_conflicts=True) takes one instance")
    meta = model._meta
    using = router.db_for_write(model, instance=objs[0])
    connection = connections[using]
    pk_set = objs[0]._is_pk_set()
    if any(obj._is_pk_set() != pk_set for obj in objs):
        raise ValueError("insert() needs the primary key set on all instances or on none")
    fields = _insert_fields(model, pk_set)
    features = connection.features
    can_return = (
        features.can_return_columns_from_insert
        if len(objs) == 1
        else features.can_return_rows_from_bulk_insert
    )
    returning = tuple(meta.db_returning_fields) if can_return else ()
    if ignore_conflicts and not returning:
        raise NotImplementedError("ignore_conflicts needs INSERT … RETURNING (PostgreSQL, SQLite)")
    key = ("insert", model, fields, len(objs), ignore_conflicts)
    statement = _cache(connection).get(key)
    if statement is None:
        statement = _insert_compile(model, fields, objs, returning, ignore_conflicts, using)
        if statement is None:
            return _insert_orm(model, fields, objs, returning, ignore_conflicts, using)
        _cache(connection)[key] = statement
    rows = []
    for obj in objs:
        row = [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]
        if any(_is_expression(value) for value in row):
            return _insert_orm(model, fields, objs, returning, ignore_conflicts, using)
        rows.append(row)
    if statement.column_major:
        params = [list(column) for column in zip(*rows, strict=True)]
    else:
        params = [value for row in rows for value in row]
    with connection.cursor() as cursor:
        cursor.execute(statement.sql, params)
        returned = cursor.fetchall() if returning else [()] * len(objs)
    if not returned:
        return False  # ON CONFLICT DO NOTHING skipped the row
    _set_returned(objs, returned, statement.returning, statement.converters, connection, using)
    return True


# Up to this many rows, a multi-row insert is written as `VALUES (…), (…)` even where the
# backend's compiler would bind column arrays (PostgreSQL's `SELECT * FROM UNNEST(…)`). Arrays
# save planning on big batches; for the two rows of an act and its recruit credit, dumping
# them costs psycopg more than the statement saves (about 4% of a signature's Python time).
VALUES_ROWS_MAX = 8


def _insert_query(model, fields, objs, ignore_conflicts, using, returning):
    query = sql.InsertQuery(model, on_conflict=OnConflict.IGNORE if ignore_conflicts else None)
    query.insert_values(fields, objs, raw=False)
    compiler = query.get_compiler(using=using)
    compiler.returning_fields = list(returning) or None
    if 1 < len(objs) <= VALUES_ROWS_MAX:
        compiler.assemble_as_sql = functools.partial(SQLInsertCompiler.assemble_as_sql, compiler)
    return compiler


def _insert_compile(model, fields, objs, returning, ignore_conflicts, using):
    """The ORM's SQL for this insert, or None when it cannot be reused with other values."""
    if any(hasattr(f, "get_placeholder") for f in fields):
        return None  # the placeholder may depend on the value (e.g. geometry)
    compiler = _insert_query(model, fields, objs, ignore_conflicts, using, returning)
    statements = compiler.as_sql()
    if len(statements) != 1:
        return None
    sql_text, params = statements[0]
    if any(_is_expression(p) for p in params):
        return None
    n = len(objs)
    if len(params) == len(fields) * n:
        column_major = False
    elif n > 1 and len(params) == len(fields):
        column_major = True  # PostgreSQL's INSERT … SELECT * FROM UNNEST(column arrays)
    else:
        return None
    connection = compiler.connection
    converters = [
        connection.ops.get_db_converters(f.get_col(model._meta.db_table))
        + f.get_db_converters(connection)
        for f in returning
    ]
    return _InsertStatement(sql_text, column_major, returning, converters)


def _insert_orm(model, fields, objs, returning, ignore_conflicts, using) -> bool:
    """The same insert through the ORM, for values this module does not prepare itself."""
    rows = model._base_manager._insert(
        list(objs),
        fields=list(fields),
        returning_fields=list(returning) or None,
        using=using,
        on_conflict=OnConflict.IGNORE if ignore_conflicts else None,
    )
    if returning and not rows:
        return False
    for obj, row in zip(objs, rows or [()] * len(objs), strict=False):
        for value, field in zip(row, returning, strict=False):
            setattr(obj, field.attname, value)
        obj._state.adding = False
        obj._state.db = using
    return True


def _set_returned(objs, returned, returning, converters, connection, using) -> None:
    for obj, row in zip(objs, returned, strict=True):
        for value, field, field_converters in zip(row, returning, converters, strict=True):
            for converter in field_converters:
                value = converter(value, field, connection)
            setattr(obj, field.attname, value)
        obj._state.adding = False
        obj._state.db = using


def update(obj: models.Model, update_fields: Sequence[str]) -> None:
    """`obj.save(update_fields=update_fields)` in one UPDATE whose SQL is compiled once per
    model and field set. auto_now fields among them get the current time, as in save(); like
    save(), raises DatabaseError when the row is gone. A field set whose values the ORM binds
    differently (JSON, expressions) is saved through save() instead."""
    model = type(obj)
    meta = model._meta
    names = set(update_fields)
    fields = tuple(
        f
        for f in meta.local_concrete_fields
        if not f.primary_key and not f.generated and (f.name in names or f.attname in names)
    )
    if len(fields) != len(names) or not obj._is_pk_set():
        obj.save(update_fields=update_fields)  # save() raises for unknown names
        return
    using = router.db_for_write(model, instance=obj)
    connection = connections[using]
    key = ("update", model, fields)
    statement = _cache(connection).get(key)
    if statement is _UNCACHEABLE:
        obj.save(update_fields=update_fields)
        return
    values = [f.pre_save(obj, False) for f in fields]
    if any(_is_expression(v) for v in values):
        obj.save(update_fields=update_fields)
        return
    pk = meta.pk.get_db_prep_value(obj.pk, connection)
    params = [f.get_db_prep_save(v, connection) for f, v in zip(fields, values, strict=True)]
    params.append(pk)
    if statement is None:
        query = model._base_manager.using(using).filter(pk=obj.pk).query.chain(sql.UpdateQuery)
        query.add_update_fields([(f, None, v) for f, v in zip(fields, values, strict=True)])
        sql_text, compiled = query.get_compiler(using).as_sql()
        same = len(compiled) == len(params) and all(
            c == p and type(c) is type(p) for c, p in zip(compiled, params, strict=True)
        )
        statement = sql_text if same else _UNCACHEABLE
        _cache(connection)[key] = statement
        if not same:
            obj.save(update_fields=update_fields)
            return
    with connection.cursor() as cursor:
        cursor.execute(statement, params)
        updated = cursor.rowcount
    if not updated:
        raise DatabaseError("Save with update_fields did not affect any rows.")
    obj._state.adding = False
    obj._state.db = using


class Select:
    """A read whose SQL the ORM writes once: `build(*args)` returns the queryset (sliced if it
    should have a LIMIT) and `one(*args)` / `all(*args)` run it with new values.

    The first call compiles `build(*args)` and checks that the compiled parameters are exactly
    `args`, in order. When they are not (a lookup that rewrites its value, such as `icontains`;
    a backend that passes dates as text) the query always runs through the ORM on that
    connection; when two arguments are equal (their places cannot be told apart) that call runs
    through the ORM and the next one tries again. Querysets of model instances (with
    annotations) and `values_list()` querysets of plain fields are supported."""

    def __init__(
        self, name: str, model: type[models.Model], build: Callable[..., models.QuerySet]
    ) -> None:
        self.key = ("select", name)
        self.model = model
        self.build = build

    def all(self, *args: Any) -> list[Any]:
        using = router.db_for_read(self.model)
        connection = connections[using]
        compiled = _cache(connection).get(self.key)
        if compiled is None:
            queryset = self.build(*args).using(using)
            if len({repr(a) for a in args}) != len(args):
                # Equal arguments: their places in the SQL cannot be told apart this time.
                return list(queryset)
            compiled = _select_compile(queryset, args, using) or _UNCACHEABLE
            _cache(connection)[self.key] = compiled
        if compiled is _UNCACHEABLE:
            return list(self.build(*args).using(using))
        return compiled.run(connection, using, list(args))

    def one(self, *args: Any) -> Any:
        rows = self.all(*args)
        return rows[0] if rows else None


class _SelectStatement:
    __slots__ = (
        "sql",
        "wrappers",
        "col_count",
        "converters",
        "model",
        "init_list",
        "model_slice",
        "annos",
    )

    def __init__(
        self, sql_text, wrappers, col_count, converters, model, init_list, model_slice, annos
    ):
        self.sql = sql_text
        self.wrappers = wrappers if any(wrappers) else None
        self.col_count = col_count
        self.converters = converters
        self.model = model
        self.init_list = init_list
        self.model_slice = model_slice
        self.annos = annos

    def run(self, connection, using, params: list[Any]) -> list[Any]:
        if self.wrappers:
            params = [w(p) if w else p for w, p in zip(self.wrappers, params, strict=True)]
        with connection.cursor() as cursor:
            cursor.execute(self.sql, params)
            rows = cursor.fetchall()
        if self.converters:
            rows = [self._convert(row, connection) for row in rows]
        if self.model is None:
            return [tuple(row[: self.col_count]) for row in rows]
        start, end = self.model_slice
        objs = []
        for row in rows:
            obj = self.model.from_db(using, self.init_list, row[start:end])
            for attr, index in self.annos:
                setattr(obj, attr, row[index])
            objs.append(obj)
        return objs

    def _convert(self, row, connection):
        row = list(row)
        for position, (convs, expression) in self.converters:
            value = row[position]
            for converter in convs:
                value = converter(value, expression, connection)
            row[position] = value
        return row


def _select_compile(queryset: models.QuerySet, args: Sequence[Any], using: str):
    """The compiled form of `queryset`, or None when its parameters are not `args` in order."""
    from django.db.models.query import ModelIterable, ValuesListIterable

    if queryset._iterable_class not in (ModelIterable, ValuesListIterable):
        return None
    if queryset._prefetch_related_lookups or queryset.query.select_related:
        return None
    compiler = queryset.query.get_compiler(using=using)
    sql_text, params = compiler.as_sql()
    if len(params) != len(args):
        return None
    # Each parameter is its argument, or the argument in a subclass the backend binds it as
    # (PostgreSQL: Int4 for an integer Value()); that wrapping is repeated on every run.
    wrappers = []
    for param, arg in zip(params, args, strict=True):
        if param != arg or not isinstance(param, type(arg)):
            return None
        wrappers.append(None if type(param) is type(arg) else type(param))
    fields = [s[0] for s in compiler.select[: compiler.col_count]]
    converters = list(compiler.get_converters(fields).items())
    if queryset._iterable_class is ValuesListIterable:
        if queryset.query.annotation_select or queryset.query.extra_select:
            return None  # the ORM may reorder such columns; plain fields only
        return _SelectStatement(
            sql_text, wrappers, compiler.col_count, converters, None, None, None, None
        )
    klass_info = compiler.klass_info
    start, end = klass_info["select_fields"][0], klass_info["select_fields"][-1] + 1
    init_list = [f[0].target.attname for f in compiler.select[start:end]]
    annos = tuple(compiler.annotation_col_map.items())
    return _SelectStatement(
        sql_text,
        wrappers,
        compiler.col_count,
        converters,
        klass_info["model"],
        init_list,
        (start, end),
        annos,
    )
