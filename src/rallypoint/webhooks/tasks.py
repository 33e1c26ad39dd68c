"""Thin tasks: take ids, call the service, safe to run twice."""

from django_tasks import task

from .services import delivery_attempt, webhook_flush


@task()
def flush_hook(hook_id: int) -> int:
    """Batch the hook's waiting events and send each batch."""
    delivery_ids = webhook_flush(hook_id=hook_id)
    for delivery_id in delivery_ids:
        delivery_attempt(delivery_id=delivery_id)
    return len(delivery_ids)


@task()
def attempt_delivery(delivery_id: int) -> str:
    return delivery_attempt(delivery_id=delivery_id)
