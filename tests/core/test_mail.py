"""Outgoing mail: claimed, sent with no transaction open, marked sent; one-click unsubscribe."""

import threading
import time
from datetime import timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.mail import get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import call_command
from django.db import close_old_connections, connection
from django.test import Client
from django.utils import timezone

from rallypoint.accounts.services import unsubscribe_token_read
from rallypoint.core.mail import (
    CLAIM_LEASE,
    SEND_ATTEMPTS_MAX,
    email_claim,
    email_message_id,
    email_queue,
    email_send_now,
    email_send_pending,
)
from rallypoint.core.models import OutboundEmail
from rallypoint.core.sending import SendFailed
from rallypoint.people.models import EmailStatus
from tests.factories import EmailAddressFactory

seen_during_send: list[dict] = []


class WatchingBackend(BaseEmailBackend):
    """Records, while "talking to the mail server", whether a transaction is open and whether
    another connection can write the message's row meanwhile."""

    def send_messages(self, email_messages):
        message_pk = OutboundEmail.objects.values_list("pk", flat=True).get()
        result = {}

        def write_from_elsewhere():
            try:
                OutboundEmail.objects.filter(pk=message_pk).update(last_error="other worker")
                result["written"] = True
            except Exception as exc:  # a held lock: "database is locked" on SQLite
                result["written"] = repr(exc)
            finally:
                close_old_connections()
                connection.close()

        other = threading.Thread(target=write_from_elsewhere)
        other.start()
        other.join(timeout=10)
        seen_during_send.append(
            {"in_atomic_block": connection.in_atomic_block, "other_write": result.get("written")}
        )
        return len(email_messages)


class RefusingBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        raise ConnectionRefusedError("mail server said no")


def _queue(to="someone@example.org"):
    return email_queue(to=to, template="people/email/join_confirmation", context={})


@pytest.mark.django_db(transaction=True)
def test_email_send_now_holds_no_transaction_while_sending(settings):
    settings.EMAIL_BACKEND = "tests.core.test_mail.WatchingBackend"
    seen_during_send.clear()
    message = _queue()  # autocommit: the send task runs right after the commit
    assert seen_during_send == [{"in_atomic_block": False, "other_write": True}]
    message.refresh_from_db()
    assert message.sent_at is not None
    assert (message.claimed_at, message.claim_token, message.attempts) == (None, "", 1)


@pytest.mark.django_db
def test_email_claim_second_worker_gets_nothing_while_lease_valid():
    message = _queue()
    first = email_claim(message_id=message.pk)
    assert first is not None
    assert email_claim(message_id=message.pk) is None
    assert email_send_now(message.pk) is False
    assert mail.outbox == []
    message.refresh_from_db()
    assert (message.claim_token, message.attempts, message.sent_at) == (first, 1, None)


@pytest.mark.django_db
def test_email_claim_expired_lease_is_taken_over():
    message = _queue()
    crashed_at = timezone.now() - CLAIM_LEASE - timedelta(seconds=1)
    assert email_claim(message_id=message.pk, now=crashed_at) is not None
    assert email_send_now(message.pk) is True
    assert len(mail.outbox) == 1
    message.refresh_from_db()
    assert message.attempts == 2


@pytest.mark.django_db
def test_email_send_now_twice_sends_once():
    message = _queue()
    assert email_send_now(message.pk) is True
    assert email_send_now(message.pk) is False
    assert len(mail.outbox) == 1


@pytest.mark.django_db
def test_email_send_now_refused_records_error_and_releases_claim(settings):
    settings.EMAIL_BACKEND = "tests.core.test_mail.RefusingBackend"
    message = _queue()
    with pytest.raises(SendFailed):
        email_send_now(message.pk)
    message.refresh_from_db()
    assert (message.sent_at, message.claimed_at, message.claim_token) == (None, None, "")
    assert message.last_error == "ConnectionRefusedError: mail server said no"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert email_send_now(message.pk) is True
    message.refresh_from_db()
    assert message.attempts == 2


@pytest.mark.django_db
def test_email_message_id_same_on_a_resend_after_a_crash(settings):
    settings.SITE_URL = "https://act.example.org"
    message = _queue()
    assert email_send_now(message.pk) is True
    # The worker died after the server accepted it, before the mark: a later run sends again.
    OutboundEmail.objects.filter(pk=message.pk).update(sent_at=None)
    assert email_send_now(message.pk) is True
    first, second = (sent.message()["Message-ID"] for sent in mail.outbox)
    assert first == second == email_message_id(message)
    assert first.startswith(f"<outbound-{message.pk}.") and first.endswith("@act.example.org>")


def test_email_timeout_reaches_the_smtp_backend():
    from django.conf import settings

    assert settings.EMAIL_TIMEOUT == 10.0
    assert get_connection("django.core.mail.backends.smtp.EmailBackend").timeout == 10.0


