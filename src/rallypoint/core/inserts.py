"""Insert a row unless a unique constraint already holds its twin, in one statement.

    if insert_or_skip(EmailAddress(person=p, address=..., address_normalized=...)):
        ...  # written; obj.pk is set
    else:
        ...  # an equal row exists (perhaps committed a moment ago by a concurrent request)

`INSERT … ON CONFLICT DO NOTHING RETURNING id` (PostgreSQL, SQLite ≥ 3.35) replaces the usual
savepoint + insert + release (+ rollback to savepoint) that catching IntegrityError costs inside
a transaction, and it never aborts the surrounding transaction. On PostgreSQL a conflicting
insert of a transaction still in flight waits for it, so after a skip a new query sees the
winner's row. On PostgreSQL only uniqueness conflicts are skipped; SQLite's INSERT OR IGNORE
also skips NOT NULL and CHECK violations (as bulk_create(ignore_conflicts=True) does), so
callers check those rules first. A broken foreign key raises on both.
"""

from django.db import connections, models, router
from django.db.models.constants import OnConflict


def insert_or_skip(obj: models.Model) -> bool:
    """Write `obj` (a new instance) and return True, or return False when a unique constraint
    already holds an equal row. Field defaults and auto_now(_add) apply as in `save()`; model
    `save()` overrides and signals do not run."""
    model = type(obj)
    meta = model._meta
    using = router.db_for_write(model, instance=obj)
    if not connections[using].features.can_return_columns_from_insert:
        raise NotImplementedError("insert_or_skip needs INSERT … RETURNING (PostgreSQL, SQLite)")
    pk_set = obj._is_pk_set()
    fields = [
        f
        for f in meta.local_concrete_fields
        if not f.generated and (pk_set or f is not meta.auto_field)
    ]
    returning = meta.db_returning_fields
    rows = model._base_manager._insert(
        [obj],
        fields=fields,
        returning_fields=returning,
        using=using,
        on_conflict=OnConflict.IGNORE,
    )
    row = rows[0] if rows else None
    if not row:
        return False
    for value, field in zip(row, returning, strict=False):
        setattr(obj, field.attname, value)
    obj._state.adding = False
    obj._state.db = using
    return True
