"""Queue an email from templates; it is sent by a task after the transaction commits.

    email_queue(to="a@b.org", template="people/email/join_confirmation", context={...})

renders `<template>_subject.txt`, `<template>.txt` and (when present) `<template>.html`.
"""

from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string
from django.utils import timezone

from .models import OutboundEmail
from .statements import insert


def email_queue(
    *,
    to: str,
    template: str,
    context: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
    attachments: list[dict[str, str]] | None = None,
) -> OutboundEmail | None:
    """Store the message and enqueue its sending after commit. Returns None when a message with
    the same dedupe_key was already queued."""
    ctx = {"brand": settings.RALLYPOINT_BRAND, "site_url": settings.SITE_URL, **(context or {})}
    subject = " ".join(render_to_string(f"{template}_subject.txt", ctx).split())[:300]
    body_text = render_to_string(f"{template}.txt", ctx)
    try:
        body_html = render_to_string(f"{template}.html", ctx)
    except TemplateDoesNotExist:
        body_html = ""
    message = OutboundEmail(
        to=to,
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        attachments=attachments or [],
        dedupe_key=dedupe_key,
    )
    # dedupe_key is unique: a message queued before (or a moment ago) makes this a no-op.
    if not insert(message, ignore_conflicts=True):
        return None
    from .tasks import enqueue_on_commit, send_email

    enqueue_on_commit(send_email, message.pk)
    return message


def email_send_now(message_id: int) -> bool:
    """Send a queued message once. Locks the row so two workers cannot both send it."""
    with transaction.atomic():
        message = OutboundEmail.objects.select_for_update().filter(pk=message_id).first()
        if message is None or message.sent_at is not None:
            return False
        email = EmailMultiAlternatives(
            subject=message.subject,
            body=message.body_text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[message.to],
        )
        if message.body_html:
            email.attach_alternative(message.body_html, "text/html")
        for attachment in message.attachments:
            email.attach(
                attachment["filename"],
                attachment["content"],
                attachment.get("mimetype", "application/octet-stream"),
            )
        message.attempts += 1
        try:
            email.send()
        except Exception as exc:  # the mail server said no: keep the error, let the task retry
            message.last_error = str(exc)[:2000]
            failure = exc
        else:
            message.sent_at, failure = timezone.now(), None
        message.save(update_fields=["attempts", "sent_at", "last_error"])
    if failure is not None:
        raise failure
    return True
