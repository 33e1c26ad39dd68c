"""Webhooks never reach inside the network: refused when registered, refused again when sent
(on the address the name resolves to then), and the log keeps only a status and a short excerpt."""

import importlib
import logging
import socket
from datetime import timedelta

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.html import escape

from rallypoint.core.http import EXCERPT_CHARS, MESSAGE_INSIDE
from rallypoint.webhooks.models import Delivery, Hook
from rallypoint.webhooks.services import delivery_attempt, hook_create

pytestmark = pytest.mark.django_db

REFUSED = "Refused, nothing was sent: " + MESSAGE_INSIDE
INSIDE_URLS = [
    "https://127.0.0.1:8443/hook",
    "https://localhost/hook",
    "https://[::1]/hook",
    "https://[::ffff:10.0.0.1]/hook",
    "http://169.254.169.254/latest/meta-data/",
    "https://10.0.0.8/hook",
    "https://192.168.1.20/hook",
    "https://172.16.0.1/hook",
    "https://0.0.0.0/hook",
    "http://2130706433/",
    "http://0177.0.0.1/",
    "http://0x7f.1/",
]


@pytest.fixture
def no_inside_hosts(settings, dummy_tasks):
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.OUTGOING_ALLOWED_HOSTS = []


def delivery_for(hook):
    now = timezone.now()
    return Delivery.objects.create(
        hook=hook, body="[]", next_attempt_at=now, give_up_at=now + timedelta(hours=1)
    )


@pytest.mark.parametrize("url", INSIDE_URLS)
def test_hook_form_refuses_addresses_inside(organizer_client, no_inside_hosts, url):
    response = organizer_client.post(
        "/webhooks/new/", {"name": "Probe", "url": url, "event_types": ["signature"]}
    )
    assert response.status_code == 400
    assert escape(MESSAGE_INSIDE) in response.content.decode()
    assert Hook.objects.count() == 0


def test_hook_edit_refuses_an_address_inside(organizer_client, organizer, no_inside_hosts):
    hook = hook_create(
        name="CRM", url="https://crm.example/in", event_types=["signature"], actor=organizer
    )
    response = organizer_client.post(
        f"/webhooks/{hook.pk}/",
        {"name": "CRM", "url": "http://169.254.169.254/latest/", "event_types": ["signature"]},
    )
    assert response.status_code == 400
    assert escape(MESSAGE_INSIDE) in response.content.decode()
    hook.refresh_from_db()
    assert hook.url == "https://crm.example/in"


def test_hook_create_refuses_a_name_resolving_inside(organizer, no_inside_hosts, monkeypatch):
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if host == "intranet.example":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("192.168.7.7", port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    with pytest.raises(ValidationError) as info:
        hook_create(
            name="x", url="https://intranet.example/h", event_types=["signature"], actor=organizer
        )
    assert info.value.message_dict == {"url": [MESSAGE_INSIDE]}
    assert Hook.objects.count() == 0


def test_hook_form_accepts_an_inside_host_named_in_the_setting(organizer_client, settings):
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.OUTGOING_ALLOWED_HOSTS = ["10.0.0.0/8", "crm.internal", "n8n"]
    for url in ["http://10.1.2.3:8080/in", "http://crm.internal/in", "http://n8n:5678/hook"]:
        response = organizer_client.post(
            "/webhooks/new/", {"name": url, "url": url, "event_types": ["signature"]}
        )
        assert response.status_code == 302
    assert sorted(Hook.objects.values_list("url", flat=True)) == [
        "http://10.1.2.3:8080/in",
        "http://crm.internal/in",
        "http://n8n:5678/hook",
    ]


def test_delivery_to_local_receiver_without_the_setting_sends_nothing(
    receiver, organizer, settings, dummy_tasks
):
    hook = hook_create(name="Local", url=receiver.url, event_types=["signature"], actor=organizer)
    settings.OUTGOING_ALLOWED_HOSTS = []
    delivery = delivery_for(hook)
    assert delivery_attempt(delivery_id=delivery.pk) == "pending"
    delivery.refresh_from_db()
    assert (delivery.response_code, delivery.response_excerpt, delivery.error) == (
        None,
        "",
        REFUSED,
    )
    assert receiver.requests == []


def test_delivery_refused_when_the_name_later_resolves_inside(
    receiver, organizer, settings, dummy_tasks, monkeypatch, caplog
):
    settings.OUTGOING_ALLOWED_HOSTS = []
    url = receiver.url.replace("127.0.0.1", "hooks.example")
    hook = hook_create(name="Later", url=url, event_types=["signature"], actor=organizer)
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):  # the name now points at the receiver
        if host == "hooks.example":
            return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("127.0.0.1", port))]
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    delivery = delivery_for(hook)
    with caplog.at_level(logging.WARNING, logger="rallypoint.core.http"):
        assert delivery_attempt(delivery_id=delivery.pk) == "pending"
    delivery.refresh_from_db()
    assert (delivery.response_code, delivery.error) == (None, REFUSED)
    assert receiver.requests == []
    assert caplog.messages == [
        "outgoing request to hooks.example refused: it resolves to 127.0.0.1"
    ]


