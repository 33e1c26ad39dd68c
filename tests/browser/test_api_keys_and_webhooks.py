"""An organizer gives a tool a key and a webhook in a real browser, on a phone-sized screen; the
key works once copied, and the webhook hears about a signup made with it."""

import json
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from rallypoint.api.models import ApiKey
from tests.factories import OrganizerFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _receiver():
    received: list[dict] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.append({"headers": dict(self.headers), "body": json.loads(body)})
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, received


def test_organizer_issues_a_key_and_a_webhook(page, live_server, settings):
    settings.WEBHOOK_ALLOW_HTTP = True
    # The receiver below runs on this machine: the operator names it as an internal receiver.
    settings.OUTGOING_ALLOWED_HOSTS = ["127.0.0.1"]
    urllib.request.urlopen(live_server.url + "/accounts/login/", timeout=90).read()
    organizer = OrganizerFactory(email="org@example.org")
    page.goto("/accounts/login/")
    page.get_by_label("Email").fill(organizer.email)
    page.get_by_label("Password").fill("correct horse battery")
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state("domcontentloaded")

    page.goto("/api/keys/")
    page.get_by_role("button", name="Create key").click()
    assert "This field is required." in page.locator(".errorlist").first.inner_text()
    page.get_by_label("Name").fill("Data warehouse")
    page.get_by_label("Read and write").check()
    page.get_by_role("button", name="Create key").click()
    key = page.get_by_label("API key (read and write)").input_value()
    assert ApiKey.objects.get().prefix == key[:11]

    server, received = _receiver()
    try:
        page.goto("/webhooks/new/")
        page.get_by_label("Name").fill("CRM")
        page.get_by_label("Receiving address").fill("not an address")
        page.get_by_role("button", name="Add webhook").click()
        assert page.get_by_label("Name").input_value() == "CRM"
        page.get_by_label("Receiving address").fill(f"http://127.0.0.1:{server.server_port}/hook")
        page.get_by_label("A person is added").check()
        page.get_by_role("button", name="Add webhook").click()
        page.get_by_role("heading", name="Delivery log").wait_for()

        request = urllib.request.Request(
            f"{live_server.url}/api/v1/people",
            data=json.dumps(
                {"person": {"email_addresses": [{"address": "sam@example.org"}]}}
            ).encode(),
            headers={"OSDI-API-Token": key, "Content-Type": "application/json"},
            method="POST",
        )
        assert urllib.request.urlopen(request, timeout=30).status == 201
        page.reload()
        assert page.get_by_text("Delivered").count() == 1
        assert [item["event_type"] for item in received[0]["body"]] == ["person.created"]
    finally:
        server.shutdown()
        server.server_close()
