"""Reads for the import pages."""

from dataclasses import dataclass

from django.db.models import QuerySet
from django.utils import timezone

from .models import ImportChange, ImportJob, ImportRowError, ImportStatus


def import_jobs() -> QuerySet[ImportJob]:
    return ImportJob.objects.select_related("created_by").order_by("-created_at", "-id")


def import_job_errors(job: ImportJob) -> QuerySet[ImportRowError]:
    return ImportRowError.objects.filter(job=job).order_by("line", "id")


def import_job_changes(
    job: ImportJob, *, outcome: str | None = None, duplicates: bool = False
) -> QuerySet[ImportChange]:
    """The rows an import created or changed a person with, or that may be duplicates, in file
    order, with both people loaded."""
    changes = ImportChange.objects.filter(job=job)
    if outcome is not None:
        changes = changes.filter(outcome=outcome)
    if duplicates:
        changes = changes.filter(duplicate_of__isnull=False)
    return changes.select_related("person", "duplicate_of").order_by("line", "id")


@dataclass(frozen=True)
class Progress:
    rows_done: int
    total: int
    percent: int
    rate: float  # rows per second in the current run
    seconds_left: int | None
    took: str  # how long a finished import ran, e.g. "2 min 5 s"


def import_progress(job: ImportJob) -> Progress:
    total = max(job.total_rows or 0, job.rows_done)
    if job.status == ImportStatus.DONE:
        percent = 100
    else:
        percent = int(job.rows_done * 100 / total) if total else 0
    rate = 0.0
    seconds_left = None
    if job.run_started_at and job.rows_done > job.run_start_rows:
        end = job.finished_at or job.heartbeat_at or timezone.now()
        elapsed = max((end - job.run_started_at).total_seconds(), 0.001)
        rate = (job.rows_done - job.run_start_rows) / elapsed
        if job.is_active and rate > 0:
            seconds_left = int((total - job.rows_done) / rate)
    took = ""
    if job.started_at and job.finished_at:
        seconds = max(int((job.finished_at - job.started_at).total_seconds()), 1)
        took = f"{seconds // 60} min {seconds % 60} s" if seconds >= 60 else f"{seconds} s"
    return Progress(job.rows_done, total, min(percent, 100), rate, seconds_left, took)
