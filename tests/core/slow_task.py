"""A task that takes its time, for the worker of `rallypoint serve` (tests/core/test_serve.py):
it says when it starts and when it is done."""

import time

from django_tasks import task


@task()
def slow(seconds: float) -> float:
    print("slow task: started", flush=True)
    time.sleep(seconds)
    print("slow task: done", flush=True)
    return seconds
