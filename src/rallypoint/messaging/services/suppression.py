"""Unsubscribes, preferences, bounces and complaints: who must not get campaign mail any more.

Every mailing carries `List-Unsubscribe` (an HTTPS link signed for its delivery and, with a
bounce mailbox, a mailto: address) and `List-Unsubscribe-Post: List-Unsubscribe=One-Click`
(RFC 8058). Unsubscribing goes through accounts' "stop campaign emails" (`email_subscription_set`,
then people's `email_status_set`: the audit log and the outbox's "unsubscribe" event), marks the
delivery and records an "unsubscribe" act in the ledger. Starting again is confirmed by email.

Bounces and complaints arrive as the email provider's signed webhooks (anymail's tracking
signal, `provider_event_record`) or, with plain SMTP, as delivery status notifications in a
bounce mailbox (read by `bounce_mailbox`, run by `rallypoint mail_bounces`). A hard bounce
suppresses the address at once, MAILING_SOFT_BOUNCE_LIMIT soft bounces in a row do, a complaint
marks it "spam complaint". Every handler is safe to run twice on the same report.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core import signing
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from rallypoint.accounts.services import email_subscription_set
from rallypoint.core.mail import email_queue
from rallypoint.ledger.services import activity_record
from rallypoint.people.models import EmailAddress, EmailStatus
from rallypoint.people.normalize import email_key
from rallypoint.people.services import email_status_set

from ..models import Delivery, MailKind, MailPreference, SoftBounce
from .tracking import (
    ClickToken,
    click_record,
    delivery_open_record,
    delivery_token_read,
    delivery_token_sign,
    token_url,
)

UNSUBSCRIBE_ACT = "unsubscribe"
RESUBSCRIBE_SALT = "rallypoint.messaging.resubscribe"
RESUBSCRIBE_DAYS = 7
# The anymail metadata key a sent mailing message carries its delivery's token under.
METADATA_KEY = "delivery"
# A soft bounce this long after the previous one starts the count again (plain SMTP never
# reports "delivered", which resets it with a provider).
SOFT_BOUNCE_WINDOW = timedelta(days=30)
SUPPRESSED = {EmailStatus.UNSUBSCRIBED, EmailStatus.SPAM_COMPLAINT}

# --- links and headers in each message -----------------------------------------------------------


def unsubscribe_url(delivery: Delivery) -> str:
    """The signed one-click unsubscribe link of one delivery (GET asks, POST does it)."""
    token = delivery_token_sign(delivery.token, "unsubscribe")
    return token_url("messaging:unsubscribe", token)


def preferences_url(delivery: Delivery) -> str:
    """The signed link to the recipient's preference page (which kinds of mail they get)."""
    token = delivery_token_sign(delivery.token, "preferences")
    return token_url("messaging:preferences", token)


def _bounce_mailbox_address(tag: str) -> str | None:
    local, _, domain = (settings.MAILING_BOUNCE_ADDRESS or "").rpartition("@")
    if not local or not domain:
        return None
    return f"{local}+{tag}@{domain}"


def bounce_address(delivery: Delivery) -> str | None:
    """The return path (envelope sender) of one delivery for plain SMTP, naming the delivery
    (VERP): MAILING_BOUNCE_ADDRESS with "+<delivery token>". None without a bounce address."""
    return _bounce_mailbox_address(delivery.token.hex)


def unsubscribe_mailto(delivery: Delivery) -> str | None:
    """The List-Unsubscribe mailto: address (read by `rallypoint mail_bounces`), or None without a
    bounce mailbox to read it from."""
    return _bounce_mailbox_address(f"unsubscribe-{delivery.token.hex}")


