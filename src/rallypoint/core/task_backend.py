"""The database task backend, with its enqueue writing the task row the way the hot paths write.

`django_tasks_db.DatabaseBackend` saves each new task through `Model.objects.create()` and then
builds the task's result object twice (once for the `task_enqueued` signal, once to return).
A signature enqueues its thank-you email inside its own transaction, so that cost is paid on
every signature. This subclass writes the same row with `core.statements.insert` (the ORM's
INSERT, compiled once per connection; the primary key is generated here, so nothing is read
back), builds the result once and checks each task once. The model's pre_save and post_save
signals are still sent (the library fills in `run_after` from one). Everything else (workers,
results, checks) is the library's.
"""

from django.db import router
from django.db.models.signals import post_save, pre_save
from django_tasks_db.backend import DatabaseBackend as LibraryDatabaseBackend
from django_tasks_db.backend import TaskResult
from django_tasks_db.compat import normalize_json, task_enqueued

from . import statements


class DatabaseBackend(LibraryDatabaseBackend):
    def _task_to_db_task(self, task, args, kwargs):
        return self._task_rows_write(task, [(args, kwargs)])[0]

    def _task_rows_write(self, task, calls):
        """One row per (args, kwargs) in `calls`, written by one INSERT."""
        from django_tasks_db.models import DBTaskResult

        rows = [
            DBTaskResult(
                id=self._get_id(),
                args_kwargs=normalize_json({"args": args, "kwargs": kwargs}),
                priority=task.priority,
                task_path=task.module_path,
                queue_name=task.queue_name,
                run_after=task.run_after,
                backend_name=self.alias,
            )
            for args, kwargs in calls
        ]
        using = router.db_for_write(DBTaskResult, instance=rows[0])
        for row in rows:
            pre_save.send(DBTaskResult, instance=row, raw=False, using=using, update_fields=None)
        statements.insert(*rows)
        for row in rows:
            post_save.send(
                DBTaskResult, instance=row, created=True, raw=False, using=using, update_fields=None
            )
        return rows

    def enqueue_many(self, task, calls) -> list[TaskResult]:
        """`enqueue(task, args, kwargs)` for each (args, kwargs) of `calls`, in one INSERT."""
        if not calls:
            return []
        self.validate_task(task)
        results = [row.task_result for row in self._task_rows_write(task, list(calls))]
        for task_result in results:
            task_enqueued.send(type(self), task_result=task_result)
        return results

    def __init__(self, alias: str, params: dict) -> None:
        super().__init__(alias, params)
        self._validated: set = set()

    def validate_task(self, task) -> None:
        # A Task is frozen and this backend's options don't change, so a task that passed once
        # always passes: the check (which inspects the function's signature) runs once per task.
        if task not in self._validated:
            super().validate_task(task)
            self._validated.add(task)

    def enqueue(self, task, args, kwargs) -> TaskResult:
        self.validate_task(task)
        task_result = self._task_to_db_task(task, args, kwargs).task_result
        task_enqueued.send(type(self), task_result=task_result)
        return task_result
