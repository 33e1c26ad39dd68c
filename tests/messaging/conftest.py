"""Fixtures for the messaging tests.

`smtp_sink`: a real SMTP server (aiosmtpd) on 127.0.0.1 that keeps every message it accepts,
for tests that send through Django's SMTP backend or from another process:

    def test_x(smtp_sink, smtp_settings):   # smtp_settings points EMAIL_* at the sink
        ...
        assert smtp_sink.count() == 3
        assert smtp_sink.by_recipient()["ana@example.org"][0].subject == "Hello Ana"

`smtp_sink.delay` slows each message down (seconds), `smtp_sink.refuse` holds addresses it
answers 550 for, `smtp_sink.url` is an EMAIL_URL for a child process.
"""

import asyncio
import socket
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from email import message_from_bytes
from email.policy import default as default_policy

import pytest
from aiosmtpd.controller import Controller


@dataclass(frozen=True)
class Received:
    mail_from: str
    to: str  # the envelope recipient
    message_id: str
    subject: str
    raw: bytes

    def message(self):
        return message_from_bytes(self.raw, policy=default_policy)


@dataclass
class SmtpSink:
    host: str = "127.0.0.1"
    port: int = 0
    delay: float = 0.0
    refuse: set[str] = field(default_factory=set)
    messages: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    connections: int = 0

    @property
    def url(self) -> str:
        return f"smtp://{self.host}:{self.port}"

    def count(self) -> int:
        with self.lock:
            return len(self.messages)

    def all(self) -> list[Received]:
        with self.lock:
            return list(self.messages)

    def by_recipient(self) -> dict[str, list[Received]]:
        found: dict[str, list[Received]] = defaultdict(list)
        for received in self.all():
            found[received.to].append(received)
        return dict(found)

    def clear(self) -> None:
        with self.lock:
            self.messages.clear()

    def wait_for(self, count: int, timeout: float = 10.0) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.count() >= count:
                return True
            time.sleep(0.01)
        return self.count() >= count


class _Handler:
    def __init__(self, sink: SmtpSink):
        self.sink = sink

    async def handle_EHLO(self, server, session, envelope, hostname, responses):  # noqa: N802
        with self.sink.lock:
            self.sink.connections += 1
        session.host_name = hostname
        return responses

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802
        if address.lower() in self.sink.refuse:
            return "550 5.1.1 No such user here"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        raw = envelope.original_content or envelope.content
        headers = message_from_bytes(raw, policy=default_policy)
        with self.sink.lock:
            for to in envelope.rcpt_tos:
                self.sink.messages.append(
                    Received(
                        mail_from=envelope.mail_from,
                        to=to.lower(),
                        message_id="".join(str(headers.get("Message-ID", "")).split()),
                        subject=str(headers.get("Subject", "")),
                        raw=raw,
                    )
                )
        if self.sink.delay:
            await asyncio.sleep(self.sink.delay)
        return "250 Message accepted"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def smtp_sink():
    sink = SmtpSink(port=_free_port())
    controller = Controller(_Handler(sink), hostname=sink.host, port=sink.port)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()


@pytest.fixture
def smtp_settings(settings, smtp_sink):
    """Django's SMTP backend, pointed at the sink."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = smtp_sink.host
    settings.EMAIL_PORT = smtp_sink.port
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_TIMEOUT = 5
    return settings
