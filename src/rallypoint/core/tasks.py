from functools import partial

from django.db import router, transaction
from django_tasks import task

from .mail import email_send_now


def enqueue_on_commit(task_or_variant, *args, **kwargs) -> None:
    """Enqueue a task that must run only if, and after, the current transaction commits.

    With the database task backend (the default) the task's row is written inside the
    transaction itself: it commits or rolls back with the data that asked for it (a worker
    cannot see it before), costs no separate transaction, and nothing is lost if the process
    stops between the commit and the enqueue. Any other backend (Redis queue, immediate) is
    called after the commit, since its worker could otherwise run before the data exists.
    """
    enqueue = partial(task_or_variant.enqueue, *args, **kwargs)
    if _writes_in_transaction(task_or_variant):
        enqueue()
    else:
        transaction.on_commit(enqueue)


def _writes_in_transaction(task_or_variant) -> bool:
    try:
        from django_tasks_db.backend import DatabaseBackend
        from django_tasks_db.models import DBTaskResult
    except ImportError:  # pragma: no cover - the database backend is a dependency
        return False
    if not isinstance(task_or_variant.get_backend(), DatabaseBackend):
        return False
    alias = router.db_for_write(DBTaskResult)
    return transaction.get_connection(alias).in_atomic_block


@task()
def send_email(message_id: int) -> bool:
    return email_send_now(message_id)


@task()
def process_outbox() -> int:
    """Hand new outbox events to their consumers (rallypoint.core.outbox); safe to run twice."""
    from .outbox import outbox_process

    return outbox_process()
