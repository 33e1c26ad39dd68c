"""Operations shared by migrations. Keep them stable: applied migrations run them again on
every new database."""

from django.db import migrations


def drop_index_only(table: str, column: str, name: str) -> migrations.RunSQL:
    """Drop a ForeignKey's own index and nothing else (reversible).

    For a migration that turns `db_index` off on a ForeignKey whose lookups a composite index
    already serves: a plain AlterField(db_index=False) would also drop and re-add (and so
    re-validate against every row) the foreign-key constraint on PostgreSQL. Pair it, in
    SeparateDatabaseAndState, with that AlterField as the state operation. Django names these
    indexes the same on PostgreSQL and SQLite."""
    return migrations.RunSQL(
        f'DROP INDEX IF EXISTS "{name}"',
        reverse_sql=f'CREATE INDEX "{name}" ON "{table}" ("{column}")',
    )
