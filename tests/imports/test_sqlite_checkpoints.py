"""On SQLite an import lets the write-ahead log grow before checkpointing, then restores it."""

import pytest
from django.db import connection

from rallypoint.imports import services
from rallypoint.imports.models import ImportStatus
from rallypoint.imports.services import import_job_run
from tests.imports.factories import started_job

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "sqlite", reason="a SQLite setting"),
]


def autocheckpoint() -> int:
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_autocheckpoint")
        return cursor.fetchone()[0]


def test_checkpoints_spaced_during_the_import_and_restored_after(tmp_path):
    rows = "\n".join(f"p{i}@example.org,Ana{i}" for i in range(30))
    job = started_job(tmp_path, "Email,First name\n" + rows + "\n")
    seen = []
    job = import_job_run(
        job_id=job.pk, batch_size=10, on_progress=lambda j: seen.append(autocheckpoint())
    )
    assert job.status == ImportStatus.DONE and job.created_count == 30
    assert seen == [services.IMPORT_WAL_AUTOCHECKPOINT] * 3
    assert autocheckpoint() == services.SQLITE_WAL_AUTOCHECKPOINT


def test_restored_when_the_import_fails(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(services, "people_bulk_write", broken)
    job = started_job(tmp_path, "Email\na@example.org\n")
    job = import_job_run(job_id=job.pk)
    assert job.status == ImportStatus.FAILED
    assert autocheckpoint() == services.SQLITE_WAL_AUTOCHECKPOINT


def temp_store() -> int:
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA temp_store")
        return cursor.fetchone()[0]


@pytest.mark.django_db(transaction=True)
def test_temporary_tables_in_memory_during_the_import_and_restored_after(tmp_path):
    # Outside a transaction, as the worker and the command run it (SQLite changes temp_store
    # only there): the staged new people (people.services.batch_stage) stay in memory.
    before = temp_store()
    rows = "\n".join(f"p{i}@example.org,Ana{i}" for i in range(300))
    job = started_job(tmp_path, "Email,First name\n" + rows + "\n")
    seen = []
    job = import_job_run(
        job_id=job.pk, batch_size=150, on_progress=lambda j: seen.append(temp_store())
    )
    assert job.status == ImportStatus.DONE and job.created_count == 300
    assert seen == [2, 2]  # MEMORY
    assert temp_store() == before
