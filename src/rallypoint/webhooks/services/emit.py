"""Which events are wanted, batching, signing and sending them, with retries and switching off
a hook that keeps failing. Events come from the outbox (rallypoint.core.outbox): the user's
request only writes its outbox event; the worker turns it into waiting events, batches and
deliveries."""

import hashlib
import hmac
import json
import logging
import time
from datetime import UTC, datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import models, transaction
from django.utils import timezone

from rallypoint.core.audit import log_action
from rallypoint.core.cache import CachedValue
from rallypoint.core.mail import email_queue
from rallypoint.core.models import OutboxEvent
from rallypoint.core.outbox import subject_render, utc_iso_seconds

from ..models import EVENT_KEYS, Delivery, DeliveryStatus, EventType, Hook, PendingEvent

logger = logging.getLogger(__name__)

# The active hooks and the event types each listens to: asked after every write's commit, so
# deciding whether to wake the worker costs no query. Forgotten when a hook changes.
ACTIVE_HOOKS: CachedValue[list[tuple[int, list[str]]]] = CachedValue(
    "webhooks.active-hooks", fresh_for=30
)
SIGNATURE_HEADER = "Rallypoint-Webhook-Signature"
TIMESTAMP_HEADER = "Rallypoint-Webhook-Timestamp"
ID_HEADER = "Rallypoint-Webhook-Id"
STALE_SENDING = timedelta(minutes=5)  # a worker that died mid-send: try again after this


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def batch_seconds() -> int:
    return int(_setting("WEBHOOK_BATCH_SECONDS", 1))


def batch_max() -> int:
    return int(_setting("WEBHOOK_BATCH_MAX", 100))


def retry_for() -> timedelta:
    return timedelta(hours=float(_setting("WEBHOOK_RETRY_HOURS", 24)))


