"""What organizers do with webhooks: add, change, pause, test, resend, rotate the secret."""

import uuid
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import transaction
from django.utils import timezone

from rallypoint.core.audit import log_action
from rallypoint.core.http import (
    MESSAGE_USERINFO,
    DestinationRefused,
    OutgoingError,
    url_check,
    url_named_in_setting,
)
from rallypoint.core.outbox import utc_iso_seconds

from ..models import Delivery, DeliveryStatus, EventType, Hook, new_secret
from .emit import _delivery_create, _forget_hooks, _schedule_flush, _setting, retry_for


def hook_schemes() -> tuple[str, ...]:
    """https only, plus plain http where WEBHOOK_ALLOW_HTTP (development)."""
    return ("https", "http") if _setting("WEBHOOK_ALLOW_HTTP", False) else ("https",)


def hook_url_clean(url: str) -> str:
    """An http(s) address (plain http only where WEBHOOK_ALLOW_HTTP) that the guarded client
    will send to: not inside the network, unless OUTGOING_ALLOWED_HOSTS names it. Sending checks
    again, on the address the host name resolves to then."""
    url = (url or "").strip()
    schemes = hook_schemes()
    message = (
        "Enter the full address that receives the events, e.g. https://…"
        if "http" in schemes
        else "Enter the full address that receives the events, starting with https://."
    )
    if len(url) > 500:
        raise ValidationError("Keep the address under 500 characters.")
    try:
        url_check(url=url, schemes=schemes, resolve=False)
        if not url_named_in_setting(url=url, schemes=schemes):
            URLValidator(schemes=list(schemes))(url)
        url_check(url=url, schemes=schemes)
    except (DestinationRefused, ValidationError) as exc:
        raise ValidationError(exc.message if isinstance(exc, DestinationRefused) else message)
    except OutgoingError as exc:
        raise ValidationError(exc.message if exc.message == MESSAGE_USERINFO else message)
    return url


def _clean_hook(name: str, url: str, event_types: list[str]) -> tuple[str, str, list[str]]:
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    url = (url or "").strip()
    if not name:
        errors["name"] = ["Give the webhook a name, e.g. the tool that receives it."]
    elif len(name) > 100:
        errors["name"] = ["Keep the name under 100 characters."]
    try:
        url = hook_url_clean(url)
    except ValidationError as exc:
        errors["url"] = exc.messages
    chosen = [t for t in EventType.values if t in set(event_types or [])]
    unknown = set(event_types or []) - set(EventType.values)
    if unknown:
        errors["event_types"] = [f"Unknown event types: {', '.join(sorted(unknown))}."]
    elif not chosen:
        errors["event_types"] = ["Choose at least one kind of event."]
    if errors:
        raise ValidationError(errors)
    return name, url, chosen


def hook_create(*, name: str, url: str, event_types: list[str], actor: Any) -> Hook:
    name, url, chosen = _clean_hook(name, url, event_types)
    with transaction.atomic():
        hook = Hook.objects.create(
            name=name,
            url=url,
            event_types=chosen,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        log_action(
            "webhook.created", obj=hook, actor=actor, data={"url": url, "event_types": chosen}
        )
    _forget_hooks()
    return hook


def hook_update(*, hook: Hook, name: str, url: str, event_types: list[str], actor: Any) -> Hook:
    name, url, chosen = _clean_hook(name, url, event_types)
    before = {"name": hook.name, "url": hook.url, "event_types": hook.event_types}
    after = {"name": name, "url": url, "event_types": chosen}
    if before == after:
        return hook
    with transaction.atomic():
        hook.name, hook.url, hook.event_types = name, url, chosen
        hook.save(update_fields=["name", "url", "event_types", "modified_at"])
        log_action(
            "webhook.updated", obj=hook, actor=actor, data={"before": before, "after": after}
        )
    _forget_hooks()
    return hook


def hook_set_active(*, hook: Hook, active: bool, actor: Any) -> Hook:
    """Pause or resume. Resuming sends what waited while the hook was off."""
    if hook.is_active == active:
        return hook
    now = timezone.now()
    with transaction.atomic():
        hook.is_active = active
        hook.failing_since = None
        if active:
            hook.disabled_at, hook.disabled_reason = None, ""
        else:
            hook.disabled_at, hook.disabled_reason = now, "Paused by an organizer."
        hook.save(
            update_fields=[
                "is_active",
                "failing_since",
                "disabled_at",
                "disabled_reason",
                "modified_at",
            ]
        )
        log_action("webhook.resumed" if active else "webhook.paused", obj=hook, actor=actor)
        if active:
            waiting = list(
                hook.deliveries.filter(status=DeliveryStatus.PENDING).values_list("pk", flat=True)
            )
            hook.deliveries.filter(pk__in=waiting).update(
                next_attempt_at=now, give_up_at=now + retry_for()
            )
            transaction.on_commit(lambda: _send_now(waiting))
            if hook.pending_events.exists():
                transaction.on_commit(lambda: _schedule_flush(hook.pk))
    _forget_hooks()
    return hook


def _send_now(delivery_ids: list[int]) -> None:
    from ..tasks import attempt_delivery

    for pk in delivery_ids:
        attempt_delivery.enqueue(pk)


def hook_rotate_secret(*, hook: Hook, actor: Any) -> Hook:
    with transaction.atomic():
        hook.secret = new_secret()
        hook.save(update_fields=["secret", "modified_at"])
        log_action("webhook.secret.rotated", obj=hook, actor=actor)
    return hook


def hook_delete(*, hook: Hook, actor: Any) -> None:
    with transaction.atomic():
        log_action("webhook.deleted", obj=hook, actor=actor, data={"name": hook.name})
        hook.delete()
    _forget_hooks()


def hook_send_test(*, hook: Hook, actor: Any) -> Delivery:
    """A "ping" delivery, sent at once, so an organizer can check the receiver."""
    item = {
        "id": str(uuid.uuid4()),
        "event_type": "ping",
        "created_date": utc_iso_seconds(timezone.now()),
        "message": f"Test event from {settings.RALLYPOINT_BRAND['name']}.",
    }
    with transaction.atomic():
        delivery = _delivery_create(hook, [item])
        log_action("webhook.tested", obj=hook, actor=actor)
    from ..tasks import attempt_delivery

    transaction.on_commit(lambda: attempt_delivery.enqueue(delivery.pk))
    return delivery


def delivery_resend(*, delivery: Delivery, actor: Any) -> Delivery:
    """Send a delivery again (from the log), with a fresh retry window."""
    now = timezone.now()
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk).update(
            status=DeliveryStatus.PENDING, next_attempt_at=now, give_up_at=now + retry_for()
        )
        log_action(
            "webhook.delivery.resent", obj=delivery.hook, actor=actor, data={"id": delivery.pk}
        )
    from ..tasks import attempt_delivery

    transaction.on_commit(lambda: attempt_delivery.enqueue(delivery.pk))
    delivery.refresh_from_db()
    return delivery
