"""Bounces and complaints: the provider's signed webhooks (anymail) and, for plain SMTP, delivery
status notifications read from the bounce mailbox. Each report applied twice is applied once."""

import base64
import json
import mailbox
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from rallypoint.core.models import AuditEntry
from rallypoint.ledger.models import Activity
from rallypoint.messaging.models import Delivery, DeliveryStatus, SoftBounce
from rallypoint.messaging.services.bounce_mailbox import (
    mailbox_message_record,
    mailbox_report_read,
)
from rallypoint.messaging.services.suppression import bounce_address
from rallypoint.people.models import EmailAddress, EmailStatus
from tests.factories import EmailAddressFactory
from tests.messaging.factories import DeliveryFactory

pytestmark = pytest.mark.django_db

SECRET = "rallypoint:s3cret-webhook"


def _delivery(address="ana@example.org", status=EmailStatus.SUBSCRIBED, **fields):
    email = EmailAddress.objects.filter(address_normalized=address).first()
    if email is None:
        email = EmailAddressFactory(address=address, status=status)
    return DeliveryFactory(
        person=email.person, address=address, status=DeliveryStatus.SENT, **fields
    )


def _status(address="ana@example.org") -> str:
    return EmailAddress.objects.get(address_normalized=address).status


# --- delivery status notifications (RFC 3464) --------------------------------------------------


def dsn(*, to: str, status: str, action: str = "failed", message_id: str = "") -> bytes:
    """A bounce as Postfix writes it: a multipart/report with the per-recipient fields and the
    returned message's headers."""
    return f"""Return-Path: <>
Delivered-To: {to}
From: MAILER-DAEMON@mx.example.net (Mail Delivery System)
To: {to}
Subject: Undelivered Mail Returned to Sender
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="BOUNDARY"

--BOUNDARY
Content-Type: text/plain; charset=us-ascii

I'm sorry to have to inform you that your message could not be delivered.

--BOUNDARY
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net
X-Postfix-Queue-ID: 4ABCD
Arrival-Date: Mon,  1 Dec 2025 10:00:00 +0000 (UTC)

Final-Recipient: rfc822; ana@example.org
Original-Recipient: rfc822;ana@example.org
Action: {action}
Status: {status}
Remote-MTA: dns; mail.example.org
Diagnostic-Code: smtp; {status.replace(".", "")}0 {status} Mailbox problem

--BOUNDARY
Content-Type: text/rfc822-headers

Return-Path: <{to}>
From: The Campaign <news@example.org>
To: ana@example.org
Subject: Hello
Message-ID: {message_id or "<unknown@example.org>"}

--BOUNDARY--
""".replace("\n", "\r\n").encode()


def _verp(delivery) -> str:
    return f"bounces+{delivery.token.hex}@mail.example.org"


@pytest.fixture
def bounce_box(settings):
    settings.MAILING_BOUNCE_ADDRESS = "bounces@mail.example.org"


def test_bounce_address_names_the_delivery(bounce_box):
    delivery = _delivery()
    assert bounce_address(delivery) == _verp(delivery)


def test_bounce_address_without_a_bounce_mailbox_is_none(settings):
    settings.MAILING_BOUNCE_ADDRESS = ""
    assert bounce_address(_delivery()) is None


def test_dsn_is_read_with_each_recipient_and_the_returned_message_id():
    report = mailbox_report_read(
        dsn(to="bounces+" + "ab" * 16 + "@x.org", status="5.1.1", message_id="<m1@x.org>")
    )
    assert (report.kind, report.verp.hex, report.message_id) == ("bounce", "ab" * 16, "<m1@x.org>")
    assert [(r.address, r.action, r.status, r.hard) for r in report.recipients] == [
        ("ana@example.org", "failed", "5.1.1", True)
    ]


def test_hard_bounce_by_verp_suppresses_the_address_once():
    delivery = _delivery()
    raw = dsn(to=_verp(delivery), status="5.1.1")
    assert mailbox_message_record(raw) == "suppressed"
    assert _status() == EmailStatus.BOUNCING
    delivery.refresh_from_db()
    assert delivery.bounce == "hard" and delivery.bounced_at is not None
    assert mailbox_message_record(raw) == "nothing"
    assert AuditEntry.objects.count() == 1
    assert Activity.objects.count() == 0


