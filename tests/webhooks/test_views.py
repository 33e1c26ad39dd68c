import pytest
from django.test import Client

from rallypoint.core.models import AuditEntry
from rallypoint.webhooks.models import Delivery, Hook
from rallypoint.webhooks.services import hook_create

pytestmark = pytest.mark.django_db


def make_hook(organizer, n=0, url="https://example.org/hook"):
    return hook_create(name=f"Hook {n}", url=url, event_types=["signature"], actor=organizer)


def test_hook_list_query_count_is_flat(organizer_client, organizer, django_assert_num_queries):
    make_hook(organizer, 0)
    organizer_client.get("/webhooks/")
    with django_assert_num_queries(3):  # session, user, hooks with their last delivery
        response = organizer_client.get("/webhooks/")
    assert response.status_code == 200
    make_hook(organizer, 1)
    make_hook(organizer, 2)
    with django_assert_num_queries(3):
        response = organizer_client.get("/webhooks/")
    assert [h.name for h in response.context["hooks"]] == ["Hook 0", "Hook 1", "Hook 2"]


def test_hook_detail_query_count_is_flat(organizer_client, organizer, django_assert_num_queries):
    hook = make_hook(organizer)
    Delivery.objects.create(hook=hook, body="[]", event_types=["signature"], event_count=1)
    organizer_client.get(f"/webhooks/{hook.pk}/")
    with django_assert_num_queries(5):  # session, user, hook, count, page of deliveries
        assert organizer_client.get(f"/webhooks/{hook.pk}/").status_code == 200
    for _ in range(2):
        Delivery.objects.create(hook=hook, body="[]", event_types=["signature"], event_count=1)
    with django_assert_num_queries(5):
        response = organizer_client.get(f"/webhooks/{hook.pk}/")
    assert len(response.context["deliveries"]) == 3


def test_create_hook_through_the_form(organizer_client):
    response = organizer_client.post(
        "/webhooks/new/",
        {
            "name": "CRM",
            "url": "https://crm.example.org/in",
            "event_types": ["signature", "unsubscribe"],
        },
    )
    hook = Hook.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/webhooks/{hook.pk}/"
    assert (hook.name, hook.url, hook.event_types) == (
        "CRM",
        "https://crm.example.org/in",
        ["signature", "unsubscribe"],
    )
    assert hook.secret.startswith("whsec_")
    page = organizer_client.get(f"/webhooks/{hook.pk}/").content.decode()
    assert hook.secret in page


def test_create_hook_with_bad_input_keeps_what_was_typed(organizer_client, settings):
    settings.WEBHOOK_ALLOW_HTTP = False
    response = organizer_client.post(
        "/webhooks/new/", {"name": "CRM", "url": "http://crm.example.org/in", "event_types": []}
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "starting with https://" in page
    assert 'value="CRM"' in page
    assert Hook.objects.count() == 0


def test_edit_pause_rotate_delete(organizer_client, organizer):
    hook = make_hook(organizer)
    secret = hook.secret
    organizer_client.post(
        f"/webhooks/{hook.pk}/",
        {"name": "Renamed", "url": "https://example.org/other", "event_types": ["attendance"]},
    )
    organizer_client.post(f"/webhooks/{hook.pk}/toggle/")
    organizer_client.post(f"/webhooks/{hook.pk}/secret/")
    hook.refresh_from_db()
    assert (hook.name, hook.event_types, hook.is_active) == ("Renamed", ["attendance"], False)
    assert hook.secret != secret
    assert list(
        AuditEntry.objects.filter(object_type="webhooks.hook").values_list("action", flat=True)
    ) == ["webhook.secret.rotated", "webhook.paused", "webhook.updated", "webhook.created"]
    response = organizer_client.post(f"/webhooks/{hook.pk}/delete/")
    assert response["Location"] == "/webhooks/"
    assert Hook.objects.count() == 0


def test_send_test_event_reaches_the_receiver(
    organizer_client, organizer, receiver, django_capture_on_commit_callbacks
):
    hook = make_hook(organizer, url=receiver.url)
    with django_capture_on_commit_callbacks(execute=True):
        response = organizer_client.post(f"/webhooks/{hook.pk}/test/")
    assert response.status_code == 302
    delivery = Delivery.objects.get()
    assert (delivery.status, delivery.response_code) == ("delivered", 200)
    assert [item["event_type"] for item in receiver.bodies()[0]] == ["ping"]
    detail = organizer_client.get(f"/webhooks/{hook.pk}/deliveries/{delivery.pk}/")
    assert detail.status_code == 200
    assert "HTTP 200" in detail.content.decode()


def test_resend_a_failed_delivery(
    organizer_client, organizer, receiver, django_capture_on_commit_callbacks
):
    hook = make_hook(organizer, url=receiver.url)
    delivery = Delivery.objects.create(hook=hook, body="[]", status="failed", attempts=7)
    with django_capture_on_commit_callbacks(execute=True):
        organizer_client.post(f"/webhooks/{hook.pk}/deliveries/{delivery.pk}/resend/")
    delivery.refresh_from_db()
    assert (delivery.status, delivery.attempts) == ("delivered", 8)
    assert len(receiver.requests) == 1


def test_webhook_pages_are_for_organizers_only(supporter_client, organizer):
    hook = make_hook(organizer)
    delivery = Delivery.objects.create(hook=hook, body="[]", status="failed")
    for url in ["/webhooks/", "/webhooks/new/", f"/webhooks/{hook.pk}/"]:
        assert supporter_client.get(url).status_code == 403
    for url in [
        "/webhooks/new/",
        f"/webhooks/{hook.pk}/",
        f"/webhooks/{hook.pk}/toggle/",
        f"/webhooks/{hook.pk}/secret/",
        f"/webhooks/{hook.pk}/test/",
        f"/webhooks/{hook.pk}/delete/",
        f"/webhooks/{hook.pk}/deliveries/{delivery.pk}/resend/",
    ]:
        assert supporter_client.post(url, {"name": "x", "url": "https://x.org"}).status_code == 403
    assert Client().get("/webhooks/").status_code == 302
    unchanged = Hook.objects.get()
    assert (unchanged.name, unchanged.is_active, unchanged.secret) == (
        hook.name,
        True,
        hook.secret,
    )
    assert Delivery.objects.get().status == "failed"
    assert Hook.objects.count() == 1
