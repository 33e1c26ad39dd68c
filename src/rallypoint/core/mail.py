"""Queue an email from templates; it is sent by a task after the transaction commits.

    email_queue(to="a@b.org", template="people/email/join_confirmation", context={...})

renders `<template>_subject.txt`, `<template>.txt` and (when present) `<template>.html`.

Sending never holds a database transaction: the worker claims the message (a lease written by
one conditional UPDATE, committed), talks to the mail server outside any transaction with
EMAIL_TIMEOUT, then marks it sent (or records the error and releases the claim). Each message
carries a deterministic Message-ID, so the one window left (the server accepted the message but
the worker died before marking it sent: a later run may send it again once the lease expires)
produces a copy that receivers deduplicating by Message-ID drop.
"""

import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.template import TemplateDoesNotExist
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.crypto import salted_hmac

from .models import OutboundEmail
from .sending import MailSender, rate_wait, route

logger = logging.getLogger(__name__)

# How long a claim keeps other workers away from a message. Far longer than a send can take with
# EMAIL_TIMEOUT (connect + a few replies), so a live worker is never overtaken; a worker that died
# mid-send leaves the message to the next run after this.
CLAIM_LEASE = timedelta(minutes=5)


@dataclass(frozen=True)
class Recipient:
    """What the app that knows people says about an address (one lookup per message)."""

    unsubscribe_url: str | None = None  # the one-click link, for a supporter's address
    # Why mail the person did not just ask for must not go to it ("bouncing", "spam
    # complaint"), or "" when it may.
    blocked: str = ""


# Set once at start-up by the app that knows people (accounts): address -> Recipient. core
# cannot import it; without it every address is an unknown one.
recipient_lookup: Callable[[str], Recipient] | None = None


def recipient_lookup_set(lookup: Callable[[str], Recipient]) -> None:
    global recipient_lookup
    recipient_lookup = lookup


def email_queue(
    *,
    to: str,
    template: str,
    context: dict[str, Any] | None = None,
    dedupe_key: str | None = None,
    attachments: list[dict[str, str]] | None = None,
    requested: bool = False,
) -> OutboundEmail | None:
    """Store the message and enqueue its sending after commit. Returns None when a message with
    the same dedupe_key was already queued, or when the address is suppressed.

    Suppression: mail that follows an act or an event (thanks, reminders, receipts,
    notifications) is not sent to an address that bounces or whose owner reported our mail as
    spam, as with mailings. Mail the person has just asked for (`requested=True`: a sign-in or
    password link, a link to start campaign mail again) still goes: asking proves the mailbox
    works. Unsubscribing stops campaign mail only, never these."""
    recipient = recipient_lookup(to) if recipient_lookup is not None else Recipient()
    if recipient.blocked and not requested:
        logger.info("not queued for a suppressed address (%s): %s", recipient.blocked, template)
        return None
    unsubscribe_url = recipient.unsubscribe_url
    ctx = {
        "brand": settings.RALLYPOINT_BRAND,
        "site_url": settings.SITE_URL,
        "unsubscribe_url": unsubscribe_url,
        **(context or {}),
    }
    headers: dict[str, str] = {}
    if unsubscribe_url:
        # RFC 8058 one-click: mail clients POST "List-Unsubscribe=One-Click" to the URL.
        headers = {
            "List-Unsubscribe": f"<{unsubscribe_url}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
        }
    subject = " ".join(render_to_string(f"{template}_subject.txt", ctx).split())[:300]
    body_text = render_to_string(f"{template}.txt", ctx)
    try:
        body_html: str = render_to_string(f"{template}.html", ctx)
    except TemplateDoesNotExist:
        body_html = ""
    message = OutboundEmail(
        to=to,
        subject=subject,
        body_text=body_text,
        body_html=body_html,
        attachments=attachments or [],
        dedupe_key=dedupe_key,
        headers=headers,
    )
    if not _message_insert(message):
        return None
    from .tasks import enqueue_on_commit, send_email

    enqueue_on_commit(send_email, message.pk)
    return message


