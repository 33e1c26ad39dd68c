"""The report of a mailing: its numbers on a small, known fixture; the acts that followed; the
chart over time; the CSV of recipients."""

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from rallypoint.ledger.models import Activity
from rallypoint.messaging.models import Click, DeliveryStatus, MailingStatus
from rallypoint.messaging.queries import (
    mailing_export_rows,
    mailing_report,
    mailing_series,
)
from rallypoint.messaging.views_organize import opens_chart
from tests.factories import PersonFactory
from tests.messaging.factories import (
    DeliveryFactory,
    MailingFactory,
    MailingLinkFactory,
    ab_mailing,
)

SENT = datetime(2025, 3, 4, 15, 0, tzinfo=UTC)


def at(**delta) -> datetime:
    return SENT + timedelta(**delta)


@pytest.fixture
def world(db, settings):
    """Six recipients of one mailing, with one of each outcome."""
    settings.TIME_ZONE = "UTC"
    mailing = MailingFactory(
        status=MailingStatus.SENT, started_at=SENT, finished_at=at(minutes=5), total_targeted=6
    )
    sent = {"status": DeliveryStatus.SENT, "sent_at": SENT}
    people = {
        "reader": DeliveryFactory(
            mailing=mailing,
            delivered_at=at(minutes=1),
            opened_at=at(hours=1),
            human_opened_at=at(hours=1),
            open_count=3,
            clicked_at=at(hours=1, minutes=2),
            **sent,
        ),
        "proxy": DeliveryFactory(
            mailing=mailing, delivered_at=at(minutes=1), opened_at=at(seconds=5), **sent
        ),
        "late_reader": DeliveryFactory(
            mailing=mailing,
            delivered_at=at(minutes=1),
            opened_at=at(hours=3),
            human_opened_at=at(hours=3),
            unsubscribed_at=at(hours=3, minutes=1),
            **sent,
        ),
        "bounced": DeliveryFactory(
            mailing=mailing, bounce="hard", bounced_at=at(minutes=1), **sent
        ),
        "complainer": DeliveryFactory(
            mailing=mailing,
            delivered_at=at(minutes=1),
            complained_at=at(hours=2),
            address="=HYPERLINK(1)@example.org",
            **sent,
        ),
        "failed": DeliveryFactory(
            mailing=mailing, status=DeliveryStatus.FAILED, last_error="550 no such user"
        ),
    }
    first, second = MailingLinkFactory(mailing=mailing), MailingLinkFactory(mailing=mailing)
    Click.objects.create(delivery=people["reader"], link=first, at=at(hours=1, minutes=2))
    Click.objects.create(delivery=people["reader"], link=second, at=at(hours=1, minutes=3))
    Click.objects.create(delivery=people["proxy"], link=first, at=at(seconds=6), machine=True)

    def act(person, kind, when):
        return Activity.objects.create(person=person, kind=kind, created_at=when)

    act(people["reader"].person, "sign", at(hours=1, minutes=5))  # counted
    act(people["reader"].person, "rsvp", at(days=6))  # counted
    act(people["late_reader"].person, "sign", at(days=8))  # too late
    act(people["complainer"].person, "donate", at(minutes=-30))  # before the message
    act(people["failed"].person, "sign", at(hours=2))  # never got it
    act(PersonFactory(), "sign", at(hours=2))  # not a recipient
    act(people["late_reader"].person, "unsubscribe", at(hours=3, minutes=1))  # counted apart
    Activity.objects.create(
        person=people["reader"].person, kind="donate", quantity=2500, created_at=at(days=1)
    )
    return mailing, people, (first, second)


def test_report_numbers(world):
    mailing, _, (first, second) = world
    report = mailing_report(mailing)
    t = report.totals
    assert (t.targeted, t.sent, t.failed, t.pending, t.skipped) == (6, 5, 1, 0, 0)
    assert (t.delivered, t.bounced, t.bounced_hard, t.bounced_soft) == (4, 1, 1, 0)
    assert (t.complaints, t.unsubscribes) == (1, 1)
    assert (t.opened, t.opened_human, t.clicked) == (3, 2, 1)
    assert (t.opened_human_rate, t.clicked_rate) == ("40.0%", "20.0%")
    assert [(row.url, row.people, row.machine) for row in report.links] == [
        (first.url, 1, 1),
        (second.url, 1, 0),
    ]


def test_report_acts_counts_recipients_within_seven_days_after_their_message(world):
    mailing, _, _ = world
    report = mailing_report(mailing)
    assert [(row.kind, row.acts, row.people, row.amount) for row in report.acts] == [
        ("donate", 1, 1, 25),
        ("rsvp", 1, 1, None),
        ("sign", 1, 1, None),
    ]
    assert report.acts_total == 3


def test_report_is_a_few_queries(world, django_assert_max_num_queries):
    mailing, _, _ = world
    with django_assert_max_num_queries(6):
        mailing_report(mailing)


def test_report_of_a_mailing_never_sent_is_all_zero(db):
    report = mailing_report(MailingFactory())
    assert report.totals.sent == 0
    assert report.totals.opened_human_rate == "—"
    assert (report.links, report.acts, report.variants) == ([], [], [])
    assert mailing_series(MailingFactory()).buckets == []


