"""Writes of the API app: issuing and revoking keys (audited)."""

import secrets
from datetime import timedelta
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from rallypoint.core.audit import log_action

from .models import ApiKey, Scope, key_hash

KEY_PREFIX = "rp_"
PREFIX_LENGTH = 11  # "rp_" + 8 characters: enough to tell keys apart in a list, useless to guess


def apikey_create(*, name: str, scope: str, actor: Any = None) -> tuple[ApiKey, str]:
    """Issue a key. Returns (key record, the raw key): the raw key is shown once, never stored."""
    name = (name or "").strip()
    if not name:
        raise ValidationError({"name": ["Give the key a name, e.g. the tool that will use it."]})
    if len(name) > 100:
        raise ValidationError({"name": ["Keep the name under 100 characters."]})
    if scope not in Scope.values:
        raise ValidationError({"scope": [f"Scope must be one of {', '.join(Scope.values)}."]})
    if ApiKey.objects.filter(name__iexact=name, revoked_at__isnull=True).exists():
        raise ValidationError({"name": ["A key with this name is already active."]})
    raw = KEY_PREFIX + secrets.token_urlsafe(32)
    try:
        with transaction.atomic():
            key = ApiKey.objects.create(
                name=name,
                prefix=raw[:PREFIX_LENGTH],
                key_hash=key_hash(raw),
                scope=scope,
                created_by=actor if getattr(actor, "is_authenticated", False) else None,
            )
            log_action("api.key.created", obj=key, actor=actor, data={"name": name, "scope": scope})
    except IntegrityError:
        raise ValidationError({"name": ["A key with this name is already active."]})
    return key, raw


def apikey_revoke(*, key: ApiKey, actor: Any = None) -> ApiKey:
    """Revoke a key; requests with it are refused from now on. Revoking twice changes nothing."""
    with transaction.atomic():
        key = ApiKey.objects.select_for_update().get(pk=key.pk)
        if key.revoked_at is not None:
            return key
        key.revoked_at = timezone.now()
        key.revoked_by = actor if getattr(actor, "is_authenticated", False) else None
        key.save(update_fields=["revoked_at", "revoked_by"])
        log_action("api.key.revoked", obj=key, actor=actor, data={"name": key.name})
    return key


def apikey_mark_used(*, key: ApiKey) -> None:
    """Remember when a key was last used, at most once a minute (no write on every request)."""
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > timedelta(minutes=1):
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
