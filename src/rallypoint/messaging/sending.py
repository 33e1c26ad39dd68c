"""The sending route: one connection to the mail server or provider, reused message after message,
and the route's rate limit.

The route is whatever EMAIL_BACKEND says: the SMTP server of EMAIL_URL (Django's SMTP backend),
or an email provider through django-anymail when EMAIL_PROVIDER is set (settings.py). A
`MailSender` holds one open connection for as long as a worker sends (one send task's run,
several batches): opened at its first message, reused for every next one, closed and opened
again after a failure, closed when the run ends. Each send task holds its own, so a worker
process keeps one persistent connection per mailing it is sending; MAILING_CONCURRENCY send
tasks per mailing means as many connections.

The rate limit (MAILING_RATE_PER_SECOND, MAILING_RATE_PER_HOUR) is counted per route in the
cache through core.ratelimit (fixed windows of one second and one clock hour): shared by every
worker on every machine when REDIS_URL is set; in the embedded setup (local memory) each worker
process counts for itself, and there is one worker.
"""

import contextlib
import smtplib
import socket
import time
from dataclasses import dataclass
from email.utils import parseaddr
from typing import Any

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives, get_connection
from django.core.mail.backends.smtp import EmailBackend as SmtpBackend

from rallypoint.core.ratelimit import hit

# A wait for the rate limit longer than this ends the run instead of holding the worker (and
# the batch's lease): the rest is sent by the next run, when the window has passed.
RATE_WAIT_MAX_SECONDS = 5.0


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


def rate_wait(current: Route, *, sleep=time.sleep) -> bool:
    """Take one message's turn in the route's rate limit, waiting for it if it is close.
    Returns False when the next turn is further away than RATE_WAIT_MAX_SECONDS (nothing is
    sent: the caller stops and comes back later)."""
    limits = [(current.per_second, 1), (current.per_hour, 3600)]
    for limit, window in limits:
        if limit <= 0:
            continue
        while True:
            allowed, reset_in = hit(f"mail:{current.name}:{window}", limit=limit, window=window)
            if allowed:
                break
            if reset_in > RATE_WAIT_MAX_SECONDS:
                return False
            sleep(max(reset_in, 0.05))
    return True


def rate_next_window(current: Route) -> float:
    """Seconds until the route's hourly window starts again (for scheduling the next run)."""
    now = time.time()
    return 3600 - now % 3600 if current.per_hour > 0 else 1.0


class MailSender:
    """One connection to the route for a run of messages: `with MailSender() as sender:
    sender.send(message)`. Not shared between threads."""

    def __init__(self, *, timeout: float | None = None):
        self.timeout = timeout if timeout is not None else settings.EMAIL_TIMEOUT
        self.connection: Any = None
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
            self.connection.close()
        self.connection = None

    def _connection(self) -> Any:
        if self.connection is None:
            connection = get_connection(fail_silently=False)
            if hasattr(connection, "timeout"):
                connection.timeout = self.timeout
            try:
                connection.open()
            except (smtplib.SMTPException, OSError) as exc:
                raise SendFailed(f"could not connect: {exc}") from exc
            self.connection = connection
            self.opened += 1
        return self.connection

    def send(self, message: EmailMessage) -> str:
        """Hand one message over. Returns the provider's message id ("" when there is none, as
        with SMTP). Raises SendRefused (for good) or SendFailed (try again later)."""
        connection = self._connection()
        message.connection = connection
        try:
            smtp = _smtp_session(connection)
            raw = _raw(message) if smtp is not None else None
            if smtp is not None and raw is not None:
                # Django's SMTP backend keeps the session open; the message goes out as bytes
                # written by render.message_bytes instead of its own MIME generation (about a
                # third of the cost of a message, bench/README.md "Mailings").
                smtp.sendmail(parseaddr(message.from_email)[1], message.to, raw)
                sent = 1
            else:
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


def _smtp_session(connection: Any) -> smtplib.SMTP | None:
    """The open smtplib session of Django's SMTP backend (its `connection`, set by `open()`),
    or None for any other backend."""
    if not isinstance(connection, SmtpBackend):
        return None
    session = getattr(connection, "connection", None)
    return session if isinstance(session, smtplib.SMTP) else None


def _raw(message: EmailMessage) -> bytes | None:
    from .services.render import message_bytes

    if not isinstance(message, EmailMultiAlternatives):
        return None
    try:
        return message_bytes(message)
    except ValueError:
        return None  # a shape message_bytes does not write: Django writes it


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
