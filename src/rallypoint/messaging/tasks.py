"""Thin tasks: take ids, call a service, safe to run twice. Services are imported when a task
runs, so the services can queue these tasks without an import cycle.

- mailing_snapshot_task: the audience into deliveries (calculating → sending).
- mailing_send_task: one worker's turn at sending (about RUN_SECONDS); queues itself again while
  deliveries wait, so a long mailing takes turns with the other work of the queue.
- mailing_start_task: a scheduled mailing's start, queued for its time.
- mailing_ab_decide_task: an A/B test's decision, queued for `ab_decide_at`.
- mailing_watch_task: every lease, restarts a mailing whose workers all died.
- mailings_process_task: all of the timed work at once (what `rallypoint mailings_process`
  runs from cron).
"""

from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from rallypoint.core.tasks import enqueue_on_commit

__all__ = [
    "enqueue_on_commit",
    "mailing_ab_decide_task",
    "mailing_send_task",
    "mailing_snapshot_task",
    "mailing_start_task",
    "mailing_watch_task",
    "mailings_process_task",
]


@task()
def mailing_snapshot_task(mailing_id: int) -> int:
    from .services.delivery import mailing_snapshot

    return mailing_snapshot(mailing_id).targeted


@task()
def mailing_send_task(mailing_id: int) -> int:
    from .services.delivery import can_defer, mailing_send_run

    result = mailing_send_run(mailing_id)
    if result.more:
        enqueue_on_commit(mailing_send_task, mailing_id)
    elif result.wait and can_defer():
        at = timezone.now() + timedelta(seconds=result.wait)
        transaction.on_commit(lambda: mailing_send_task.using(run_after=at).enqueue(mailing_id))
    return result.sent


@task()
def mailing_start_task(mailing_id: int, scheduled_at_iso: str) -> bool:
    from .models import Mailing
    from .services.delivery import mailing_start_due

    # Queued for an older time: the new schedule's own task (or mailings_process) takes over.
    at = Mailing.objects.filter(pk=mailing_id).values_list("scheduled_at", flat=True).first()
    if at is None or at != datetime.fromisoformat(scheduled_at_iso):
        return False
    return mailing_start_due(mailing_id)


@task()
def mailing_ab_decide_task(mailing_id: int) -> bool:
    from .services.ab import ab_decide

    return ab_decide(mailing_id) is not None


@task()
def mailing_watch_task(mailing_id: int) -> bool:
    from .services.delivery import mailing_watch

    return mailing_watch(mailing_id)


@task()
def mailings_process_task() -> dict[str, int]:
    from .services.delivery import mailings_process

    return mailings_process().as_dict()