def _message_insert(message: OutboundEmail) -> bool:
    """Store a new message; False (nothing stored) when its dedupe_key is already taken (the
    key is unique: a message queued before, or a moment ago by another request)."""
    try:
        with transaction.atomic():
            message.save(force_insert=True)
    except IntegrityError:
        return False
    return True


def transactional_from() -> str:
    """The sender of transactional mail: the first of the verified sending addresses
    (MAILING_FROM_ADDRESSES, which defaults to DEFAULT_FROM_EMAIL)."""
    addresses = getattr(settings, "MAILING_FROM_ADDRESSES", None) or []
    return addresses[0] if addresses else settings.DEFAULT_FROM_EMAIL


def email_message_id(message: OutboundEmail) -> str:
    """The same Message-ID for every attempt at one message (a resend after a crash is
    recognisably the same message), unguessable from the outside."""
    digest = salted_hmac(
        "rallypoint.core.mail.message-id", f"{message.pk}:{message.created_at.isoformat()}"
    ).hexdigest()[:16]
    host = urlsplit(settings.SITE_URL).hostname or "localhost"
    return f"<outbound-{message.pk}.{digest}@{host}>"


def email_claim(*, message_id: int, now: datetime | None = None) -> str | None:
    """Take the lease on an unsent message: returns the claim token, or None when it is sent or
    another worker holds a valid lease. One UPDATE, committed on its own."""
    now = now or timezone.now()
    token = uuid.uuid4().hex
    claimed = (
        OutboundEmail.objects.filter(pk=message_id, sent_at__isnull=True)
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_LEASE))
        .update(claimed_at=now, claim_token=token, attempts=F("attempts") + 1)
    )
    return token if claimed else None


def email_send_now(message_id: int) -> bool:
    """Send a queued message once: claim it, send with no transaction open, mark it sent.
    Returns False when it was already sent or another worker is sending it."""
    token = email_claim(message_id=message_id)
    if token is None:
        return False
    message = OutboundEmail.objects.get(pk=message_id)
    email = EmailMultiAlternatives(
        subject=message.subject,
        body=message.body_text,
        from_email=transactional_from(),
        to=[message.to],
        headers={**message.headers, "Message-ID": email_message_id(message)},
    )
    if message.body_html:
        email.attach_alternative(message.body_html, "text/html")
    for attachment in message.attachments:
        email.attach(
            attachment["filename"],
            attachment["content"],
            attachment.get("mimetype", "application/octet-stream"),
        )
    try:
        # The mailings' route and its limit per second; EMAIL_TIMEOUT per server reply.
        rate_wait(route())
        with MailSender() as sender:
            sender.send(email)
    except Exception as exc:  # the mail server said no: keep the error, free it for a retry
        OutboundEmail.objects.filter(pk=message_id, claim_token=token).update(
            claimed_at=None, claim_token="", last_error=str(exc)[:2000]
        )
        raise
    OutboundEmail.objects.filter(pk=message_id, sent_at__isnull=True).update(
        sent_at=timezone.now(), claimed_at=None, claim_token=""
    )
    return True


# A message refused this many times stays unsent for an operator to look at (`last_error`).
SEND_ATTEMPTS_MAX = 5


def email_send_pending(*, now: datetime | None = None) -> int:
    """Send what a crashed or failed worker left behind: unsent messages queued more than a lease
    ago whose claim is free or expired. Safe beside running workers (each send claims first).
    Returns how many were sent."""
    now = now or timezone.now()
    pending = (
        OutboundEmail.objects.filter(
            sent_at__isnull=True,
            created_at__lt=now - CLAIM_LEASE,
            attempts__lt=SEND_ATTEMPTS_MAX,
        )
        .filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - CLAIM_LEASE))
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    sent = 0
    for message_id in list(pending):
        try:
            sent += email_send_now(message_id)
        except Exception as exc:  # recorded on the message; the others still go out
            logger.warning("email %s not sent: %s", message_id, exc)
    return sent
