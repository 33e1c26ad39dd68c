"""The bounce mailbox of plain SMTP sending, read by `rallypoint mail_bounces`.

Each message is one of: a delivery status notification (RFC 3464) for a message that bounced,
a complaint report (ARF, RFC 5965), or a request sent to the List-Unsubscribe mailto: address.
It names its delivery by the address it came back to (VERP, `suppression.bounce_address`) or by
the returned message's Message-ID, and is applied through the suppression services, so reading
it twice changes nothing more.
"""

from __future__ import annotations

import email
import email.policy
import re
import uuid
from dataclasses import dataclass
from email.message import Message

from .suppression import bounce_record, complaint_record, delivery_for_message, delivery_unsubscribe

_VERP = re.compile(r"\+(unsubscribe-)?([0-9a-f]{32})@", re.I)
_ENVELOPE_HEADERS = ("X-Original-To", "Delivered-To", "Envelope-To", "X-Envelope-To", "To")


@dataclass(frozen=True)
class DsnRecipient:
    address: str  # Final-Recipient
    action: str  # failed, delayed, delivered, relayed, expanded
    status: str  # e.g. 5.1.1

    @property
    def hard(self) -> bool:
        return self.action == "failed" and not self.status.startswith("4")

    @property
    def soft(self) -> bool:
        return self.action == "delayed" or (self.action == "failed" and self.status.startswith("4"))


@dataclass(frozen=True)
class MailboxReport:
    """What one message of the bounce mailbox said."""

    kind: str  # "bounce", "complaint", "unsubscribe" or "other"
    verp: uuid.UUID | None = None  # the delivery named by the address it was sent to
    message_id: str = ""  # the Message-ID of the message it is about
    recipients: tuple[DsnRecipient, ...] = ()


def _header(message: Message, name: str) -> str:
    try:
        values = message.get_all(name) or []
        return " ".join(str(value) for value in values)
    except Exception:  # noqa: BLE001 (a malformed header is no header)
        return ""


def _value(raw: str) -> str:
    """The value of a DSN field such as "rfc822; ana@example.org" without its type."""
    return raw.partition(";")[2].strip() if ";" in raw else raw.strip()


def _returned_message_id(message: Message) -> str:
    for part in message.walk():
        kind = part.get_content_type()
        if kind == "text/rfc822-headers":
            payload = part.get_payload(decode=True)
            text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
            headers = email.message_from_string(text)
            return str(headers.get("Message-ID", "") or "").strip()
        if kind == "message/rfc822":
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                return str(inner[0].get("Message-ID", "") or "").strip()
    return ""


def mailbox_report_read(raw: bytes) -> MailboxReport:
    """Read one message of the bounce mailbox: a delivery status notification (RFC 3464), a
    complaint (an ARF feedback report, RFC 5965) or a List-Unsubscribe mailto: request."""
    message = email.message_from_bytes(raw, policy=email.policy.compat32)
    envelope = " ".join(_header(message, name) for name in _ENVELOPE_HEADERS)
    verp = _VERP.search(envelope)
    token = uuid.UUID(verp.group(2)) if verp else None
    if verp and verp.group(1):
        return MailboxReport(kind="unsubscribe", verp=token)
    report_type = (message.get_param("report-type") or "") if message.is_multipart() else ""
    if message.get_content_type() != "multipart/report":
        return MailboxReport(kind="other", verp=token)
    message_id = _returned_message_id(message)
    if str(report_type).lower() == "feedback-report":
        return MailboxReport(kind="complaint", verp=token, message_id=message_id)
    recipients = []
    for part in message.walk():
        if part.get_content_type() != "message/delivery-status":
            continue
        blocks = part.get_payload()
        for block in blocks[1:] if isinstance(blocks, list) else []:
            if not isinstance(block, Message):
                continue
            recipients.append(
                DsnRecipient(
                    address=_value(str(block.get("Final-Recipient", "") or "")),
                    action=str(block.get("Action", "") or "").strip().lower(),
                    status=_value(str(block.get("Status", "") or "")).split(" ")[0],
                )
            )
    return MailboxReport(
        kind="bounce", verp=token, message_id=message_id, recipients=tuple(recipients)
    )


def mailbox_message_record(raw: bytes) -> str:
    """Apply one message of the bounce mailbox and say what was done ("unmatched" when it
    names no delivery of ours, "other" when it is not a report)."""
    report = mailbox_report_read(raw)
    if report.kind == "other":
        return "other"
    delivery = delivery_for_message(
        message_id=report.message_id, token=report.verp.hex if report.verp else ""
    )
    if delivery is None:
        return "unmatched"
    if report.kind == "unsubscribe":
        return (
            "suppressed"
            if delivery_unsubscribe(delivery=delivery, via="mailto").changed
            else "nothing"
        )
    if report.kind == "complaint":
        return "suppressed" if complaint_record(delivery=delivery) else "nothing"
    outcome = "nothing"
    for recipient in report.recipients:
        if recipient.hard or recipient.soft:
            done = bounce_record(delivery=delivery, hard=recipient.hard)
            outcome = done if done != "nothing" else outcome
    return outcome
