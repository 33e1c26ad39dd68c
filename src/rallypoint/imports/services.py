"""Writes for imports: store an upload, choose columns, run it in batches, cancel, resume."""

import gc
import logging
import multiprocessing
import os
import queue
import secrets
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import timedelta
from itertools import islice
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import connection, connections, transaction
from django.db.models import F
from django.utils import timezone

from rallypoint.core.audit import log_action
from rallypoint.core.mail import email_queue
from rallypoint.core.processes import default_signals, exit_with_parent
from rallypoint.people.bulk import (
    ChangeSource,
    PreparedRows,
    people_bulk_prepare,
    people_bulk_write,
)
from rallypoint.people.models import EmailAddress, Person, PhoneNumber, PostalAddress, Tagging
from rallypoint.people.rows import insert_rows, tables_analyze
from rallypoint.people.services import person_merge

from .csvfile import (
    CsvFormat,
    CsvFormatError,
    count_lines,
    detect_format,
    read_header,
    records,
    without_bad_characters,
)
from .mapping import RowProblem, auto_map, mapping_problems, person_data
from .models import ImportChange, ImportJob, ImportRowError, ImportStatus, RowOutcome

logger = logging.getLogger(__name__)

# Rows per batch, each in one transaction. Each commit writes the index pages its batch dirtied,
# which at random keys (uuid, share code, email) are nearly all of them whatever the batch's
# size, so bigger batches commit less per row: with the set-based writes (bench/README.md,
# 2026-12-03) 5,000 rows cost half the commit time per row of 2,000 on SQLite. Memory grows with
# the batch (296 MB at 5,000 rows and 302 MB at 4,000, against a 300 MB budget): 3,000.
BATCH_SIZE = 3000
# A running job that has not reported for this long lost its worker (restart, crash).
STALE_AFTER = timedelta(minutes=2)
MAX_TAGS = 20
# Statistics refreshed after 10k, 40k, 160k, 640k… rows of one import (PostgreSQL).
PEOPLE_TABLES = [Person, EmailAddress, PhoneNumber, PostalAddress, Tagging]
# From this many rows left to import, reading and validating happen in a second process
# (forked) while this one writes: below it, starting the process costs more than it saves.
PREPARE_PROCESS_MIN_ROWS = 3 * BATCH_SIZE
# Batches validated ahead of the writes, at most: memory stays flat whatever the file size.
PREPARE_AHEAD = 2


def import_job_create(*, file: File | Path, name: str = "", actor: Any = None) -> ImportJob:
    """Keep the file under MEDIA_ROOT/imports/, work out its encoding, separator and columns,
    and guess which column is what. Raises ValidationError when it can't be read as a table."""
    if isinstance(file, Path):
        name = name or file.name
        handle = open(file, "rb")  # noqa: SIM115 - closed below
        upload = File(handle, name=file.name)
    else:
        handle, upload = None, file
        name = name or Path(file.name or "upload.csv").name
    job = ImportJob(created_by=actor if getattr(actor, "is_authenticated", False) else None)
    job.original_name = without_bad_characters(name)[:255]
    try:
        job.file.save(f"{secrets.token_hex(8)}.csv", upload, save=False)
    finally:
        if handle is not None:
            handle.close()
    path = Path(job.file.path)
    try:
        fmt = detect_format(path)
        headers, sample = read_header(path, fmt)
    except CsvFormatError as exc:
        job.file.delete(save=False)
        raise ValidationError(str(exc), code="unreadable")
    job.file_size = path.stat().st_size
    job.encoding, job.delimiter, job.quotechar = fmt.encoding, fmt.delimiter, fmt.quotechar
    job.headers = headers
    job.sample_rows = [row[: len(headers) + 5] for row in sample]
    job.mapping = auto_map(headers)
    job.total_rows = max(count_lines(path) - 1, 0)
    with transaction.atomic():
        job.save()
        log_action("import.uploaded", obj=job, actor=actor, data={"file": job.original_name})
    return job


