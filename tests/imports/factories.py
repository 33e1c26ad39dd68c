"""Helpers for the import tests: CSV files on disk and jobs made through the services."""

from pathlib import Path

from rallypoint.imports.services import import_job_create, import_job_start


def write_csv(directory: Path, text: str, *, name: str = "people.csv", encoding="utf-8") -> Path:
    path = directory / name
    path.write_bytes(text.encode(encoding))
    return path


def started_job(directory: Path, text: str, *, mapping=None, **options):
    """A job for `text`, auto-mapped (or with `mapping`), queued but not run."""
    job = import_job_create(file=write_csv(directory, text))
    return import_job_start(job=job, mapping=mapping or job.mapping, enqueue=False, **options)


def crash_after(batches: int, exc: Exception):
    """An on_progress callback for import_job_run that raises `exc` once `batches` batches are
    written, as a worker that dies mid-import."""
    seen = []

    def on_progress(job):
        seen.append(job.rows_done)
        if len(seen) == batches:
            raise exc

    return on_progress