def unsubscribe_headers(delivery: Delivery) -> dict[str, str]:
    """List-Unsubscribe (HTTPS, and mailto: when a bounce mailbox reads it) and RFC 8058's
    List-Unsubscribe-Post for one delivery."""
    targets = [f"<{unsubscribe_url(delivery)}>"]
    mailto = unsubscribe_mailto(delivery)
    if mailto:
        targets.append(f"<mailto:{mailto}?subject=unsubscribe>")
    return {
        "List-Unsubscribe": ", ".join(targets),
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def _delivery_by_token(raw: str, purpose: str) -> Delivery | None:
    parsed = delivery_token_read(raw, purpose)
    if parsed is None:
        return None
    return Delivery.objects.select_related("person", "mailing").filter(token=parsed[0]).first()


def unsubscribe_token_read(raw: str) -> Delivery | None:
    return _delivery_by_token(raw, "unsubscribe")


def preferences_token_read(raw: str) -> Delivery | None:
    return _delivery_by_token(raw, "preferences")


def _address(key: str, *, lock: bool = False) -> EmailAddress | None:
    if not key:
        return None
    qs = EmailAddress.objects.select_related("person")
    if lock:
        qs = qs.select_for_update(of=("self",))
    return qs.filter(address_normalized=key).first()


def delivery_address(delivery: Delivery) -> EmailAddress | None:
    """The address record the delivery went to (None when it was removed since)."""
    return _address(email_key(delivery.address))


# --- unsubscribing ------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnsubscribeResult:
    address: EmailAddress | None
    changed: bool  # the address was subscribed and is not any more


def delivery_unsubscribe(
    *, delivery: Delivery, via: str, now: datetime | None = None
) -> UnsubscribeResult:
    """The recipient asked to stop campaign mail (`via`: "link", "one-click", "preferences",
    "mailto", "provider"). Their address becomes unsubscribed on every interface, the delivery
    counts an unsubscribe, and the ledger gets an "unsubscribe" act. Twice is once."""
    now = now or timezone.now()
    with transaction.atomic():
        Delivery.objects.filter(pk=delivery.pk, unsubscribed_at__isnull=True).update(
            unsubscribed_at=now
        )
        address = _address(email_key(delivery.address), lock=True)
        if address is None or address.status in SUPPRESSED:
            return UnsubscribeResult(address=address, changed=False)
        address = email_subscription_set(address=address, subscribed=False)
        activity_record(
            person=delivery.person,
            kind=UNSUBSCRIBE_ACT,
            target=delivery.mailing,
            points=0,
            at=now,
            details={"mailing": delivery.mailing_id, "via": via},
        )
    return UnsubscribeResult(address=address, changed=True)


# --- preferences --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Preferences:
    address: EmailAddress | None
    subscribed: bool
    stopped: frozenset[str] = field(default_factory=frozenset)  # MailKinds they don't want


def preferences_read(delivery: Delivery) -> Preferences:
    address = delivery_address(delivery)
    stopped = MailPreference.objects.filter(person_id=delivery.person_id).values_list(
        "kind", flat=True
    )
    return Preferences(
        address=address,
        subscribed=address is not None and address.status == EmailStatus.SUBSCRIBED,
        stopped=frozenset(stopped),
    )


def preferences_save(
    *, delivery: Delivery, kinds: Iterable[str], stop_all: bool = False
) -> Preferences:
    """Keep the kinds of mail in `kinds` (MailKind values) and stop the others; `stop_all`
    unsubscribes from all campaign mail."""
    wanted = {kind for kind in kinds if kind in MailKind.values}
    stopped = set(MailKind.values) - wanted
    with transaction.atomic():
        MailPreference.objects.filter(person_id=delivery.person_id, kind__in=wanted).delete()
        MailPreference.objects.bulk_create(
            [MailPreference(person_id=delivery.person_id, kind=kind) for kind in sorted(stopped)],
            ignore_conflicts=True,
        )
        if stop_all:
            delivery_unsubscribe(delivery=delivery, via="preferences")
    return preferences_read(delivery)


# --- starting again (double opt-in) -------------------------------------------------------------


def resubscribe_url(address: EmailAddress) -> str:
    token = signing.dumps(
        {"a": address.pk, "k": address.address_normalized}, salt=RESUBSCRIBE_SALT, compress=True
    )
    return token_url("messaging:resubscribe", token)


def resubscribe_token_read(raw: str) -> EmailAddress | None:
    """The address a confirmation link was emailed to, while the link is fresh."""
    try:
        data = signing.loads(raw, salt=RESUBSCRIBE_SALT, max_age=RESUBSCRIBE_DAYS * 24 * 3600)
        address_id, key = int(data["a"]), str(data["k"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    return (
        EmailAddress.objects.select_related("person")
        .filter(pk=address_id, address_normalized=key)
        .first()
    )


def resubscribe_request(*, delivery: Delivery, now: datetime | None = None) -> bool:
    """Email the address a link that starts campaign mail again (at most one an hour). Nothing
    changes until that link is used. False when the address is subscribed or gone."""
    address = delivery_address(delivery)
    if address is None or address.status == EmailStatus.SUBSCRIBED:
        return False
    now = now or timezone.now()
    email_queue(
        to=address.address,
        template="messaging/public/email/resubscribe",
        context={"confirm_url": resubscribe_url(address), "days": RESUBSCRIBE_DAYS},
        dedupe_key=f"messaging.resubscribe:{address.pk}:{now:%Y%m%d%H}",
        requested=True,
    )
    return True


def resubscribe_confirm(*, address: EmailAddress) -> bool:
    """The link emailed by `resubscribe_request` was used: the address gets campaign mail again
    (whatever stopped it: opening the link proved the mailbox works and wants it). True when
    something changed."""
    with transaction.atomic():
        locked = _address(address.address_normalized, lock=True)
        if locked is None or locked.status == EmailStatus.SUBSCRIBED:
            return False
        email_status_set(email=locked, status=EmailStatus.SUBSCRIBED, actor=None)
        SoftBounce.objects.filter(address_normalized=locked.address_normalized).delete()
    return True


# --- bounces, complaints, deliveries -------------------------------------------------------------


def _bounce_suppress(address: EmailAddress | None) -> bool:
    if address is None or address.status != EmailStatus.SUBSCRIBED:
        return False
    email_status_set(email=address, status=EmailStatus.BOUNCING, actor=None)
    return True


def bounce_record(
    *,
    delivery: Delivery | None = None,
    address: str = "",
    hard: bool,
    at: datetime | None = None,
) -> str:
    """A message to `delivery` (or, for mail that was not a mailing's, to `address`) bounced.
    Hard: the address is suppressed as bouncing at once. Soft: it counts once per delivery, and
    the MAILING_SOFT_BOUNCE_LIMIT-th in a row suppresses it (a soft bounce without a delivery
    is not counted: a repeated report could not be told apart). Returns what was done:
    "suppressed", "counted" or "nothing"."""
    at = at or timezone.now()
    key = email_key(delivery.address if delivery is not None else address)
    with transaction.atomic():
        if hard:
            if delivery is not None:
                Delivery.objects.filter(pk=delivery.pk).exclude(bounce="hard").update(
                    bounce="hard", bounced_at=at
                )
            return "suppressed" if _bounce_suppress(_address(key, lock=True)) else "nothing"
        if delivery is None or not key:
            return "nothing"
        first = Delivery.objects.filter(
            pk=delivery.pk, bounce="", delivered_at__isnull=True
        ).update(bounce="soft", bounced_at=at)
        if not first:
            return "nothing"
        counter = SoftBounce.objects.select_for_update().filter(address_normalized=key).first()
        if counter is None:
            counter = SoftBounce.objects.create(address_normalized=key, count=1, last_at=at)
        elif at - counter.last_at > SOFT_BOUNCE_WINDOW:
            SoftBounce.objects.filter(pk=counter.pk).update(count=1, last_at=at)
            counter.count = 1
        else:
            SoftBounce.objects.filter(pk=counter.pk).update(count=F("count") + 1, last_at=at)
            counter.refresh_from_db(fields=["count"])
        if counter.count >= settings.MAILING_SOFT_BOUNCE_LIMIT and _bounce_suppress(
            _address(key, lock=True)
        ):
            return "suppressed"
    return "counted"


def complaint_record(
    *, delivery: Delivery | None = None, address: str = "", at: datetime | None = None
) -> bool:
    """The recipient reported the message as spam: no campaign mail to the address any more
    ("spam complaint"). True when the address's status changed."""
    at = at or timezone.now()
    key = email_key(delivery.address if delivery is not None else address)
    with transaction.atomic():
        if delivery is not None:
            Delivery.objects.filter(pk=delivery.pk, complained_at__isnull=True).update(
                complained_at=at
            )
        found = _address(key, lock=True)
        if found is None or found.status == EmailStatus.SPAM_COMPLAINT:
            return False
        email_status_set(email=found, status=EmailStatus.SPAM_COMPLAINT, actor=None)
    return True


def delivered_record(
    *, delivery: Delivery | None = None, address: str = "", at: datetime | None = None
) -> None:
    """The receiving server accepted the message: the delivery is delivered (a soft bounce
    before it was only a delay) and the address's soft bounces start again from zero."""
    at = at or timezone.now()
    key = email_key(delivery.address if delivery is not None else address)
    with transaction.atomic():
        if delivery is not None:
            Delivery.objects.filter(pk=delivery.pk, delivered_at__isnull=True).update(
                delivered_at=at
            )
            Delivery.objects.filter(pk=delivery.pk, bounce="soft").update(
                bounce="", bounced_at=None
            )
        if key:
            SoftBounce.objects.filter(address_normalized=key).delete()


# --- the email provider's webhooks (anymail) ----------------------------------------------------

_UUID = re.compile(r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}", re.I)
_SMTP_STATUS = re.compile(r"\b([245])\.\d{1,3}\.\d{1,3}\b")


def _token_in(text: str) -> uuid.UUID | None:
    found = _UUID.search(text or "")
    return uuid.UUID(found.group(0)) if found else None


def delivery_for_message(
    *, message_id: str = "", token: str = "", select: Iterable[str] = ("person", "mailing")
) -> Delivery | None:
    """The delivery a report is about: by the delivery token it carries (metadata, a VERP
    address), else by the provider's (or our own) Message-ID."""
    qs = Delivery.objects.select_related(*select)
    found = _token_in(token)
    if found is not None:
        return qs.filter(token=found).first()
    message_id = (message_id or "").strip()
    if not message_id:
        return None
    bare = message_id.strip("<>")
    delivery = qs.filter(provider_message_id__in=[bare, f"<{bare}>"]).first()
    if delivery is None and (found := _token_in(bare.partition("@")[0])) is not None:
        delivery = qs.filter(token=found).first()
    return delivery


def _soft(event: Any) -> bool:
    """Whether a provider's "bounced" event is a temporary failure."""
    esp = event.esp_event if isinstance(event.esp_event, Mapping) else {}
    if esp.get("Type") in {"SoftBounce", "Transient", "DnsError"}:  # Postmark
        return True
    if esp.get("event") == "soft_bounce" or esp.get("type") == "blocked":  # Brevo, SendGrid
        return True
    description = str(event.description or "")
    if description.startswith(("Transient", "Undetermined")):  # Amazon SES
        return True
    status = _SMTP_STATUS.search(f"{event.mta_response or ''} {description}")
    return status is not None and status.group(1) == "4"


def provider_event_record(event: Any) -> str:
    """Apply one anymail tracking event (`anymail.signals.AnymailTrackingEvent`) and say what
    was done. Events are matched to their delivery by its token in the message's metadata, or
    by the provider's message id; a bounce or complaint about other mail (transactional) still
    applies to the recipient's address."""
    metadata = event.metadata if isinstance(event.metadata, Mapping) else {}
    delivery = delivery_for_message(
        message_id=str(event.message_id or ""), token=str(metadata.get(METADATA_KEY) or "")
    )
    recipient = str(event.recipient or "")
    if delivery is None and not recipient:
        return "unmatched"
    at = event.timestamp or timezone.now()
    kind = event.event_type
    if kind == "delivered":
        delivered_record(delivery=delivery, address=recipient, at=at)
        return "delivered"
    if kind in {"bounced", "deferred"}:
        hard = kind == "bounced" and not _soft(event)
        return bounce_record(delivery=delivery, address=recipient, hard=hard, at=at)
    if kind == "rejected" and event.reject_reason in {"invalid", "bounced"}:
        return bounce_record(delivery=delivery, address=recipient, hard=True, at=at)
    if kind == "complained" or (kind == "rejected" and event.reject_reason == "spam"):
        changed = complaint_record(delivery=delivery, address=recipient, at=at)
        return "suppressed" if changed else "nothing"
    if kind == "unsubscribed" and delivery is not None:
        return (
            "suppressed"
            if delivery_unsubscribe(delivery=delivery, via="provider").changed
            else "nothing"
        )
    if kind == "opened" and delivery is not None:
        delivery_open_record(
            delivery_id=delivery.pk,
            sent_at=delivery.sent_at,
            user_agent=str(event.user_agent or ""),
            now=at,
        )
        return "opened"
    if kind == "clicked" and delivery is not None and event.click_url:
        link = delivery.mailing.links.filter(url=event.click_url).first()
        if link is not None:
            click_record(
                token=ClickToken(delivery.token, link.position),
                user_agent=str(event.user_agent or ""),
                now=at,
            )
            return "clicked"
    return "ignored"
