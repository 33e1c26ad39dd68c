"""Webhooks: the outbox's consumer. Services record what happened with
`rallypoint.core.outbox.outbox_record` in their own transaction; the worker turns each event a
hook listens to into a waiting event of that hook; events are batched per hook, signed, sent by
the task queue and retried with backoff.

emit.py: which events are wanted, batching, signing, sending, retrying. hooks.py: what
organizers do.
"""

from .emit import (
    ID_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    backoff,
    deliveries_send_due,
    delivery_attempt,
    hook_disable,
    sign,
    signature_valid,
    webhook_flush,
)
from .hooks import (
    delivery_resend,
    hook_create,
    hook_delete,
    hook_rotate_secret,
    hook_schemes,
    hook_send_test,
    hook_set_active,
    hook_update,
    hook_url_clean,
)

__all__ = [
    "ID_HEADER",
    "SIGNATURE_HEADER",
    "TIMESTAMP_HEADER",
    "backoff",
    "deliveries_send_due",
    "delivery_attempt",
    "delivery_resend",
    "hook_create",
    "hook_delete",
    "hook_disable",
    "hook_rotate_secret",
    "hook_schemes",
    "hook_send_test",
    "hook_set_active",
    "hook_update",
    "hook_url_clean",
    "sign",
    "signature_valid",
    "webhook_flush",
]
