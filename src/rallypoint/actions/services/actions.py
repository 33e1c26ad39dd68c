"""Organizers shape actions: create, edit, publish and close them."""

from datetime import datetime
from functools import partial
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from rallypoint.core.audit import log_action
from rallypoint.core.richtext import ALLOWED_TAGS as ALLOWED_TAGS  # offered by actions.services
from rallypoint.core.richtext import html_clean

from ..models import Action, ActionKind, ActionStatus
from ..queries import action_page_forget

RESERVED_SLUGS = {"organize", "embed", "new"}

ACTION_FIELDS = (
    "kind",
    "campaign",
    "title",
    "slug",
    "summary",
    "description",
    "targets",
    "petition_text",
    "pledge_headline",
    "status",
    "goal",
    "thank_you_message",
    "button_label",
)


def targets_from_text(text: str) -> list[dict[str, str]]:
    """One target per line ("Governor Ana Ruiz") in OSDI's target[{name}] shape."""
    names = [line.strip()[:200] for line in (text or "").splitlines()]
    return [{"name": name} for name in dict.fromkeys(n for n in names if n)]


def slug_available(slug: str, *, exclude_pk: int | None = None) -> bool:
    if slug in RESERVED_SLUGS:
        return False
    qs = Action.objects.filter(slug=slug)
    if exclude_pk is not None:
        qs = qs.exclude(pk=exclude_pk)
    return not qs.exists()


def slug_suggest(title: str) -> str:
    base = slugify(title)[:90] or "action"
    slug, n = base, 2
    while not slug_available(slug):
        slug, n = f"{base}-{n}", n + 1
    return slug


def _validate_action(values: dict[str, Any], *, pk: int | None) -> None:
    errors: dict[str, list[str]] = {}
    if not (values.get("title") or "").strip():
        errors["title"] = ["Give the action a title."]
    slug = values.get("slug") or ""
    if slug and not slug_available(slug, exclude_pk=pk):
        errors["slug"] = ["That web address is taken. Choose another."]
    if values.get("kind") not in ActionKind.values:
        errors["kind"] = ["Choose petition, pledge or sign-up form."]
    if values.get("status") not in ActionStatus.values:
        errors["status"] = ["Choose draft, live or closed."]
    if (
        values.get("kind") == ActionKind.PLEDGE
        and not (values.get("pledge_headline") or "").strip()
    ):
        errors["pledge_headline"] = ["A pledge needs its promise, e.g. “I will vote on Nov 4”."]
    if errors:
        raise ValidationError(errors)


def action_create(
    *, actor: Any, title: str, kind: str = ActionKind.PETITION, **values: Any
) -> Action:
    """A new action (a draft unless status says otherwise)."""
    unknown = set(values) - set(ACTION_FIELDS)
    if unknown:
        raise ValueError(f"Unknown action fields: {', '.join(sorted(unknown))}")
    values = {"status": ActionStatus.DRAFT, **values, "title": (title or "").strip(), "kind": kind}
    values["description"] = html_clean(values.get("description", ""))
    _validate_action(values, pk=None)
    with transaction.atomic():
        values["slug"] = values.get("slug") or slug_suggest(values["title"])
        action = Action.objects.create(**values)
        log_action("action.created", obj=action, actor=actor, data={"title": action.title})
    return action


def action_update(*, action: Action, actor: Any, **values: Any) -> Action:
    unknown = set(values) - set(ACTION_FIELDS)
    if unknown:
        raise ValueError(f"Unknown action fields: {', '.join(sorted(unknown))}")
    if "description" in values:
        values["description"] = html_clean(values["description"])
    merged = {name: getattr(action, name) for name in ACTION_FIELDS if name != "campaign"}
    merged.update({k: v for k, v in values.items() if k != "campaign"})
    _validate_action(merged, pk=action.pk)
    changed = {k: v for k, v in values.items() if getattr(action, k) != v}
    if not changed:
        return action
    with transaction.atomic():
        before = {k: _plain(getattr(action, k)) for k in changed}
        for key, value in changed.items():
            setattr(action, key, value)
        if "status" in changed:
            action.closed_at = timezone.now() if action.status == ActionStatus.CLOSED else None
            changed["closed_at"] = action.closed_at
        action.save(update_fields=[*changed, "modified_at"])
        transaction.on_commit(partial(action_page_forget, before.get("slug", action.slug)))
        transaction.on_commit(partial(action_page_forget, action.slug))
        log_action(
            "action.updated",
            obj=action,
            actor=actor,
            data={"before": before, "after": {k: _plain(v) for k, v in changed.items()}},
        )
    return action


def _plain(value: Any) -> Any:
    if hasattr(value, "pk"):
        return value.pk
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def action_close(*, action: Action, actor: Any) -> Action:
    """Stop taking names. The page stays up with its count and says it is closed."""
    return action_update(action=action, actor=actor, status=ActionStatus.CLOSED)


def action_publish(*, action: Action, actor: Any) -> Action:
    return action_update(action=action, actor=actor, status=ActionStatus.LIVE)
