"""The outbox: what happened, written by a service in the same transaction as the rows it
describes, and read after commit by the worker, in order, by every registered consumer.

    outbox_record("signature", subject=submission)       # in the service's transaction
    outbox_record("person.updated", subject=person, payload={"fields": ["given_name"]})

A consumer (webhooks; later goal progress, notification emails, analytics) registers in its
AppConfig.ready() and keeps its own position in `OutboxCursor`:

    outbox_consumer_register("webhooks", handler, wants=lambda kind: ...)

`handler(events)` gets the next events in id order and runs inside the transaction that moves
the consumer's cursor past them, with the cursor row locked: what it writes commits together
with the new position (a crash repeats nothing and loses nothing), two workers never handle the
same events, and an exception rolls both back so the same events come again on the next run.
So a handler writes rows and enqueues anything slow or external with `transaction.on_commit`;
it never talks to the outside world itself. `wants(kind)` (optional; cheap, cached, asked after
commit) lets a write skip waking the worker for events nobody listens to now; they are still
read, in order, by the next run. Delivery to a consumer is exactly once for what it writes in
the database; what it enqueues after commit is at least once, so those tasks are idempotent.

On PostgreSQL ids are drawn before commit, so a later id can commit first: the cursor moves past
the missing ids and keeps them as gaps, read when they appear (a rolled-back write leaves a gap
that is forgotten after OUTBOX_GAP_SECONDS).

Renderers: the app that owns a kind of record registers how it is shown to the outside world
(the API registers OSDI documents), so a consumer such as webhooks renders a subject without
importing that app: `subject_renderer_register("people.person", render)`, `subject_render(...)`.
"""

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from .models import OutboxCursor, OutboxEvent

logger = logging.getLogger(__name__)

Handler = Callable[[list[OutboxEvent]], None]
Renderer = Callable[[models.Model], dict[str, Any]]
OutboxItem = tuple[str, models.Model | None, dict[str, Any] | None]  # kind, subject, payload


@dataclass(frozen=True)
class OutboxConsumer:
    name: str
    handler: Handler
    wants: Callable[[str], bool] | None = None


_consumers: dict[str, OutboxConsumer] = {}
_renderers: dict[str, Renderer] = {}


def outbox_consumer_register(
    name: str, handler: Handler, *, wants: Callable[[str], bool] | None = None
) -> None:
    """Register (or replace) the consumer `name`. Call it from AppConfig.ready(). A consumer
    seen for the first time starts at the beginning of what the outbox still holds."""
    _consumers[name] = OutboxConsumer(name=name, handler=handler, wants=wants)


def outbox_consumer_unregister(name: str) -> None:
    """Stop handing events to `name` (its cursor stays, so registering again resumes there)."""
    _consumers.pop(name, None)


def outbox_consumers() -> list[OutboxConsumer]:
    return list(_consumers.values())


def subject_renderer_register(label: str, renderer: Renderer) -> None:
    """How records of `label` ("app_label.model") are shown to the outside world."""
    _renderers[label.lower()] = renderer


def subject_render(label: str, pk: Any) -> dict[str, Any] | None:
    """The registered representation of the record, or None if it is gone since (merged into
    someone else, deleted). LookupError if no app registered a renderer for `label`."""
    renderer = _renderers.get(label.lower())
    if renderer is None:
        raise LookupError(f"No renderer registered for {label}")
    record = apps.get_model(label)._default_manager.filter(pk=pk).first()
    return None if record is None else renderer(record)


def utc_iso_seconds(value: datetime | None) -> str | None:
    """ISO 8601 in UTC to the second (2014-03-20T21:04:31Z), as events are dated outside."""
    if value is None:
        return None
    return value.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


# --- writing ----------------------------------------------------------------------------------


def outbox_record(
    kind: str,
    *,
    subject: models.Model | None = None,
    payload: dict[str, Any] | None = None,
) -> OutboxEvent:
    """Record that `kind` happened (to `subject`). Call it inside the service's transaction: the
    event commits or rolls back with the rows it describes, and consumers read it after commit."""
    return outbox_record_many([(kind, subject, payload)])[0]


