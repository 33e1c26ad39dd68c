import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest


class Receiver:
    """A tiny HTTP server on 127.0.0.1 that records deliveries and can fail the first N."""

    def __init__(self):
        self.requests: list[dict] = []
        self.fail_first = 0
        self.fail_status = 503
        self.reply: bytes | None = None  # the answer's body instead of "nope" / "thanks"
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                receiver.requests.append({"headers": dict(self.headers), "body": body})
                failing = len(receiver.requests) <= receiver.fail_first
                status = receiver.fail_status if failing else 200
                self.send_response(status)
                self.send_header("Content-Type", "text/plain")
                self.end_headers()
                reply = receiver.reply
                self.wfile.write(reply if reply is not None else b"nope" if failing else b"thanks")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def bodies(self) -> list:
        return [json.loads(r["body"]) for r in self.requests]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver(settings):
    # The receiver is on loopback, which the guarded client refuses unless named: tests say so.
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.OUTGOING_ALLOWED_HOSTS = ["127.0.0.1"]
    instance = Receiver()
    yield instance
    instance.close()


@pytest.fixture
def dummy_tasks(settings):
    """Tasks are collected, not run: tests run them by hand, like a worker would later."""
    from django_tasks import task_backends

    settings.TASKS = {
        "default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend", "QUEUES": []}
    }
    backend = task_backends["default"]
    backend.clear()
    yield backend
    backend.clear()
