"""Thin tasks: take ids, call the service, safe to run twice."""

from django_tasks import task

from .services import deliveries_send_due, delivery_attempt, webhook_flush


@task()
def flush_hook(hook_id: int) -> int:
    """Batch the hook's waiting events and send each batch, then any retry that is due (task
    backends that cannot schedule retries rely on this)."""
    delivery_ids = webhook_flush(hook_id=hook_id)
    for delivery_id in delivery_ids:
        delivery_attempt(delivery_id=delivery_id)
    deliveries_send_due(hook_id=hook_id)
    return len(delivery_ids)


@task()
def attempt_delivery(delivery_id: int) -> str:
    return delivery_attempt(delivery_id=delivery_id)