def import_job_start(
    *,
    job: ImportJob,
    mapping: dict[str, str],
    tags: Iterable[str] = (),
    source: str = "",
    fill_blanks_only: bool = False,
    update_by_phone: bool = False,
    actor: Any = None,
    enqueue: bool = True,
) -> ImportJob:
    """Fix the column choices and options and queue the job for a worker.

    `update_by_phone`: a row with a new email and a phone number someone already has updates
    that person; otherwise (the default) it creates a new person, reported as a possible
    duplicate."""
    mapping = {str(k): v for k, v in mapping.items() if v}
    problems = mapping_problems(mapping, job.headers)
    tags = [t.strip()[:100] for t in tags if t and t.strip()]
    if len(tags) > MAX_TAGS:
        problems.append(f"Add at most {MAX_TAGS} tags to everyone.")
    if len(source) > 200:
        problems.append("Keep the source label under 200 characters.")
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        if job.status != ImportStatus.DRAFT:
            raise ValidationError("This import has already been started.")
        job.mapping, job.tags, job.source = mapping, tags, source.strip()
        job.fill_blanks_only = fill_blanks_only
        job.update_by_phone = update_by_phone
        job.status = ImportStatus.QUEUED
        job.save()
        log_action(
            "import.started",
            obj=job,
            actor=actor,
            data={
                "mapping": mapping,
                "tags": tags,
                "source": job.source,
                "fill_blanks_only": fill_blanks_only,
                "update_by_phone": update_by_phone,
            },
        )
        if enqueue:
            _enqueue(job)
    return job


def _enqueue(job: ImportJob) -> None:
    from .tasks import import_run

    transaction.on_commit(lambda: import_run.enqueue(job.pk))


def import_job_cancel(*, job: ImportJob, actor: Any) -> ImportJob:
    """Stop a queued or running import after its current batch; what was saved stays."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        if job.status not in {ImportStatus.DRAFT, ImportStatus.QUEUED, ImportStatus.RUNNING}:
            raise ValidationError("This import is not running.")
        job.status, job.run_token, job.finished_at = ImportStatus.CANCELLED, "", timezone.now()
        job.save(update_fields=["status", "run_token", "finished_at", "modified_at"])
        log_action("import.cancelled", obj=job, actor=actor, data={"rows_done": job.rows_done})
    return job


def import_job_is_stalled(job: ImportJob) -> bool:
    if job.status != ImportStatus.RUNNING:
        return False
    return job.heartbeat_at is None or job.heartbeat_at < timezone.now() - STALE_AFTER


def import_job_resume(*, job: ImportJob, actor: Any, enqueue: bool = True) -> ImportJob:
    """Carry on from the last saved batch after a failure, a cancel or a lost worker."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().get(pk=job.pk)
        resumable = job.status in {ImportStatus.FAILED, ImportStatus.CANCELLED}
        if not (resumable or import_job_is_stalled(job)):
            raise ValidationError("Only a stopped import can be resumed.")
        if not job.file or not Path(job.file.path).exists():
            raise ValidationError("The uploaded file is gone: upload it again to import the rest.")
        job.status, job.run_token, job.error_message = ImportStatus.QUEUED, "", ""
        job.finished_at = None
        job.save()
        log_action("import.resumed", obj=job, actor=actor, data={"from_row": job.rows_done})
        if enqueue:
            _enqueue(job)
    return job


def _claim(job_id: int) -> tuple[ImportJob | None, str]:
    """Take the job for this worker, unless it's finished or another worker has it."""
    with transaction.atomic():
        job = ImportJob.objects.select_for_update().filter(pk=job_id).first()
        if job is None:
            return None, ""
        if not (job.status == ImportStatus.QUEUED or import_job_is_stalled(job)):
            return None, ""
        token = secrets.token_hex(16)
        now = timezone.now()
        job.status, job.run_token, job.heartbeat_at = ImportStatus.RUNNING, token, now
        job.started_at = job.started_at or now
        job.run_started_at, job.run_start_rows = now, job.rows_done
        job.save()
    return job, token


def _batches(items: Iterator, size: int) -> Iterator[list]:
    while chunk := list(islice(items, size)):
        yield chunk