@pytest.mark.django_db
def test_email_queue_supporter_address_carries_one_click_unsubscribe(settings):
    address = EmailAddressFactory(address="ana@example.org")
    message = email_queue(
        to="Ana@example.org",
        template="people/email/join_confirmation",
        context={"person": address.person},
    )
    assert email_send_now(message.pk) is True
    sent = mail.outbox[0].message()
    link = sent["List-Unsubscribe"][1:-1]
    assert sent["List-Unsubscribe"] == f"<{link}>"
    prefix = f"{settings.SITE_URL}/accounts/unsubscribe/"
    assert link.startswith(prefix)
    assert unsubscribe_token_read(link.removeprefix(prefix).rstrip("/")) == address
    assert sent["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert f"Stop campaign emails: {link}\n" in mail.outbox[0].body
    # The mail client's one-click POST, with no cookie and no CSRF token.
    path = link[link.index("/accounts/unsubscribe/") :]
    response = Client(enforce_csrf_checks=True).post(path, {"List-Unsubscribe": "One-Click"})
    assert response.status_code in {200, 302}
    address.refresh_from_db()
    assert address.status == EmailStatus.UNSUBSCRIBED


@pytest.mark.django_db
def test_email_queue_thank_you_prints_the_unsubscribe_link(settings):
    address = EmailAddressFactory(address="bo@example.org")
    message = email_queue(to="bo@example.org", template="actions/email/thank_you", context={})
    link = message.body_text.split("Stop campaign emails: ")[1].split()[0]
    assert link == message.headers["List-Unsubscribe"][1:-1]
    token = link.removeprefix(f"{settings.SITE_URL}/accounts/unsubscribe/").rstrip("/")
    assert unsubscribe_token_read(token) == address


@pytest.mark.django_db
def test_email_queue_unknown_address_has_no_unsubscribe():
    message = _queue(to="stranger@example.org")
    assert message.headers == {}
    assert "Stop campaign emails" not in message.body_text
    assert email_send_now(message.pk) is True
    assert mail.outbox[0].message()["List-Unsubscribe"] is None


@pytest.mark.django_db
def test_email_send_pending_sends_what_a_crashed_worker_left(settings):
    message = _queue()
    crashed_at = timezone.now() - CLAIM_LEASE - timedelta(minutes=1)
    OutboundEmail.objects.filter(pk=message.pk).update(created_at=crashed_at)
    assert email_claim(message_id=message.pk, now=crashed_at) is not None  # then it died
    fresh = _queue(to="fresh@example.org")  # its own task is about to send it
    out = StringIO()
    call_command("email_send_pending", stdout=out)
    assert out.getvalue() == "Emails sent: 1\n"
    assert [sent.to for sent in mail.outbox] == [["someone@example.org"]]
    assert OutboundEmail.objects.get(pk=fresh.pk).sent_at is None
    assert email_send_pending() == 0


@pytest.mark.django_db
def test_email_send_pending_gives_up_after_the_attempts_limit(settings):
    settings.EMAIL_BACKEND = "tests.core.test_mail.RefusingBackend"
    message = _queue()
    OutboundEmail.objects.filter(pk=message.pk).update(
        created_at=timezone.now() - CLAIM_LEASE - timedelta(minutes=1)
    )
    for _ in range(SEND_ATTEMPTS_MAX + 2):
        assert email_send_pending() == 0
    message.refresh_from_db()
    assert (message.attempts, message.sent_at) == (SEND_ATTEMPTS_MAX, None)
    assert message.last_error == "ConnectionRefusedError: mail server said no"


# --- the same route, suppression and sender as mailings ------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("status", [EmailStatus.BOUNCING, EmailStatus.SPAM_COMPLAINT])
def test_mail_that_follows_an_act_skips_a_suppressed_address(status):
    EmailAddressFactory(address="gone@example.org", status=status)
    assert _queue("Gone@Example.org") is None
    assert not OutboundEmail.objects.exists()


@pytest.mark.django_db
@pytest.mark.parametrize("status", [EmailStatus.BOUNCING, EmailStatus.SPAM_COMPLAINT])
def test_mail_the_person_asked_for_still_goes_to_a_suppressed_address(status):
    EmailAddressFactory(address="gone@example.org", status=status)
    message = email_queue(
        to="gone@example.org",
        template="people/email/join_confirmation",
        context={},
        requested=True,
    )
    assert message is not None
    assert email_send_now(message.pk) is True
    assert [m.to for m in mail.outbox] == [["gone@example.org"]]


@pytest.mark.django_db
def test_unsubscribing_stops_campaign_mail_not_transactional_mail():
    EmailAddressFactory(address="quiet@example.org", status=EmailStatus.UNSUBSCRIBED)
    assert _queue("quiet@example.org") is not None


@pytest.mark.django_db
def test_transactional_mail_comes_from_the_first_verified_sender(settings):
    settings.MAILING_FROM_ADDRESSES = ["Fund Our Schools <hello@fundourschools.org>"]
    message = _queue()
    assert email_send_now(message.pk) is True
    assert mail.outbox[0].from_email == "Fund Our Schools <hello@fundourschools.org>"


@pytest.mark.django_db
def test_transactional_mail_takes_its_turn_in_the_route_limit_per_second(settings):
    settings.MAILING_RATE_PER_SECOND = 1
    messages = [_queue(f"p{n}@example.org") for n in range(3)]
    started = time.monotonic()
    for message in messages:
        assert email_send_now(message.pk) is True
    # One a second: three messages span at least two changes of window.
    assert time.monotonic() - started >= 1.0
    assert len(mail.outbox) == 3