def disable_after() -> timedelta:
    return timedelta(hours=float(_setting("WEBHOOK_DISABLE_AFTER_HOURS", 24)))


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, … doubling up to one hour between attempts."""
    base = float(_setting("WEBHOOK_RETRY_BASE_SECONDS", 30))
    return timedelta(seconds=min(base * 2 ** max(attempts - 1, 0), 3600))


# --- signing ----------------------------------------------------------------------------------


def sign(secret: str, timestamp: int | str, body: bytes | str) -> str:
    """HMAC-SHA256 over "<timestamp>.<body>", hex encoded, as sent in the signature header."""
    raw = body.encode() if isinstance(body, str) else body
    message = f"{timestamp}.".encode() + raw
    return "sha256=" + hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def signature_valid(
    secret: str, timestamp: str, body: bytes, signature: str, *, tolerance: int = 300
) -> bool:
    """What a receiver does: recompute, compare in constant time, refuse old timestamps."""
    try:
        age = abs(time.time() - int(timestamp))
    except (TypeError, ValueError):
        return False
    return age <= tolerance and hmac.compare_digest(sign(secret, timestamp, body), signature)


# --- which events are wanted ------------------------------------------------------------------


EVENT_TYPES = frozenset(EventType.values)  # (`Choices.values` builds a new list on each use)
OUTBOX_CONSUMER = "webhooks"


def webhooks_want(kind: str) -> bool:
    """Whether an active hook listens to `kind` (cached: no query on the write path)."""
    return kind in EVENT_TYPES and any(
        kind in types for _, types in ACTIVE_HOOKS.get(_active_hooks)
    )


def _active_hooks() -> list[tuple[int, list[str]]]:
    return [
        (pk, list(types))
        for pk, types in Hook.objects.filter(is_active=True).values_list("pk", "event_types")
    ]


def _forget_hooks() -> None:
    """After a hook changed: forget the active hooks now (this process's next write sees the
    change) and again after commit (a reader in between may have cached the old list)."""
    ACTIVE_HOOKS.forget()
    transaction.on_commit(ACTIVE_HOOKS.forget, robust=True)


RECORD_REF = "_record"  # a record waiting to be rendered when its batch is made


def webhooks_from_outbox(events: list[OutboxEvent]) -> None:
    """The webhooks outbox consumer: each event becomes a waiting event of every active hook that
    listens to its kind and existed when it happened. Runs in the transaction that moves the
    consumer's cursor, so an event is queued for its hooks exactly once; the flush is enqueued
    after commit. A record is only referenced here and rendered when the batch is made."""
    events = [e for e in events if e.kind in EVENT_TYPES]
    if not events:
        return
    hooks = list(
        Hook.objects.filter(is_active=True)
        .order_by("pk")
        .values_list("pk", "event_types", "created_at")
    )
    pending: list[PendingEvent] = []
    for event in events:
        wanting = [
            pk for pk, types, since in hooks if event.kind in types and since <= event.created_at
        ]
        if not wanting:
            continue
        body = (
            {RECORD_REF: [event.subject_type, event.subject_id]}
            if event.subject_type
            else event.payload
        )
        item = {
            "id": str(event.uuid),
            "event_type": event.kind,
            "created_date": utc_iso_seconds(event.created_at),
            EVENT_KEYS[EventType(event.kind)]: body,
        }
        pending += [PendingEvent(hook_id=pk, event_type=event.kind, payload=item) for pk in wanting]
    if not pending:
        return
    PendingEvent.objects.bulk_create(pending)
    hook_ids = sorted({p.hook_id for p in pending})
    transaction.on_commit(lambda: _schedule_flushes(hook_ids), robust=True)


def _schedule_flushes(hook_ids: list[int]) -> None:
    for pk in hook_ids:
        _schedule_flush(pk)


def _rendered(item: dict[str, Any]) -> dict[str, Any]:
    key = EVENT_KEYS[EventType(item["event_type"])]
    ref = item[key].get(RECORD_REF) if isinstance(item[key], dict) else None
    if not ref:
        return item
    label, pk = ref
    record = subject_render(label, pk)
    if record is None:  # gone since (merged into someone else, deleted)
        return {**item, key: None, "deleted": True}
    return {**item, key: record}


def _supports_defer(task) -> bool:
    from django_tasks import task_backends

    return bool(getattr(task_backends[task.backend], "supports_defer", False))


def _schedule_flush(hook_id: int) -> None:
    """One flush per hook per batch window: events of the same second travel together."""
    from ..tasks import flush_hook

    window = batch_seconds()
    if window <= 0 or not _supports_defer(flush_hook):
        flush_hook.enqueue(hook_id)
        return
    # Counted after the insert, so the flush always runs after this event is visible.
    bucket_end = (int(time.time()) // window + 1) * window
    if cache.add(f"webhooks:flush:{hook_id}:{bucket_end}", 1, timeout=window + 60):
        run_after = datetime.fromtimestamp(bucket_end, UTC)
        flush_hook.using(run_after=run_after).enqueue(hook_id)


# --- batching and sending ---------------------------------------------------------------------


def webhook_flush(*, hook_id: int) -> list[int]:
    """Turn the hook's waiting events into deliveries of at most WEBHOOK_BATCH_MAX events each.
    Returns the new deliveries' ids. Safe to run twice: taken events are gone."""
    created: list[int] = []
    while True:
        with transaction.atomic():
            hook = Hook.objects.filter(pk=hook_id).first()
            if hook is None:
                return created
            events = list(
                PendingEvent.objects.select_for_update(skip_locked=True)
                .filter(hook_id=hook_id)
                .order_by("id")[: batch_max()]
            )
            if not events:
                return created
            delivery = _delivery_create(hook, [_rendered(e.payload) for e in events])
            PendingEvent.objects.filter(pk__in=[e.pk for e in events]).delete()
        created.append(delivery.pk)
        if len(events) < batch_max():
            return created


def _delivery_create(hook: Hook, items: list[dict[str, Any]]) -> Delivery:
    now = timezone.now()
    return Delivery.objects.create(
        hook=hook,
        body=json.dumps(items, ensure_ascii=False, separators=(",", ":")),
        event_types=sorted({item.get("event_type", "") for item in items}),
        event_count=len(items),
        next_attempt_at=now,
        give_up_at=now + retry_for(),
    )


