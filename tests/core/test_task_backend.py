"""The database task backend: the row it writes is the library's row, read back and run by the
library's worker, and `task_enqueued` fires once with the result that enqueue returns."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from django_tasks import task
from django_tasks.signals import task_enqueued
from django_tasks_db.backend import DatabaseBackend as LibraryBackend
from django_tasks_db.models import DBTaskResult

from rallypoint.core.task_backend import DatabaseBackend

OURS = {"BACKEND": "rallypoint.core.task_backend.DatabaseBackend", "QUEUES": ["default", "slow"]}
THEIRS = {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default", "slow"]}

RAN: list[tuple] = []


@task()
def remember(a, b=None):
    RAN.append((a, b))
    return a


COMPARED = [
    "status",
    "args_kwargs",
    "priority",
    "task_path",
    "worker_ids",
    "queue_name",
    "backend_name",
    "run_after",
    "return_value",
    "exception_class_path",
    "traceback",
    "started_at",
    "finished_at",
]


@pytest.mark.django_db(transaction=True)
def test_the_row_equals_the_library_backends_row(settings):
    run_after = timezone.now() + timedelta(hours=1)
    rows = {}
    for name, backend in (("ours", OURS), ("theirs", THEIRS)):
        settings.TASKS = {"default": backend}
        result = remember.using(run_after=run_after, queue_name="slow", priority=5).enqueue(
            3, b={"x": [1, 2]}
        )
        rows[name] = DBTaskResult.objects.get(pk=result.id)
    ours, theirs = rows["ours"], rows["theirs"]
    assert {f: getattr(ours, f) for f in COMPARED} == {f: getattr(theirs, f) for f in COMPARED}
    assert ours.args_kwargs == {"args": [3], "kwargs": {"b": {"x": [1, 2]}}}
    assert ours.enqueued_at is not None and ours.pk != theirs.pk
    # Without run_after: the library's "no time set" value, as the library writes it.
    settings.TASKS = {"default": OURS}
    plain = DBTaskResult.objects.get(pk=remember.enqueue(1).id)
    settings.TASKS = {"default": THEIRS}
    assert plain.run_after == DBTaskResult.objects.get(pk=remember.enqueue(1).id).run_after


@pytest.mark.django_db(transaction=True)
def test_enqueue_returns_the_result_and_signals_it_once(settings):
    settings.TASKS = {"default": OURS}
    seen = []

    def receiver(sender, task_result, **kwargs):
        seen.append((sender, task_result))

    task_enqueued.connect(receiver)
    try:
        result = remember.using(queue_name="slow", priority=5).enqueue(5)
    finally:
        task_enqueued.disconnect(receiver)
    assert len(seen) == 1 and seen[0][1] is result
    assert issubclass(seen[0][0], LibraryBackend)
    assert result.status == "READY" and result.args == [5] and result.kwargs == {}
    assert isinstance(result.task.get_backend(), DatabaseBackend)
    assert result.task.queue_name == "slow" and result.task.priority == 5
    assert result.id == str(DBTaskResult.objects.get().pk)


@pytest.mark.django_db(transaction=True)
def test_the_library_worker_runs_what_it_wrote(settings):
    settings.TASKS = {"default": OURS}
    RAN.clear()
    result = remember.using(queue_name="slow").enqueue(7, b="seven")
    call_command("db_worker", batch=True, queue_name="slow", interval=0, verbosity=0)
    assert RAN == [(7, "seven")]
    result.refresh()
    assert result.status == "SUCCESSFUL" and result.return_value == 7


@pytest.mark.django_db(transaction=True)
def test_each_task_is_checked_once_and_a_bad_one_is_refused_every_time(settings, monkeypatch):
    from django_tasks.exceptions import InvalidTaskError

    settings.TASKS = {"default": OURS}
    checks = []
    library_check = LibraryBackend.validate_task

    def counted(self, task):
        checks.append(task)
        library_check(self, task)

    monkeypatch.setattr(LibraryBackend, "validate_task", counted)
    remember.enqueue(1)
    remember.enqueue(2)
    remember.using(priority=3).enqueue(3)  # another task: checked on its own
    assert checks == [remember, remember.using(priority=3)]
    # A task is checked when it is made too, so make it while its queue is still allowed.
    settings.TASKS = {"default": {**OURS, "QUEUES": [*OURS["QUEUES"], "nowhere"]}}
    unknown_queue = remember.using(queue_name="nowhere")
    settings.TASKS = {"default": OURS}
    checks.clear()
    for _ in range(2):
        with pytest.raises(InvalidTaskError):
            unknown_queue.enqueue(4)
    assert checks == [unknown_queue, unknown_queue]
    assert DBTaskResult.objects.count() == 3


@pytest.mark.django_db(transaction=True)
def test_several_enqueued_in_a_transaction_are_one_insert_and_each_signalled(
    settings, django_assert_num_queries
):
    from django.db import transaction

    from rallypoint.core.tasks import enqueue_many_on_commit

    settings.TASKS = {"default": OURS}
    seen = []

    def receiver(sender, task_result, **kwargs):
        seen.append(task_result.args)

    task_enqueued.connect(receiver)
    try:
        with transaction.atomic():
            with django_assert_num_queries(1):
                enqueue_many_on_commit(remember, [((1,), {}), ((2,), {"b": "two"})])
            enqueue_many_on_commit(remember, [])
    finally:
        task_enqueued.disconnect(receiver)
    assert seen == [[1], [2]]
    rows = DBTaskResult.objects.order_by("enqueued_at", "args_kwargs")
    assert sorted(r.args_kwargs["args"][0] for r in rows) == [1, 2]
    assert {r.task_path for r in rows} == {remember.module_path}
    RAN.clear()
    call_command("db_worker", batch=True, queue_name="default", interval=0, verbosity=0)
    assert sorted(RAN) == [(1, None), (2, "two")]


@pytest.mark.django_db(transaction=True)
def test_several_enqueued_outside_a_transaction_each_wait_for_nothing(settings):
    from rallypoint.core.tasks import enqueue_many_on_commit

    settings.TASKS = {"default": OURS}
    enqueue_many_on_commit(remember, [((3,), {}), ((4,), {})])
    assert DBTaskResult.objects.count() == 2
