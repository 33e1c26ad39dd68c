"""The sending route: one connection to the mail server or provider, reused message after message,
and the route's rate limit. Mailings (messaging) and transactional mail (core.mail) both send
through it.

The route is whatever EMAIL_BACKEND says: the SMTP server of EMAIL_URL, or an email provider
through django-anymail when EMAIL_PROVIDER is set (settings.py), or any other Django email
backend. A `MailSender` holds one open connection for as long as a worker sends (one send task's
run, several batches): opened at its first message, reused for every next one, closed and opened
again after a failure, closed when the run ends. Each send task holds its own, so a worker
process keeps one persistent connection per mailing it is sending; MAILING_CONCURRENCY send
tasks per mailing means as many connections.

With Django's SMTP backend configured, the sender keeps its own `smtplib` session, opened from
the same EMAIL_* settings the backend reads (host, port, TLS or SSL, login, EMAIL_TIMEOUT), and
hands each message over as the bytes its caller wrote (a mailing's are written by
messaging.services.render.message_bytes, about a third of a message's cost less than the email
package: bench/README.md, "Mailings"), or else as Django writes them (`EmailMessage.message()`).
Every other backend gets the message through its public `send_messages()`.

The rate limit per second (MAILING_RATE_PER_SECOND) is counted per route in the cache through
core.ratelimit (windows of one second): shared by every worker on every machine when REDIS_URL
is set; in the embedded setup (local memory) each worker process counts for itself, and there is
one worker. A message waits for its turn, never a whole second. The limit per hour
(MAILING_RATE_PER_HOUR) is a sliding hour counted in the database when a mailing's deliveries
are claimed (messaging.services.delivery.hourly_room).
"""

import contextlib
import functools
import smtplib
import socket
import ssl
import time
from dataclasses import dataclass
from email.utils import parseaddr
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, get_connection

from rallypoint.core.ratelimit import hit


class SendRefused(Exception):
    """The server or provider refused this message for good (a 5xx answer for the recipient or
    the content): retrying will not help."""


class SendFailed(Exception):
    """The message could not be handed over this time (connection lost, timeout, a 4xx answer,
    the provider's API down): it may be tried again later."""


@dataclass(frozen=True)
class Route:
    name: str  # keys the rate limit: "smtp:host:port", "provider:postmark", …
    per_second: int
    per_hour: int


def route() -> Route:
    provider = getattr(settings, "EMAIL_PROVIDER", "")
    if provider:
        name = f"provider:{provider}"
    elif settings.EMAIL_BACKEND.endswith("smtp.EmailBackend"):
        host = getattr(settings, "EMAIL_HOST", "localhost")
        name = f"smtp:{host}:{getattr(settings, 'EMAIL_PORT', 25)}"
    else:
        name = f"backend:{settings.EMAIL_BACKEND}"
    return Route(
        name=name,
        per_second=settings.MAILING_RATE_PER_SECOND,
        per_hour=settings.MAILING_RATE_PER_HOUR,
    )


def rate_wait(current: Route, *, sleep=time.sleep) -> None:
    """Take one message's turn in the route's limit per second, waiting (under a second) for
    the next window when this one is used up."""
    if current.per_second <= 0:
        return
    while True:
        allowed, reset_in = hit(f"mail:{current.name}:1", limit=current.per_second, window=1)
        if allowed:
            return
        sleep(max(reset_in, 0.05))