def delivery_attempt(*, delivery_id: int, now: datetime | None = None) -> str:
    """Send one delivery if it is due, record the answer, and schedule the next try on failure.
    Returns the delivery's status afterwards ("" when there was nothing to do)."""
    now = now or timezone.now()
    claimed = (
        Delivery.objects.filter(pk=delivery_id, hook__is_active=True)
        .filter(
            models.Q(status=DeliveryStatus.PENDING, next_attempt_at__lte=now)
            | models.Q(status=DeliveryStatus.SENDING, last_attempt_at__lt=now - STALE_SENDING)
        )
        .update(
            status=DeliveryStatus.SENDING,
            last_attempt_at=now,
            attempts=models.F("attempts") + 1,
        )
    )
    if not claimed:
        return ""
    delivery = Delivery.objects.select_related("hook", "hook__created_by").get(pk=delivery_id)
    from ..sender import post_signed

    result = post_signed(delivery)
    if result.ok:
        Delivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.DELIVERED,
            delivered_at=now,
            next_attempt_at=None,
            response_code=result.status,
            response_excerpt=result.excerpt,
            error="",
        )
        Hook.objects.filter(pk=delivery.hook_id, failing_since__isnull=False).update(
            failing_since=None
        )
        return DeliveryStatus.DELIVERED
    return _record_failure(delivery, result, now)


def _record_failure(delivery: Delivery, result: Any, now: datetime) -> str:
    Hook.objects.filter(pk=delivery.hook_id, failing_since__isnull=True).update(failing_since=now)
    hook = Hook.objects.select_related("created_by").get(pk=delivery.hook_id)
    answer = {
        "response_code": result.status,
        "response_excerpt": result.excerpt,
        "error": result.error[:500],
    }
    if hook.failing_since is not None and now - hook.failing_since >= disable_after():
        # Kept pending: if the hook is switched back on, nothing is lost.
        Delivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.PENDING, next_attempt_at=None, **answer
        )
        hook_disable(hook=hook, reason=result.error or f"HTTP {result.status}", now=now)
        return DeliveryStatus.PENDING
    if delivery.give_up_at is not None and now >= delivery.give_up_at:
        Delivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.FAILED, next_attempt_at=None, **answer
        )
        return DeliveryStatus.FAILED
    next_at = now + backoff(delivery.attempts)
    Delivery.objects.filter(pk=delivery.pk).update(
        status=DeliveryStatus.PENDING, next_attempt_at=next_at, **answer
    )
    _schedule_attempt(delivery.pk, next_at)
    return DeliveryStatus.PENDING


def _schedule_attempt(delivery_id: int, at: datetime) -> None:
    from ..tasks import attempt_delivery

    if _supports_defer(attempt_delivery):
        attempt_delivery.using(run_after=at).enqueue(delivery_id)
    else:
        # Inline task backends cannot wait: the retry goes out with this hook's next flush.
        logger.info("webhook delivery %s will be retried at %s", delivery_id, at)


def deliveries_send_due(*, hook_id: int, now: datetime | None = None) -> int:
    """Attempt the hook's deliveries whose retry time has come."""
    now = now or timezone.now()
    ids = list(
        Delivery.objects.filter(
            hook_id=hook_id,
            status=DeliveryStatus.PENDING,
            next_attempt_at__lte=now,
            hook__is_active=True,
        ).values_list("pk", flat=True)
    )
    for pk in ids:
        delivery_attempt(delivery_id=pk, now=now)
    return len(ids)


def hook_disable(*, hook: Hook, reason: str, now: datetime | None = None) -> Hook:
    """Switch off a hook that has failed for WEBHOOK_DISABLE_AFTER_HOURS and tell its owner."""
    now = now or timezone.now()
    updated = Hook.objects.filter(pk=hook.pk, is_active=True).update(
        is_active=False,
        disabled_at=now,
        disabled_reason=f"Every delivery failed since {hook.failing_since:%Y-%m-%d %H:%M} UTC "
        f"({reason[:200]}).",
    )
    _forget_hooks()
    hook.refresh_from_db()
    if updated:
        log_action("webhook.disabled", obj=hook, data={"reason": hook.disabled_reason})
        owner = hook.created_by
        if owner is not None and owner.email:
            email_queue(
                to=owner.email,
                template="webhooks/email/hook_disabled",
                context={"hook": hook, "hook_path": f"/webhooks/{hook.pk}/"},
                dedupe_key=f"webhooks.disabled:{hook.pk}:{now:%Y%m%d%H%M%S}",
            )
    return hook
