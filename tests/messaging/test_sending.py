"""The sending route: its own SMTP session (login, refusals, reconnects) and other backends."""

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from django.core import mail
from django.core.mail import EmailMultiAlternatives

from rallypoint.core.sending import MailSender, SendFailed, SendRefused

from .conftest import SmtpSink, _free_port, _Handler


def _message(to="ana@example.org", subject="Hello"):
    message = EmailMultiAlternatives(
        subject=subject, body="Plain", from_email="Campaign <news@example.org>", to=[to]
    )
    message.attach_alternative("<p>Plain</p>", "text/html")
    return message


def test_one_session_sends_every_message_of_a_run(smtp_sink, smtp_settings):
    with MailSender() as sender:
        for n in range(3):
            assert sender.send(_message(to=f"p{n}@example.org")) == ""
    assert smtp_sink.connections == 1
    assert sorted(smtp_sink.by_recipient()) == [f"p{n}@example.org" for n in range(3)]
    received = smtp_sink.all()[0]
    assert received.mail_from == "news@example.org"
    assert received.message()["Subject"] == "Hello"


def test_a_message_with_an_attachment_goes_out_through_djangos_mime(smtp_sink, smtp_settings):
    message = _message()
    message.attach("list.csv", "a,b\n", "text/csv")
    with MailSender() as sender:
        sender.send(message)
    parts = [part.get_filename() for part in smtp_sink.all()[0].message().iter_attachments()]
    assert parts == ["list.csv"]


def test_a_refused_recipient_is_refused_for_good(smtp_sink, smtp_settings):
    smtp_sink.refuse.add("gone@example.org")
    with MailSender() as sender:
        with pytest.raises(SendRefused, match="550"):
            sender.send(_message(to="gone@example.org"))
        sender.send(_message(to="ana@example.org"))  # the session goes on
    assert smtp_sink.connections == 1


def test_no_server_is_a_failure_to_retry(smtp_settings):
    smtp_settings.EMAIL_PORT = _free_port()  # nothing listens there
    with MailSender() as sender, pytest.raises(SendFailed, match="could not connect"):
        sender.send(_message())


class _Accounts:
    def __init__(self):
        self.logins = []

    def __call__(self, server, session, envelope, mechanism, auth_data):
        assert isinstance(auth_data, LoginPassword)
        self.logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"right")


@pytest.fixture
def auth_sink():
    sink = SmtpSink(port=_free_port())
    accounts = _Accounts()
    controller = Controller(
        _Handler(sink),
        hostname=sink.host,
        port=sink.port,
        authenticator=accounts,
        auth_required=True,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield sink, accounts
    finally:
        controller.stop()


def _account(settings, sink: SmtpSink, password: str) -> None:
    settings.EMAIL_PORT = sink.port
    settings.EMAIL_HOST_USER = "campaign"
    settings.EMAIL_HOST_PASSWORD = password


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_the_session_logs_in_with_the_settings_account(auth_sink, smtp_settings):
    sink, accounts = auth_sink
    _account(smtp_settings, sink, "right")
    with MailSender() as sender:
        sender.send(_message())
    assert accounts.logins == [(b"campaign", b"right")]
    assert sink.count() == 1


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_a_wrong_password_fails_without_sending(auth_sink, smtp_settings):
    sink, _ = auth_sink
    _account(smtp_settings, sink, "wrong")
    with MailSender() as sender, pytest.raises(SendFailed, match="could not connect"):
        sender.send(_message())
    assert sink.count() == 0


def test_other_backends_get_the_message_through_send_messages(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with MailSender() as sender:
        sender.send(_message())
    assert [m.to for m in mail.outbox] == [["ana@example.org"]]