def import_job_run(
    *,
    job_id: int,
    batch_size: int = BATCH_SIZE,
    on_progress: Callable[[ImportJob], None] | None = None,
    prepare_process: bool | None = None,
) -> ImportJob | None:
    """Import the file from the checkpoint on, one transaction per batch of rows. Safe to call
    twice: a finished job or one another worker owns is left alone. Returns the job.

    `prepare_process`: read and validate in a forked process while this one writes (None:
    when the platform can fork and at least PREPARE_PROCESS_MIN_ROWS rows are left)."""
    job, token = _claim(job_id)
    if job is None:
        return ImportJob.objects.filter(pk=job_id).first()
    if prepare_process is None:
        # Only from a single-threaded process (the CLI, a task worker): forking while other
        # threads run (a web server running tasks inline) could copy a lock another thread holds.
        prepare_process = (
            job.total_rows - job.rows_done >= PREPARE_PROCESS_MIN_ROWS and _single_threaded()
        )
    prepare_process = prepare_process and "fork" in multiprocessing.get_all_start_methods()
    try:
        with _collector_spared():
            _run(job, token, batch_size, on_progress, prepare_process)
    except Exception as exc:
        logger.exception("Import %s stopped", job.pk)
        with transaction.atomic():
            current = ImportJob.objects.select_for_update().get(pk=job.pk)
            if current.run_token == token:
                current.status = ImportStatus.FAILED
                current.error_message = f"{exc.__class__.__name__}: {exc}"[:2000]
                current.run_token = ""
                current.save()
        if on_progress is not None:
            raise
    return ImportJob.objects.get(pk=job.pk)


def _single_threaded() -> bool:
    return threading.active_count() == 1


@dataclass
class _Batch:
    size: int
    prepared: PreparedRows
    # Rows that never became PersonData: (line, reason, values or None).
    skipped: list[tuple[int, str, list[str] | None]]
    # The cells of the rows that failed validation (prepared.errors), for the error report.
    values_at: dict[int, list[str]]


def _prepare(job: ImportJob, chunk: list, mapping: dict[int, str]) -> _Batch:
    """Map and validate one chunk of records: no database access."""
    skipped, rows, values_at = [], [], {}
    for record in chunk:
        if record.problem:
            skipped.append((record.line, record.problem, record.values))
            continue
        values_at[record.line] = record.values
        try:
            rows.append((record.line, person_data(record.values, mapping, job.headers)))
        except RowProblem as problem:
            skipped.append((record.line, str(problem), record.values))
    prepared = people_bulk_prepare(rows, tags=job.tags, source=job.source)
    failed = {error.line: values_at[error.line] for error in prepared.errors}
    return _Batch(len(chunk), prepared, skipped, failed)


def _prepared_batches(job: ImportJob, batch_size: int) -> Iterator[_Batch]:
    """The file from the checkpoint on, in batches, mapped and validated, in file order."""
    fmt = CsvFormat(job.encoding, job.delimiter, job.quotechar)
    mapping = {int(k): v for k, v in job.mapping.items() if v}
    for chunk in _batches(records(Path(job.file.path), fmt, skip=job.rows_done), batch_size):
        yield _prepare(job, chunk, mapping)


class PrepareProcessError(RuntimeError):
    """The process reading and validating the file stopped without saying why."""


def _prepare_worker(out: Any, job: ImportJob, batch_size: int, parent_pid: int) -> None:
    """In the forked process: send the prepared batches, then None (or the exception)."""
    # Ends with the importing process, however it dies, and on SIGTERM (the fork inherited
    # the task worker's "finish the task first" handler).
    default_signals()
    exit_with_parent(parent_pid=parent_pid)
    for alias in connections:
        # The parent's database connections are not ours to use or close: forget them.
        connections[alias].connection = None
    try:
        for batch in _prepared_batches(job, batch_size):
            out.put(batch)
            # As in the writing process: the collector walks only what this batch left.
            _batch_done()
    except Exception as exc:  # noqa: BLE001 - handed to the parent, which fails the job
        out.put(exc)
    else:
        out.put(None)