def outbox_record_many(items: Iterable[OutboxItem]) -> list[OutboxEvent]:
    """`outbox_record` for several events in one INSERT (kind, subject, payload), in order. A
    subject only gives its table and primary key."""
    events = [
        OutboxEvent(
            kind=kind,
            subject_type=subject._meta.label_lower if subject is not None else "",
            subject_id=str(subject.pk) if subject is not None else "",
            payload=payload or {},
        )
        for kind, subject, payload in items
    ]
    if not events:
        return []
    if len(events) == 1:
        events[0].save(force_insert=True)
    else:
        events = OutboxEvent.objects.bulk_create(events)
    kinds = {event.kind for event in events}
    transaction.on_commit(lambda: _wake_worker(kinds), robust=True)
    return events


def _wanted(kind: str) -> bool:
    return any(c.wants is None or c.wants(kind) for c in _consumers.values())


def _wake_worker(kinds: set[str]) -> None:
    """After commit: enqueue the outbox task if a consumer wants one of these kinds. Asking
    here, not in the transaction, keeps the write path at one INSERT. A wake-up lost to a crash
    right after the commit is made up by the next one or by `rallypoint outbox_process`."""
    if any(_wanted(kind) for kind in kinds):
        from .tasks import process_outbox

        process_outbox.enqueue()


# --- reading ----------------------------------------------------------------------------------


def batch_size() -> int:
    return int(getattr(settings, "OUTBOX_BATCH", 500))


def gap_seconds() -> float:
    return float(getattr(settings, "OUTBOX_GAP_SECONDS", 3600))


MAX_GAPS = 1000


def outbox_process(*, consumer: str | None = None) -> int:
    """Hand every registered consumer (or only `consumer`) the events it has not handled yet, in
    order. Safe to run twice and beside another worker. A consumer that fails is logged and left
    at its last good position (its events come again on the next run); the others go on.
    Returns how many events were handled."""
    handled = 0
    for each in [c for c in _consumers.values() if consumer in (None, c.name)]:
        try:
            while True:
                count, more = _consume_batch(each, batch_size())
                handled += count
                if not more:
                    break
        except Exception:
            logger.exception(
                "outbox consumer %s failed; it will retry from where it was", each.name
            )
    return handled


def _consume_batch(consumer: OutboxConsumer, limit: int) -> tuple[int, bool]:
    with transaction.atomic():
        _cursor_ensure(consumer.name)
        cursor = OutboxCursor.objects.select_for_update().get(consumer=consumer.name)
        fresh = list(OutboxEvent.objects.filter(pk__gt=cursor.position).order_by("pk")[:limit])
        before = [(int(pk), float(at)) for pk, at in cursor.gaps]
        gaps = dict(before)
        late = list(OutboxEvent.objects.filter(pk__in=list(gaps)).order_by("pk")) if gaps else []
        for event in late:
            gaps.pop(event.pk)
        now = time.time()
        previous = cursor.position
        for event in fresh:
            # Ids between two events are in a transaction not yet committed, or rolled back.
            for pk in range(max(previous + 1, event.pk - MAX_GAPS), event.pk):
                gaps[pk] = now
            previous = event.pk
        expired = now - gap_seconds()
        kept = sorted((pk, at) for pk, at in gaps.items() if at >= expired)[-MAX_GAPS:]
        events = late + fresh
        if events:
            consumer.handler(events)
        if fresh or kept != before:
            cursor.position = previous
            cursor.gaps = [[pk, at] for pk, at in kept]
            cursor.save(update_fields=["position", "gaps", "modified_at"])
    return len(events), len(fresh) == limit


def _cursor_ensure(name: str) -> None:
    """A consumer's first cursor starts just before the oldest event the outbox still holds."""
    if OutboxCursor.objects.filter(consumer=name).exists():
        return
    oldest = OutboxEvent.objects.order_by("pk").values_list("pk", flat=True).first()
    OutboxCursor.objects.get_or_create(
        consumer=name, defaults={"position": oldest - 1 if oldest else 0}
    )


def outbox_prune(*, older_than: timedelta | None = None) -> int:
    """Delete events every registered consumer has passed and that are older than
    OUTBOX_KEEP_DAYS (default 7). Returns how many were deleted."""
    if older_than is None:
        older_than = timedelta(days=float(getattr(settings, "OUTBOX_KEEP_DAYS", 7)))
    names = list(_consumers)
    positions = list(
        OutboxCursor.objects.filter(consumer__in=names).values_list("position", flat=True)
    )
    if len(positions) < len(names):  # a consumer that never ran has read nothing yet
        return 0
    cutoff = timezone.now() - older_than
    query = OutboxEvent.objects.filter(created_at__lt=cutoff)
    if positions:
        query = query.filter(pk__lte=min(positions))
    deleted, _ = query.delete()
    return deleted