def test_delivery_errors_do_not_tell_internal_ports_apart(
    receiver, organizer, settings, dummy_tasks
):
    """Hooks saved before the check (or edited in the database) probe nothing either."""
    settings.OUTGOING_ALLOWED_HOSTS = []
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    open_hook = Hook.objects.create(name="open", url=receiver.url, event_types=["signature"])
    closed_hook = Hook.objects.create(
        name="closed", url=f"http://127.0.0.1:{closed_port}/", event_types=["signature"]
    )
    answers = []
    for hook in [open_hook, closed_hook]:
        delivery = delivery_for(hook)
        delivery_attempt(delivery_id=delivery.pk)
        delivery.refresh_from_db()
        answers.append((delivery.response_code, delivery.response_excerpt, delivery.error))
    assert answers == [(None, "", REFUSED), (None, "", REFUSED)]
    assert receiver.requests == []


def test_delivery_log_keeps_only_a_short_excerpt_of_the_answer(
    receiver, organizer, organizer_client, dummy_tasks
):
    receiver.fail_first = 1
    receiver.fail_status = 500
    receiver.reply = b"internal:" + b"A" * 5000
    hook = hook_create(name="Chatty", url=receiver.url, event_types=["signature"], actor=organizer)
    delivery = delivery_for(hook)
    assert delivery_attempt(delivery_id=delivery.pk) == "pending"
    delivery.refresh_from_db()
    assert delivery.response_code == 500
    assert delivery.response_excerpt == ("internal:" + "A" * 5000)[:EXCERPT_CHARS]
    assert delivery.error == "HTTP 500"
    page = organizer_client.get(f"/webhooks/{hook.pk}/deliveries/{delivery.pk}/").content.decode()
    shown = EXCERPT_CHARS - len("internal:")
    assert "internal:" + "A" * shown + "</pre>" in page
    assert "A" * (shown + 1) not in page


def test_old_log_entries_are_trimmed_by_the_migration(organizer):
    hook = Hook.objects.create(name="old", url="https://x.example/", event_types=["signature"])
    long_answer = Delivery.objects.create(hook=hook, body="[]", response_excerpt="B" * 500)
    probe = Delivery.objects.create(
        hook=hook, body="[]", error="Could not reach the receiver: [Errno 111] Connection refused"
    )
    migration = importlib.import_module("rallypoint.webhooks.migrations.0002_trim_delivery_answers")
    migration.trim(apps, None)
    long_answer.refresh_from_db(), probe.refresh_from_db()
    assert long_answer.response_excerpt == "B" * 200
    assert probe.error == "Could not reach the receiver."