class MailSender:
    """One connection to the route for a run of messages: `with MailSender() as sender:
    sender.send(message)`. Not shared between threads."""

    def __init__(self, *, timeout: float | None = None):
        self.timeout = timeout if timeout is not None else settings.EMAIL_TIMEOUT
        # EMAIL_PROVIDER sets EMAIL_BACKEND to anymail's, so this is plain SMTP only.
        self.smtp = settings.EMAIL_BACKEND == SMTP_BACKEND
        self.connection: Any = None  # an smtplib session, or a Django email backend
        self.opened = 0  # how many times a connection was opened (reconnects included)

    def __enter__(self) -> "MailSender":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.connection is None:
            return
        # A dead connection is what we are throwing away: whatever closing it raises.
        with contextlib.suppress(Exception):
            if self.smtp:
                self.connection.quit()
            else:
                self.connection.close()
        self.connection = None

    def _connection(self) -> Any:
        if self.connection is None:
            try:
                if self.smtp:
                    connection: Any = smtp_open(self.timeout)
                else:
                    connection = get_connection(fail_silently=False)
                    if hasattr(connection, "timeout"):
                        connection.timeout = self.timeout
                    connection.open()
            except (smtplib.SMTPException, OSError) as exc:
                raise SendFailed(f"could not connect: {exc}") from exc
            self.connection = connection
            self.opened += 1
        return self.connection

    def send(self, message: EmailMessage, *, raw: bytes | None = None) -> str:
        """Hand one message over. Returns the provider's message id ("" when there is none, as
        with SMTP). Raises SendRefused (for good) or SendFailed (try again later).

        `raw`: the message's bytes as the caller already wrote them (a mailing's, written by
        messaging's renderer), sent as they are over SMTP; None lets Django write them."""
        connection = self._connection()
        try:
            if self.smtp:
                refused = connection.sendmail(
                    parseaddr(message.from_email)[1],
                    message.recipients(),
                    raw if raw is not None else _django_bytes(message),
                )
                if refused:  # some recipients of several were refused: ours have one
                    raise smtplib.SMTPRecipientsRefused(refused)
                sent = 1
            else:
                message.connection = connection
                sent = connection.send_messages([message])
        except Exception as exc:
            permanent = _is_permanent(exc)
            if not permanent:
                self.close()  # the next message opens a fresh connection
            raise (SendRefused if permanent else SendFailed)(_describe(exc)) from exc
        if not sent:
            self.close()
            raise SendFailed("the backend did not send the message")
        status = getattr(message, "anymail_status", None)
        provider_id = getattr(status, "message_id", None) if status is not None else None
        if isinstance(provider_id, set):
            provider_id = next(iter(provider_id), None) if len(provider_id) == 1 else None
        return "" if provider_id is None else str(provider_id)[:200]


SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"


def smtp_open(timeout: float) -> smtplib.SMTP:
    """An open, logged-in smtplib session to EMAIL_HOST:EMAIL_PORT, from the settings Django's
    SMTP backend reads: EMAIL_USE_SSL (implicit TLS) or EMAIL_USE_TLS (STARTTLS), the
    EMAIL_SSL_CERTFILE / EMAIL_SSL_KEYFILE client certificate, EMAIL_HOST_USER /
    EMAIL_HOST_PASSWORD."""
    context = None
    if settings.EMAIL_USE_SSL or settings.EMAIL_USE_TLS:
        context = ssl.create_default_context()
        if settings.EMAIL_SSL_CERTFILE:
            context.load_cert_chain(settings.EMAIL_SSL_CERTFILE, settings.EMAIL_SSL_KEYFILE)
    host, port = settings.EMAIL_HOST, settings.EMAIL_PORT
    session: smtplib.SMTP
    if settings.EMAIL_USE_SSL:
        session = smtplib.SMTP_SSL(
            host, port, local_hostname=_fqdn(), timeout=timeout, context=context
        )
    else:
        session = smtplib.SMTP(host, port, local_hostname=_fqdn(), timeout=timeout)
    try:
        if settings.EMAIL_USE_TLS:
            session.starttls(context=context)
        if settings.EMAIL_HOST_USER and settings.EMAIL_HOST_PASSWORD:
            session.login(settings.EMAIL_HOST_USER, settings.EMAIL_HOST_PASSWORD)
    except BaseException:
        with contextlib.suppress(Exception):
            session.close()
        raise
    return session


@functools.cache
def _fqdn() -> str:
    """This machine's name for HELO/EHLO, looked up once per process (a slow resolver would
    otherwise delay every new connection)."""
    return socket.getfqdn()


def _django_bytes(message: EmailMessage) -> bytes:
    """The message as Django writes it, with the CRLF line ends SMTP wants (Django's MIME
    classes take `linesep`, which the email package's own typing does not know)."""
    mime: Any = message.message()
    return mime.as_bytes(linesep="\r\n")


def _is_permanent(exc: Exception) -> bool:
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values()]
        return bool(codes) and all(code >= 500 for code in codes)
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return False  # our sender address: a setup problem that affects every message
    if isinstance(exc, smtplib.SMTPResponseException):
        return exc.smtp_code >= 500  # 4xx: try again later
    try:
        from anymail.exceptions import AnymailRecipientsRefused
    except ImportError:  # pragma: no cover - django-anymail is a dependency
        return False
    return isinstance(exc, AnymailRecipientsRefused)


def _describe(exc: Exception) -> str:
    if isinstance(exc, socket.timeout | TimeoutError):
        return f"timed out after {settings.EMAIL_TIMEOUT:g} s"
    return f"{type(exc).__name__}: {exc}"[:500]
