"""The OSDI messages resource: drafts, the send and schedule helpers, statistics."""

from datetime import timedelta

import pytest
from django.utils import timezone

from rallypoint.messaging.models import Delivery, Mailing
from tests.messaging.factories import MailingFactory, audience_of, default_from_address

pytestmark = pytest.mark.django_db


def _draft(api, segment, **extra):
    body = {
        "name": "March update",
        "subject": "Hi {{ first_name | friend }}",
        "body": "<p>We did it.</p><script>alert(1)</script>",
        "from": f"The Campaign <{default_from_address()}>",
        "targets": [{"href": f"https://elsewhere.example/api/v1/lists/{segment.uuid}"}],
        **extra,
    }
    return api.post("messages", body)


def test_create_read_and_list_a_draft(api):
    segment, _ = audience_of(2)
    response = _draft(api, segment)
    assert response.status_code == 201, response.content
    doc = response.json()
    assert (doc["status"], doc["type"], doc["subject"]) == (
        "draft",
        "email",
        "Hi {{ first_name | friend }}",
    )
    assert "<script>" not in doc["body"]
    assert doc["targets"][0]["href"].endswith(f"/lists/{segment.uuid}")
    assert doc["_links"]["osdi:send_helper"]["href"].endswith("/send")
    assert doc["_links"]["osdi:schedule_helper"]["href"].endswith("/schedule")
    assert set(doc["statistics"]) == {
        "sent",
        "opened",
        "clicked",
        "actions",
        "forwards",
        "unsubscribed",
        "bounced",
        "spam_reports",
    }
    message_id = doc["identifiers"][0].split(":", 1)[1]
    assert api.get(f"messages/{message_id}").json()["name"] == "March update"
    listed = api.get("messages").json()
    assert listed["total_records"] == 1


def test_bad_input_names_the_field(api):
    segment, _ = audience_of(1)
    assert _draft(api, segment, **{"from": "nobody"}).status_code == 400
    unverified = _draft(api, segment, **{"from": "x@not-verified.example"})
    assert unverified.status_code == 400
    assert "from" in unverified.json()["error"]
    missing = _draft(api, segment, targets=[{"href": "https://x/api/v1/lists/nope"}])
    assert missing.status_code == 400 and "targets[0]" in missing.json()["error"]
    assert _draft(api, segment, type="sms").status_code == 400
    assert not Mailing.objects.exists()


def test_put_changes_only_a_draft(api):
    mailing = MailingFactory()
    response = api.put(f"messages/{mailing.uuid}", {"subject": "New subject"})
    assert response.status_code == 200
    assert response.json()["subject"] == "New subject"
    assert response.json()["name"] == mailing.name


def test_send_helper_sends_to_the_targets(api, settings):
    segment, people = audience_of(2)
    mailing = MailingFactory(include=[segment])
    response = api.post(f"messages/{mailing.uuid}/send", {})
    assert response.status_code == 200, response.content
    assert response.json()["status"] in ("calculating", "sending", "sent")
    mailing.refresh_from_db()
    assert mailing.status != "draft"
    again = api.put(f"messages/{mailing.uuid}", {"subject": "Too late"})
    assert again.status_code == 400


def test_schedule_helper_needs_a_zoned_time_in_the_future(api):
    segment, _ = audience_of(1)
    mailing = MailingFactory(include=[segment])
    bad = api.post(f"messages/{mailing.uuid}/schedule", {"scheduled_start_date": "tomorrow"})
    assert bad.status_code == 400 and "scheduled_start_date" in bad.json()["error"]
    when = (timezone.now() + timedelta(days=1)).replace(microsecond=0)
    response = api.post(
        f"messages/{mailing.uuid}/schedule", {"scheduled_start_date": when.isoformat()}
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "scheduled"
    assert response.json()["scheduled_start_date"].startswith(when.strftime("%Y-%m-%dT%H:%M"))


def test_statistics_follow_the_deliveries(api):
    segment, people = audience_of(2)
    mailing = MailingFactory(include=[segment], status="sent")
    now = timezone.now()
    Delivery.objects.create(
        mailing=mailing,
        person=people[0],
        address="a@x.org",
        status="sent",
        sent_at=now,
        human_opened_at=now,
        opened_at=now,
        clicked_at=now,
    )
    Delivery.objects.create(
        mailing=mailing,
        person=people[1],
        address="b@x.org",
        status="sent",
        sent_at=now,
        bounce="hard",
        bounced_at=now,
    )
    stats = api.get(f"messages/{mailing.uuid}").json()["statistics"]
    assert (stats["sent"], stats["opened"], stats["clicked"], stats["bounced"]) == (2, 1, 1, 1)


def test_read_only_keys_cannot_create_or_send(ro_api):
    mailing = MailingFactory()
    assert ro_api.post("messages", {"name": "x"}).status_code == 403
    assert ro_api.post(f"messages/{mailing.uuid}/send", {}).status_code == 403
    assert ro_api.get(f"messages/{mailing.uuid}").status_code == 200