def test_report_ab_variants(db):
    mailing = ab_mailing("First", "Second", status=MailingStatus.SENT)
    a, b = mailing.variants.all()
    mailing.ab_winner = b
    mailing.save()
    DeliveryFactory(mailing=mailing, variant=a, status="sent", sent_at=SENT)
    DeliveryFactory(mailing=mailing, variant=b, status="sent", sent_at=SENT, clicked_at=at(hours=1))
    rows = mailing_report(mailing).variants
    assert [(r.label, r.sent, r.clicked, r.winner) for r in rows] == [
        ("A", 1, 0, False),
        ("B", 1, 1, True),
    ]


# --- over time --------------------------------------------------------------------------------


def test_series_counts_human_opens_and_clicks_per_hour(world):
    mailing, _, _ = world
    series = mailing_series(mailing, now=at(hours=5, minutes=10))
    assert series.unit == "hour"
    assert [(b.start.hour, b.opens, b.clicks) for b in series.buckets] == [
        (15, 0, 0),
        (16, 1, 2),
        (17, 0, 0),
        (18, 1, 0),
        (19, 0, 0),
        (20, 0, 0),
    ]


def test_series_per_day_once_the_mailing_is_older_than_three_days(world):
    mailing, _, _ = world
    series = mailing_series(mailing, now=at(days=4))
    assert series.unit == "day"
    assert [(b.start.day, b.opens, b.clicks) for b in series.buckets] == [
        (4, 2, 2),
        (5, 0, 0),
        (6, 0, 0),
        (7, 0, 0),
        (8, 0, 0),
    ]


def test_series_buckets_follow_the_site_time_zone(world, settings):
    settings.TIME_ZONE = "America/Denver"
    mailing, _, _ = world
    with timezone.override("America/Denver"):
        series = mailing_series(mailing, now=at(hours=3, minutes=30))
    assert [(b.start.hour, b.opens, b.clicks) for b in series.buckets] == [
        (8, 0, 0),
        (9, 1, 2),
        (10, 0, 0),
        (11, 1, 0),
    ]


def test_chart_has_axes_units_and_a_description(world):
    mailing, _, _ = world
    chart = opens_chart(mailing_series(mailing, now=at(hours=5)))
    assert chart is not None
    assert (chart.title, chart.x_label, chart.y_label) == (
        "Human opens and clicks per hour",
        "Hour (UTC)",
        "People",
    )
    assert [t.label for t in chart.y_ticks][0] == "0"
    assert [t.label for t in chart.y_ticks][-1] == "2"
    assert chart.x_ticks[0].label == "Tue 15:00"
    assert chart.description.startswith("2 human opens and 2 clicks, per hour, over 6 hours")
    assert chart.rows[1] == ["Tue 04 Mar 16:00", "1", "2"]


def test_chart_of_a_mailing_never_sent_is_none(db):
    assert opens_chart(mailing_series(MailingFactory())) is None


# --- the page and the export ------------------------------------------------------------------


def test_report_page_shows_the_numbers_and_an_accessible_chart(world, organizer_client):
    mailing, _, (first, _) = world
    html = organizer_client.get(reverse("messaging:report", args=[mailing.pk])).content.decode()
    assert '<div class="stat" data-stat="sent">5</div>' in html
    assert '<div class="stat" data-stat="opened_human">2</div>' in html
    assert '<div class="stat" data-stat="acts">3</div>' in html
    assert (
        'role="img" aria-labelledby="mailing-opens-clicks-title mailing-opens-clicks-desc"' in html
    )
    assert "The numbers as a table" in html
    assert first.url in html
    assert "within 7 days after their message was sent" in html


def test_report_chart_numbers_download_as_csv(world, organizer_client):
    mailing, _, _ = world
    url = reverse("messaging:report", args=[mailing.pk])
    response = organizer_client.get(url, {"csv": "over-time"})
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    lines = response.content.decode().splitlines()
    # Long past: one row per day (the first 60).
    assert lines[0] == "Day (UTC),Human opens,Clicks"
    assert lines[1] == "Tue 04 Mar 2025,2,2"
    assert len(lines) == 61


def test_report_page_for_supporters_is_forbidden(world, supporter_client):
    mailing, _, _ = world
    assert supporter_client.get(reverse("messaging:report", args=[mailing.pk])).status_code == 403
    assert supporter_client.get(reverse("messaging:export", args=[mailing.pk])).status_code == 403


def test_export_streams_every_recipient_with_their_outcome(world, organizer_client):
    mailing, people, _ = world
    response = organizer_client.get(reverse("messaging:export", args=[mailing.pk]))
    assert response.status_code == 200
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    text = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == 6
    by_address = {row["email"]: row for row in rows}
    reader = by_address[people["reader"].address]
    assert (reader["status"], reader["opens"], reader["clicked_at"]) == (
        "sent",
        "3",
        at(hours=1, minutes=2).isoformat(),
    )
    assert by_address[people["bounced"].address]["bounce"] == "hard"
    assert by_address[people["failed"].address]["error"] == "550 no such user"
    # A cell a spreadsheet would run as a formula is defused.
    assert "'=HYPERLINK(1)@example.org" in by_address


def test_export_rows_read_in_chunks(world):
    mailing, _, _ = world
    with CaptureQueriesContext(connection) as captured:
        rows = list(mailing_export_rows(mailing, chunk_size=2))
    assert len(rows) == 6
    assert len(captured) <= 4