def test_hard_bounce_by_message_id_when_there_is_no_verp():
    delivery = _delivery(provider_message_id="<mailing-7.abc@example.org>")
    raw = dsn(to="news@example.org", status="5.1.2", message_id="<mailing-7.abc@example.org>")
    assert mailbox_message_record(raw) == "suppressed"
    assert _status() == EmailStatus.BOUNCING
    delivery.refresh_from_db()
    assert delivery.bounce == "hard"


def test_hard_bounce_by_the_delivery_token_in_our_message_id():
    delivery = _delivery()
    message_id = f"<delivery-{delivery.token.hex}.mailing-{'e' * 32}@act.example.org>"
    assert mailbox_message_record(
        dsn(to="news@example.org", status="5.1.1", message_id=message_id)
    ) == ("suppressed")
    delivery.refresh_from_db()
    assert delivery.bounce == "hard"


def test_soft_bounces_suppress_after_the_limit_and_each_delivery_counts_once(settings):
    settings.MAILING_SOFT_BOUNCE_LIMIT = 3
    deliveries = [_delivery() for _ in range(3)]
    first = dsn(to=_verp(deliveries[0]), status="4.2.2")
    assert mailbox_message_record(first) == "counted"
    assert mailbox_message_record(first) == "nothing"  # the same report again
    delayed = dsn(to=_verp(deliveries[0]), status="4.4.1", action="delayed")
    assert mailbox_message_record(delayed) == "nothing"  # the same message, delayed again
    assert SoftBounce.objects.get().count == 1
    assert mailbox_message_record(dsn(to=_verp(deliveries[1]), status="4.2.2")) == "counted"
    assert _status() == EmailStatus.SUBSCRIBED
    assert (
        mailbox_message_record(dsn(to=_verp(deliveries[2]), status="4.4.7", action="delayed"))
        == "suppressed"
    )
    assert _status() == EmailStatus.BOUNCING
    assert [d.bounce for d in Delivery.objects.order_by("pk")] == ["soft"] * 3


def test_a_successful_delivery_report_is_not_a_bounce():
    delivery = _delivery()
    raw = dsn(to=_verp(delivery), status="2.0.0", action="delivered")
    assert mailbox_message_record(raw) == "nothing"
    assert _status() == EmailStatus.SUBSCRIBED


def test_unknown_token_and_ordinary_mail_are_left_alone():
    assert mailbox_message_record(dsn(to="bounces+" + "0" * 32 + "@x.org", status="5.1.1")) == (
        "unmatched"
    )
    auto_reply = (
        b"From: ana@example.org\r\nTo: bounces@x.org\r\nSubject: Away\r\n\r\nOn holiday.\r\n"
    )
    assert mailbox_message_record(auto_reply) == "other"
    assert mailbox_message_record(b"\x00\xff garbage") == "other"


def test_complaint_report_marks_the_address():
    delivery = _delivery(provider_message_id="<m-42@example.org>")
    arf = b"""From: fbl@isp.example
To: abuse@example.org
Subject: complaint
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="B"

--B
Content-Type: text/plain

This is an email abuse report.
--B
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: ISP-FBL/1.0
Version: 1

--B
Content-Type: text/rfc822-headers

Message-ID: <m-42@example.org>
From: news@example.org

--B--
"""
    assert mailbox_message_record(arf) == "suppressed"
    assert _status() == EmailStatus.SPAM_COMPLAINT
    delivery.refresh_from_db()
    assert delivery.complained_at is not None
    assert mailbox_message_record(arf) == "nothing"


def test_mailto_unsubscribe_request_unsubscribes(bounce_box):
    delivery = _delivery()
    raw = (
        f"From: ana@example.org\r\nTo: bounces+unsubscribe-{delivery.token.hex}@mail.example.org"
        "\r\nSubject: unsubscribe\r\n\r\n"
    ).encode()
    assert mailbox_message_record(raw) == "suppressed"
    assert _status() == EmailStatus.UNSUBSCRIBED
    assert Activity.objects.get().details == {"mailing": delivery.mailing_id, "via": "mailto"}


