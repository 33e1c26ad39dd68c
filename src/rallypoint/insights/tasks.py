"""Thin tasks: take ids, call a service, safe to run twice.

- insight_run_task: one heavy computation (spread backtest, whom to ask next) asked for from a
  page; services.steering.run_execute claims it, so a second delivery does nothing.
"""

from django_tasks import task


@task()
def insight_run_task(run_id: int) -> bool:
    from .services.steering import run_execute

    return run_execute(run_id)