@contextmanager
def _prepared_elsewhere(job: ImportJob, batch_size: int) -> Iterator[Iterator[_Batch]]:
    """_prepared_batches computed by a forked process, at most PREPARE_AHEAD batches ahead of
    the caller, so that validating the next batches overlaps writing this one. The process
    is stopped when the caller leaves (done, cancelled, failed)."""
    context = multiprocessing.get_context("fork")
    channel = context.Queue(maxsize=PREPARE_AHEAD)
    worker = context.Process(
        target=_prepare_worker,
        args=(channel, job, batch_size, os.getpid()),
        name="import-prepare",
    )
    worker.daemon = True
    worker.start()

    def batches() -> Iterator[_Batch]:
        while True:
            try:
                item = channel.get(timeout=1)
            except queue.Empty:
                if not worker.is_alive():
                    raise PrepareProcessError(
                        f"The process validating the file stopped (exit code {worker.exitcode})."
                    )
                continue
            if item is None:
                return
            if isinstance(item, Exception):
                raise item
            yield item

    try:
        yield batches()
    finally:
        if worker.is_alive():
            worker.terminate()
        worker.join()
        channel.close()
        channel.join_thread()


@contextmanager
def _collector_spared():
    """Keep Python's cycle collector off the objects that outlive a batch (Django's state,
    the ZIP code index, caches): each batch allocates hundreds of thousands of objects, and
    every full collection would walk all of those again. What is alive when a batch ends is
    frozen (gc.freeze) after one collection of what the batch left, so garbage is still freed
    batch by batch; everything is handed back to the collector when the import stops."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _batch_done() -> None:
    gc.collect()
    gc.freeze()


@contextmanager
def _prepared_here(job: ImportJob, batch_size: int) -> Iterator[Iterator[_Batch]]:
    yield _prepared_batches(job, batch_size)


def _run(job: ImportJob, token: str, batch_size: int, on_progress, prepare_process: bool) -> None:
    # (A thread validating the next batch was measured: no gain, the GIL serialises it with
    # the writes. A process does run beside them.)
    prepared = _prepared_elsewhere if prepare_process else _prepared_here
    next_analyze = 10_000
    done = 0
    with prepared(job, batch_size) as batches, _sqlite_checkpoints_spaced():
        for batch in batches:
            if not _write(job, token, batch):
                return  # cancelled, or another worker took over
            _batch_done()
            done += batch.size
            if done >= next_analyze:
                tables_analyze(PEOPLE_TABLES)
                next_analyze *= 4
            if on_progress is not None:
                on_progress(ImportJob.objects.get(pk=job.pk))
    _finish(job, token)


# SQLite moves the write-ahead log into the database file (a checkpoint) at the first commit
# after the log passes wal_autocheckpoint pages (1,000 by default). A batch of a large import
# dirties thousands of index pages, so by default every batch's commit checkpoints them all;
# letting the log grow to ~100 MB (25,000 pages of 4 KB) first writes a page once for several
# batches. Measured with bench/import_people.py at 300,000 rows: about 15% faster.
IMPORT_WAL_AUTOCHECKPOINT = 25_000
SQLITE_WAL_AUTOCHECKPOINT = 1_000  # SQLite's default, restored when the import stops


@contextmanager
def _sqlite_checkpoints_spaced() -> Iterator[None]:
    """Also keeps the connection's temporary tables in memory meanwhile (temp_store): each
    batch stages its new people in one (people.services.batch_stage), which in a temporary
    file cost ~40% more per row. SQLite changes temp_store only outside a transaction, so an
    import run inside one (a test's) keeps it as it is."""
    if connection.vendor != "sqlite":
        yield
        return
    temp_store = None
    with connection.cursor() as cursor:
        cursor.execute(f"PRAGMA wal_autocheckpoint={IMPORT_WAL_AUTOCHECKPOINT}")
        if not connection.in_atomic_block:
            cursor.execute("PRAGMA temp_store")
            temp_store = cursor.fetchone()[0]
            cursor.execute("PRAGMA temp_store=MEMORY")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA wal_autocheckpoint={SQLITE_WAL_AUTOCHECKPOINT}")
            if temp_store is not None and not connection.in_atomic_block:
                cursor.execute(f"PRAGMA temp_store={int(temp_store)}")


def _write(job: ImportJob, token: str, batch: _Batch) -> bool:
    with transaction.atomic():
        current = ImportJob.objects.select_for_update().get(pk=job.pk)
        if current.run_token != token or current.status != ImportStatus.RUNNING:
            return False
        result = people_bulk_write(
            batch.prepared,
            overwrite=not job.fill_blanks_only,
            update_by_phone=job.update_by_phone,
            changed_by=ChangeSource(import_source_label(job), actor_id=current.created_by_id),
        )
        errors = [
            ImportRowError(job=job, line=line, reason=reason[:500], values=values or [])
            for line, reason, values in batch.skipped
        ] + [
            ImportRowError(
                job=job, line=e.line, reason=e.reason[:500], values=batch.values_at[e.line]
            )
            for e in result.errors
        ]
        ImportRowError.objects.bulk_create(errors)
        insert_rows(
            ImportChange,
            ["job_id", "line", "outcome", "person_id", "duplicate_of_id"],
            [
                (job.pk, row.line, row.outcome, row.person_id, row.duplicate_of)
                for row in result.rows
                if row.outcome != RowOutcome.UNCHANGED or row.duplicate_of is not None
            ],
        )
        ImportJob.objects.filter(pk=job.pk).update(
            rows_done=F("rows_done") + batch.size,
            created_count=F("created_count") + result.created,
            updated_count=F("updated_count") + result.updated,
            unchanged_count=F("unchanged_count") + result.unchanged,
            duplicate_count=F("duplicate_count") + result.possible_duplicates,
            skipped_count=F("skipped_count") + len(errors),
            heartbeat_at=timezone.now(),
        )
    return True


def import_source_label(job: ImportJob) -> str:
    """How a person's change history names this import."""
    return f"import #{job.pk}"


def _finish(job: ImportJob, token: str) -> None:
    with transaction.atomic():
        current = ImportJob.objects.select_for_update().get(pk=job.pk)
        if current.run_token != token or current.status != ImportStatus.RUNNING:
            return
        current.status, current.run_token = ImportStatus.DONE, ""
        current.finished_at = timezone.now()
        current.total_rows = current.rows_done
        current.save()
        summary = {
            "created": current.created_count,
            "updated": current.updated_count,
            "unchanged": current.unchanged_count,
            "possible_duplicates": current.duplicate_count,
            "skipped": current.skipped_count,
        }
        log_action("import.finished", obj=current, actor=None, data=summary)
        if current.created_by_id and current.created_by.email:
            email_queue(
                to=current.created_by.email,
                template="imports/email/import_done",
                context={"job": current},
                dedupe_key=f"import.done:{current.pk}",
            )


def import_file_remove(*, job: ImportJob, actor: Any) -> ImportJob:
    """Delete the stored upload of a finished import (the summary and error rows stay)."""
    if job.is_active:
        raise ValidationError("Cancel the import before removing its file.")
    with transaction.atomic():
        if job.file:
            job.file.delete(save=False)
        job.save()
        log_action("import.file_removed", obj=job, actor=actor)
    return job


def duplicates_merge(*, groups: list[tuple[int, list[int]]], actor: Any) -> tuple[int, list[str]]:
    """Merge each group's other people into its kept person (people.services.person_merge,
    audited per merge). Returns (people merged, problems for groups that could not be)."""
    merged, problems = 0, []
    for keep_id, other_ids in groups:
        others = [pk for pk in dict.fromkeys(other_ids) if pk != keep_id]
        keep = Person.objects.filter(pk=keep_id).first()
        if keep is None:
            problems.append(f"Person #{keep_id} is gone (merged already?): group skipped.")
            continue
        for other in Person.objects.filter(pk__in=others).order_by("pk"):
            person_merge(keep=keep, other=other, actor=actor)
            merged += 1
    return merged, problems