def test_mail_bounces_command_reads_and_empties_a_maildir(tmp_path, settings):
    delivery = _delivery()
    other = _delivery("bo@example.org")
    box = mailbox.Maildir(tmp_path / "bounces", create=True)
    box.add(dsn(to=_verp(delivery), status="5.1.1"))
    box.add(dsn(to=_verp(other), status="4.2.2"))
    box.add(b"Subject: hello\r\n\r\nnot a bounce\r\n")
    settings.MAILING_BOUNCE_MAILBOX = str(tmp_path / "bounces")
    out = StringIO()
    call_command("mail_bounces", stdout=out)
    assert out.getvalue().strip() == "Bounce mailbox read. counted: 1, other: 1, suppressed: 1"
    assert (_status(), _status("bo@example.org")) == (EmailStatus.BOUNCING, EmailStatus.SUBSCRIBED)
    assert len(mailbox.Maildir(tmp_path / "bounces", create=False)) == 0


def test_mail_bounces_command_keep_leaves_the_messages(tmp_path):
    delivery = _delivery()
    box = mailbox.Maildir(tmp_path / "box", create=True)
    box.add(dsn(to=_verp(delivery), status="5.1.1"))
    call_command(
        "mail_bounces", mailbox=f"maildir://{tmp_path / 'box'}", keep=True, stdout=StringIO()
    )
    assert _status() == EmailStatus.BOUNCING
    assert len(mailbox.Maildir(tmp_path / "box", create=False)) == 1


def test_mail_bounces_command_without_a_mailbox_says_so(settings, tmp_path):
    settings.MAILING_BOUNCE_MAILBOX = ""
    with pytest.raises(CommandError, match="MAILING_BOUNCE_MAILBOX"):
        call_command("mail_bounces")
    with pytest.raises(CommandError, match="not a maildir"):
        call_command("mail_bounces", mailbox=str(tmp_path / "missing"))


# --- the provider's webhooks (Postmark through anymail) ----------------------------------------


@pytest.fixture
def webhook(settings):
    settings.ANYMAIL = {**(getattr(settings, "ANYMAIL", None) or {}), "WEBHOOK_SECRET": SECRET}
    return reverse("messaging:provider_webhook", args=["postmark"])


def _post(url: str, payload: dict, secret: str = SECRET):
    auth = base64.b64encode(secret.encode()).decode()
    return Client(enforce_csrf_checks=True).post(
        url,
        json.dumps(payload),
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Basic {auth}",
    )


def _bounce(delivery, kind="HardBounce", **fields) -> dict:
    return {
        "RecordType": "Bounce",
        "ID": 4323372036854775807,
        "Type": kind,
        "MessageID": "883953f4-6105-42a2-a16a-77a8eac79483",
        "Metadata": {"delivery": str(delivery.token)},
        "Description": "The server was unable to deliver your message.",
        "Details": "smtp;550 5.1.1 The email account that you tried to reach does not exist.",
        "Email": delivery.address,
        "BouncedAt": "2025-12-01T10:00:00Z",
        **fields,
    }


def test_webhook_hard_bounce_suppresses_the_address(webhook):
    delivery = _delivery()
    assert _post(webhook, _bounce(delivery)).status_code == 200
    assert _status() == EmailStatus.BOUNCING
    delivery.refresh_from_db()
    assert delivery.bounce == "hard"
    assert _post(webhook, _bounce(delivery)).status_code == 200
    assert AuditEntry.objects.count() == 1


def test_webhook_matches_the_provider_message_id_without_metadata(webhook):
    delivery = _delivery(provider_message_id="883953f4-6105-42a2-a16a-77a8eac79483")
    _post(webhook, _bounce(delivery, Metadata={}))
    delivery.refresh_from_db()
    assert delivery.bounce == "hard"


def test_webhook_soft_bounce_counts_and_delivered_resets(webhook, settings):
    settings.MAILING_SOFT_BOUNCE_LIMIT = 2
    first, second = _delivery(), _delivery()
    _post(webhook, _bounce(first, "SoftBounce", Details="smtp;452 4.2.2 Mailbox full"))
    assert (_status(), SoftBounce.objects.get().count) == (EmailStatus.SUBSCRIBED, 1)
    _post(
        webhook,
        {
            "RecordType": "Delivery",
            "MessageID": "x",
            "Metadata": {"delivery": str(second.token)},
            "Recipient": second.address,
            "DeliveredAt": "2025-12-02T10:00:00Z",
        },
    )
    assert SoftBounce.objects.count() == 0
    second.refresh_from_db()
    assert second.delivered_at is not None
    third = _delivery()
    _post(webhook, _bounce(third, "SoftBounce", Details="smtp;452 4.2.2 Mailbox full"))
    assert _status() == EmailStatus.SUBSCRIBED  # one in a row again, not two


