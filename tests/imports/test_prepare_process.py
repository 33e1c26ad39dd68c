"""Imports with reading and validation in a forked process: the same results as in one process.

Every test of test_services runs here again with the process forced on (any file size)."""

import os
import signal

import pytest

from rallypoint.imports import services
from rallypoint.imports.models import ImportJob, ImportRowError, ImportStatus
from rallypoint.imports.services import import_job_resume, import_job_run
from rallypoint.people.models import EmailAddress, Person, PhoneNumber, PostalAddress, Tagging
from tests.imports.factories import crash_after, started_job
from tests.imports.test_services import *  # noqa: F403 - run them all with the process on

pytestmark = pytest.mark.django_db
SINGLE_THREADED = services._single_threaded  # before the fixture below replaces it


@pytest.fixture(autouse=True)
def _prepare_in_a_process(monkeypatch):
    monkeypatch.setattr(services, "PREPARE_PROCESS_MIN_ROWS", 0)
    # The test runner may have threads of its own; the process is what is under test here.
    monkeypatch.setattr(services, "_single_threaded", lambda: True)


def _mixed_file(rows: int) -> str:
    lines = ["Email,First name,Last name,Zip,Phone,Tags"]
    for i in range(rows):
        if i % 17 == 3:
            lines.append(f"bad {i},No,Good,80202,,")  # invalid email
        elif i % 23 == 5:
            lines.append(f"p{i}@example.org,Short")  # wrong column count
        elif i % 11 == 0:
            lines.append(f"P{i // 2}@Example.org,Again,Later,10001,(303) 555-{i % 10000:04d},x")
        else:
            phone = f"(212) 555-{i % 10000:04d}" if i % 3 == 0 else ""
            lines.append(f"p{i}@example.org,First{i},Last{i},80202,{phone},volunteer")
    return "\n".join(lines) + "\n"


def _snapshot() -> tuple:
    people = sorted(
        Person.objects.values_list("given_name", "family_name", "email_addresses__address")
    )
    return (
        people,
        sorted(PhoneNumber.objects.values_list("number", "number_type", "primary")),
        sorted(PostalAddress.objects.values_list("postal_code", "locality", "primary")),
        Tagging.objects.count(),
        EmailAddress.objects.count(),
        sorted(ImportRowError.objects.values_list("line", "reason", "values")),
    )


def _counts(job: ImportJob) -> tuple:
    return (job.status, job.rows_done, job.created_count, job.updated_count, job.skipped_count)


@pytest.mark.parametrize("batch_size", [1, 7, 50])
def test_process_and_in_process_runs_give_the_same_records(tmp_path, batch_size):
    text = _mixed_file(300)
    job = import_job_run(
        job_id=started_job(tmp_path, text).pk, batch_size=batch_size, prepare_process=False
    )
    here = (_counts(job), _snapshot())
    Person.objects.all().delete()
    ImportRowError.objects.all().delete()
    job = import_job_run(
        job_id=started_job(tmp_path, text).pk, batch_size=batch_size, prepare_process=True
    )
    assert (_counts(job), _snapshot()) == here
    assert job.skipped_count > 0 and job.updated_count > 0


def test_crash_then_resume_with_the_process_keeps_lines_and_checkpoint(tmp_path, organizer):
    text = _mixed_file(120)
    reference = import_job_run(job_id=started_job(tmp_path, text).pk, prepare_process=False)
    expected = (_counts(reference), _snapshot())
    Person.objects.all().delete()
    ImportRowError.objects.all().delete()

    job = started_job(tmp_path, text)
    crash = crash_after(3, RuntimeError("worker lost"))
    with pytest.raises(RuntimeError):
        import_job_run(job_id=job.pk, batch_size=10, on_progress=crash)
    job.refresh_from_db()
    assert (job.status, job.rows_done) == (ImportStatus.FAILED, 30)
    import_job_resume(job=job, actor=organizer, enqueue=False)
    job = import_job_run(job_id=job.pk, batch_size=10)
    assert (_counts(job)[1:], _snapshot()) == (expected[0][1:], expected[1])


def test_an_error_while_validating_fails_the_job_with_its_message(tmp_path, monkeypatch):
    def broken(*args, **kwargs):
        raise ValueError("the validator broke")

    monkeypatch.setattr(services, "people_bulk_prepare", broken)
    job = import_job_run(job_id=started_job(tmp_path, _mixed_file(20)).pk, batch_size=5)
    assert (job.status, job.rows_done) == (ImportStatus.FAILED, 0)
    assert job.error_message == "ValueError: the validator broke"


def test_a_killed_validating_process_fails_the_job(tmp_path, monkeypatch):
    def killed(*args, **kwargs):
        os.kill(os.getpid(), signal.SIGKILL)

    monkeypatch.setattr(services, "people_bulk_prepare", killed)
    job = import_job_run(job_id=started_job(tmp_path, _mixed_file(20)).pk, batch_size=5)
    assert job.status == ImportStatus.FAILED
    assert job.error_message.startswith("PrepareProcessError: The process validating the file")


def test_small_files_and_platforms_without_fork_stay_in_one_process(tmp_path, monkeypatch):
    used = []
    original = services._prepared_elsewhere

    def spy(*args):
        used.append(True)
        return original(*args)

    monkeypatch.setattr(services, "_prepared_elsewhere", spy)
    monkeypatch.setattr(services, "PREPARE_PROCESS_MIN_ROWS", 10)
    import_job_run(job_id=started_job(tmp_path, _mixed_file(5)).pk)
    assert used == []
    monkeypatch.setattr(services.multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    job = import_job_run(job_id=started_job(tmp_path, _mixed_file(40)).pk)
    assert used == [] and job.status == ImportStatus.DONE
    monkeypatch.undo()
    monkeypatch.setattr(services, "_prepared_elsewhere", spy)
    monkeypatch.setattr(services, "PREPARE_PROCESS_MIN_ROWS", 10)
    monkeypatch.setattr(services, "_single_threaded", lambda: True)
    import_job_run(job_id=started_job(tmp_path, _mixed_file(40)).pk)
    assert used == [True]


def test_a_process_running_other_threads_does_not_fork(tmp_path, monkeypatch):
    used = []
    original = services._prepared_elsewhere
    monkeypatch.setattr(services, "_prepared_elsewhere", lambda *a: used.append(1) or original(*a))
    monkeypatch.setattr(services, "_single_threaded", lambda: False)
    job = import_job_run(job_id=started_job(tmp_path, _mixed_file(40)).pk)
    assert used == [] and job.status == ImportStatus.DONE


def test_single_threaded_sees_other_threads():
    import threading

    assert SINGLE_THREADED() == (threading.active_count() == 1)
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        assert SINGLE_THREADED() is False
    finally:
        stop.set()
        thread.join()