def test_webhook_complaint_marks_the_address_once(webhook):
    delivery = _delivery()
    complaint = _bounce(delivery, "SpamComplaint", RecordType="SpamComplaint")
    _post(webhook, complaint)
    _post(webhook, complaint)
    assert _status() == EmailStatus.SPAM_COMPLAINT
    delivery.refresh_from_db()
    assert delivery.complained_at is not None
    assert AuditEntry.objects.count() == 1


def test_webhook_bounce_of_transactional_mail_applies_to_the_address(webhook):
    EmailAddressFactory(address="zoe@example.org")
    payload = {
        "RecordType": "Bounce",
        "Type": "HardBounce",
        "MessageID": "not-a-mailing",
        "Email": "zoe@example.org",
        "BouncedAt": "2025-12-01T10:00:00Z",
    }
    assert _post(webhook, payload).status_code == 200
    assert _status("zoe@example.org") == EmailStatus.BOUNCING


def test_webhook_with_a_wrong_secret_is_refused_and_changes_nothing(webhook):
    delivery = _delivery()
    response = _post(webhook, _bounce(delivery), secret="rallypoint:guess")
    assert response.status_code == 400
    unsigned = Client().post(
        webhook, json.dumps(_bounce(delivery)), content_type="application/json"
    )
    assert unsigned.status_code == 400
    assert _status() == EmailStatus.SUBSCRIBED
    delivery.refresh_from_db()
    assert delivery.bounce == ""


def test_webhook_without_a_configured_secret_does_not_exist(settings):
    settings.ANYMAIL = {}
    delivery = _delivery()
    url = reverse("messaging:provider_webhook", args=["postmark"])
    assert _post(url, _bounce(delivery)).status_code == 404
    assert _status() == EmailStatus.SUBSCRIBED


def test_webhook_for_an_unknown_provider_does_not_exist(webhook):
    url = reverse("messaging:provider_webhook", args=["nosuchmail"])
    assert _post(url, {}).status_code == 404


class FakeImap:
    """Stands in for imaplib's client: a folder of messages by UID."""

    instances: list["FakeImap"] = []

    def __init__(self, host, port, timeout=None):
        self.address = (host, port)
        self.messages = {b"7": FakeImap.raw}
        self.deleted: list[str] = []
        self.expunged = False
        self.logged_in: tuple[str, str] | None = None
        FakeImap.instances.append(self)

    def login(self, user, password):
        self.logged_in = (user, password)

    def select(self, folder):
        self.folder = folder
        return "OK", [b"1"]

    def uid(self, command, *args):
        if command == "SEARCH":
            return "OK", [b" ".join(self.messages)]
        if command == "FETCH":
            return "OK", [(b"7 (UID 7 BODY[] {100}", self.messages[args[0].encode()]), b")"]
        if command == "STORE":
            self.deleted.append(args[0])
            return "OK", []
        raise AssertionError(command)

    def expunge(self):
        self.expunged = True

    def logout(self):
        pass


def test_mail_bounces_command_reads_an_imap_folder(monkeypatch):
    delivery = _delivery()
    FakeImap.raw = dsn(to=_verp(delivery), status="5.1.1")
    FakeImap.instances = []
    monkeypatch.setattr("imaplib.IMAP4_SSL", FakeImap)
    call_command(
        "mail_bounces",
        mailbox="imaps://bounce%40x.org:p%40ss@imap.example.org/Bounces",
        stdout=StringIO(),
    )
    imap = FakeImap.instances[0]
    assert (imap.address, imap.logged_in, imap.folder) == (
        ("imap.example.org", 993),
        ("bounce@x.org", "p@ss"),
        "Bounces",
    )
    assert (imap.deleted, imap.expunged) == (["7"], True)
    assert _status() == EmailStatus.BOUNCING
