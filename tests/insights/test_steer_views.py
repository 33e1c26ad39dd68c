"""The steering pages: who may open them, what they show, and bad input (never a 500)."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from rallypoint.insights.models import (
    AudienceSnapshot,
    InsightRun,
    PresenceAccount,
    RunKind,
    RunStatus,
)
from rallypoint.insights.services.presence import AccountData, account_save, snapshot_record
from rallypoint.segments.models import Segment
from rallypoint.segments.queries import segment_people
from rallypoint.sharing.models import ShareVisit
from tests.insights.test_simulate import synthetic_campaign
from tests.mission.factories import CampaignFactory


def make_account(platform="x", handle="@ours", **extra) -> PresenceAccount:
    return account_save(data=AccountData(platform=platform, handle=handle, **extra), actor=None)


# --- who may open them ------------------------------------------------------------------------


@pytest.mark.django_db
def test_steering_pages_are_for_organizers_only(supporter_client):
    client = Client()
    campaign = CampaignFactory()
    urls = [
        reverse("insights:presence"),
        reverse("insights:spread", args=[campaign.slug]),
        reverse("insights:ask", args=[campaign.slug]),
    ]
    for url in urls:
        assert client.get(url).status_code == 302
        assert supporter_client.get(url).status_code == 403
    assert (
        supporter_client.post(reverse("insights:spread", args=[campaign.slug])).status_code == 403
    )
    assert InsightRun.objects.count() == 0


# --- presence ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_presence_page_shows_the_comparison_charts_and_csv(organizer_client):
    ours = make_account("x", "@ours")
    theirs = make_account("x", "@them", is_own=False, rival_name="Rival <b>2024</b>")
    today = timezone.localdate()
    snapshot_record(account=ours, day=today - timedelta(days=35), audience=1000)
    snapshot_record(account=ours, day=today, audience=1500)
    snapshot_record(account=theirs, day=today, audience=2500)
    response = organizer_client.get(reverse("insights:presence"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-audience="1500"' in html
    assert 'data-audience="2500"' in html
    assert "+500 (+50.0%) in 30 days" in html
    assert "Rival &lt;b&gt;2024&lt;/b&gt;" in html  # escaped
    assert 'data-chart="presence-x"' in html
    csv = organizer_client.get(reverse("insights:presence") + "?csv=presence-x")
    assert csv.status_code == 200
    assert csv["Content-Type"].startswith("text/csv")
    lines = csv.content.decode().splitlines()
    assert lines[0] == "Week ending,Our campaign: @ours,Rival <b>2024</b>: @them"
    day, ours_count, theirs_count = lines[-1].split(",")
    assert (day, float(ours_count), float(theirs_count)) == (today.isoformat(), 1500, 2500)
    assert organizer_client.get(reverse("insights:presence") + "?csv=nope").status_code == 400
    missing = organizer_client.get(reverse("insights:presence") + "?campaign=%00nope")
    assert missing.status_code == 404


@pytest.mark.django_db
def test_presence_page_query_count_does_not_grow_with_accounts(organizer_client):
    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert organizer_client.get(reverse("insights:presence")).status_code == 200
        return len(captured)

    first = make_account("x", "@one")
    snapshot_record(account=first, day=timezone.localdate(), audience=10)
    one = queries()
    for handle in ("@two", "@three"):
        extra = make_account("facebook", handle, is_own=False, rival_name=handle)
        snapshot_record(account=extra, day=timezone.localdate(), audience=20)
    assert queries() == one


@pytest.mark.django_db
def test_account_form_refuses_hostile_input_with_messages(organizer_client):
    url = reverse("insights:presence_account_new")
    assert organizer_client.get(url).status_code == 200
    for body, message in (
        (
            {"platform": "x", "handle": "@a", "owner": "own", "url": "javascript:alert(1)"},
            "https://",
        ),
        ({"platform": "x", "handle": "@a\x00", "owner": "own"}, "Null characters"),
        ({"platform": "x", "handle": "<script>", "owner": "own"}, "A handle is one word"),
        ({"platform": "myspace", "handle": "@a", "owner": "own"}, "Select a valid choice"),
        ({"platform": "x", "handle": "@a", "owner": "rival"}, "Name the rival campaign"),
    ):
        response = organizer_client.post(url, body)
        assert response.status_code == 400, body
        assert message in response.content.decode(), body
    # Bytes that aren't UTF-8 (a lone surrogate's encoding) arrive as U+FFFD: refused.
    raw = "platform=x&owner=own&handle=%40a%ED%A0%80&rival_name=%ED%A0%80"
    response = organizer_client.post(url, raw, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert PresenceAccount.objects.count() == 0
    response = organizer_client.post(
        url, {"platform": "x", "handle": "@ours", "owner": "own", "url": "https://x.com/ours"}
    )
    account = PresenceAccount.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("insights:presence_account", args=[account.pk])


@pytest.mark.django_db
def test_snapshot_form_saves_a_count_and_refuses_bad_ones(organizer_client):
    account = make_account()
    url = reverse("insights:presence_snapshot_add", args=[account.pk])
    today = timezone.localdate().isoformat()
    for body in (
        {"day": today, "audience": "lots"},
        {"day": today, "audience": "99999999999999999"},
        {"day": "2024-13-45", "audience": "10"},
        {"day": today, "audience": "10", "posts": "-1"},
    ):
        response = organizer_client.post(url, body)
        assert response.status_code == 400, body
    assert AudienceSnapshot.objects.count() == 0
    response = organizer_client.post(url, {"day": today, "audience": "12,500"})
    assert response.status_code == 302
    assert AudienceSnapshot.objects.get().audience == 12500
    assert organizer_client.get(response.url).status_code == 200
    assert (
        organizer_client.post(reverse("insights:presence_snapshot_add", args=[999999])).status_code
        == 404
    )


@pytest.mark.django_db
def test_account_delete_asks_then_deletes(organizer_client):
    account = make_account()
    url = reverse("insights:presence_account_delete", args=[account.pk])
    assert organizer_client.get(url).status_code == 200
    assert PresenceAccount.objects.count() == 1
    assert organizer_client.post(url).status_code == 302
    assert PresenceAccount.objects.count() == 0


@pytest.mark.django_db
def test_import_page_lists_skipped_lines_and_refuses_unreadable_files(organizer_client):
    make_account("x", "@ours")
    url = reverse("insights:presence_import")
    upload = SimpleUploadedFile(
        "counts.csv", b"platform,handle,date,count\nx,@ours,2024-06-01,10\nx,@ours,nope,11\n"
    )
    response = organizer_client.post(url, {"file": upload})
    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-saved="1"' in html
    assert 'data-skipped="1"' in html
    assert "“nope” isn&#x27;t a date" in html
    binary = SimpleUploadedFile("counts.xlsx", b"PK\x03\x04" + b"\x00" * 100)
    response = organizer_client.post(url, {"file": binary})
    assert response.status_code == 400
    assert "spreadsheet" in response.content.decode()
    assert organizer_client.post(url, {}).status_code == 400


# --- the backtest and whom to ask -------------------------------------------------------------


@pytest.mark.django_db
def test_spread_page_runs_the_backtest_and_shows_it(
    organizer_client, django_capture_on_commit_callbacks
):
    made = synthetic_campaign(weeks=5, roots_per_week=30)
    url = reverse("insights:spread", args=[made.campaign.slug])
    page = organizer_client.get(url)
    assert page.status_code == 200
    assert "Run the backtest" in page.content.decode()
    with django_capture_on_commit_callbacks(execute=True):
        response = organizer_client.post(url)
    assert response.status_code == 302
    run = InsightRun.objects.get()
    assert (run.kind, run.status, run.progress) == (RunKind.BACKTEST, RunStatus.DONE, 100)
    html = organizer_client.get(url).content.decode()
    assert f'data-observed="{run.result["observed"]}"' in html
    assert 'data-usable="yes"' in html
    assert 'data-chart="backtest-channels"' in html
    # The exposures of every channel are its share-link visits.
    assert html.count('data-source="visits"') == len(run.result["probabilities"]) == 3
    progress = organizer_client.get(reverse("insights:spread_progress", args=[made.campaign.slug]))
    assert progress.status_code == 200
    assert "hx-trigger" not in progress.content.decode()  # finished: no more polling
    # Asking again for the same data reuses the run; a new share-link visit is new data.
    with django_capture_on_commit_callbacks(execute=True):
        organizer_client.post(url)
    assert InsightRun.objects.count() == 1
    ShareVisit.objects.create(
        day=timezone.localdate() - timedelta(days=2),
        code="visitor1",
        channel="email",
        path=reverse("mission:detail", args=[made.campaign.slug]),
        count=1,
    )
    with django_capture_on_commit_callbacks(execute=True):
        organizer_client.post(url)
    assert InsightRun.objects.count() == 2
    csv = organizer_client.get(url + "?csv=backtest-channels")
    assert csv.status_code == 200


@pytest.mark.django_db
def test_spread_page_polls_while_a_run_is_queued(organizer_client):
    campaign = CampaignFactory()
    url = reverse("insights:spread", args=[campaign.slug])
    organizer_client.post(url)  # the task is queued after commit: never here
    run = InsightRun.objects.get()
    assert run.status == RunStatus.QUEUED
    html = organizer_client.get(reverse("insights:spread_progress", args=[campaign.slug])).content
    assert b'hx-trigger="every 1s"' in html
    assert b'data-status="queued"' in html


@pytest.mark.django_db
def test_spread_page_with_too_little_history_says_so(
    organizer_client, django_capture_on_commit_callbacks
):
    campaign = CampaignFactory()
    url = reverse("insights:spread", args=[campaign.slug])
    with django_capture_on_commit_callbacks(execute=True):
        organizer_client.post(url)
    assert "Too little history" in organizer_client.get(url).content.decode()
    ask = organizer_client.get(reverse("insights:ask", args=[campaign.slug]))
    assert "too little history" in ask.content.decode()


@pytest.mark.django_db
def test_steering_pages_refuse_bad_windows_and_unknown_campaigns(organizer_client):
    campaign = CampaignFactory()
    for name in ("insights:spread", "insights:ask"):
        url = reverse(name, args=[campaign.slug])
        response = organizer_client.get(url + "?since=2024-02-30")
        assert response.status_code == 400
        assert "YYYY-MM-DD" in response.content.decode()
        backwards = organizer_client.get(url + "?since=2024-05-01&until=2024-04-01")
        assert backwards.status_code == 400
        assert organizer_client.get(url + "?since=%ED%A0%80").status_code == 400
        assert organizer_client.get(reverse(name, args=["no-such-campaign"])).status_code == 404
    progress = reverse("insights:ask_progress", args=[campaign.slug]) + "?until=nope"
    assert organizer_client.get(progress).status_code == 400
    assert InsightRun.objects.count() == 0


@pytest.mark.django_db
def test_ask_is_refused_until_the_backtest_is_good_enough(organizer_client, settings):
    campaign = CampaignFactory()
    url = reverse("insights:ask", args=[campaign.slug])
    response = organizer_client.post(url, {"k": "50", "model": "ic"})
    assert response.status_code == 400
    assert "Run the spread backtest for this window first." in response.content.decode()
    assert InsightRun.objects.count() == 0


@pytest.mark.django_db
def test_ask_chooses_people_and_saves_them_as_a_segment(
    organizer_client, django_capture_on_commit_callbacks
):
    made = synthetic_campaign(weeks=5, roots_per_week=30)
    slug = made.campaign.slug
    with django_capture_on_commit_callbacks(execute=True):
        organizer_client.post(reverse("insights:spread", args=[slug]))
    url = reverse("insights:ask", args=[slug])
    assert organizer_client.post(url, {"k": "0", "model": "ic"}).status_code == 400
    assert organizer_client.post(url, {"k": "5", "model": "sir"}).status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        response = organizer_client.post(url, {"k": "5", "model": "ic"})
    assert response.status_code == 302
    run = InsightRun.objects.get(kind=RunKind.ASK)
    assert run.status == RunStatus.DONE
    assert len(run.result["chosen"]) == 5
    html = organizer_client.get(url).content.decode()
    assert 'data-chart="ask-reach"' in html
    assert "Most recruits so far" in html
    save = reverse("insights:ask_segment", args=[slug])
    assert organizer_client.post(save, {"run": "999999", "name": "Nope"}).status_code == 400
    assert organizer_client.post(save, {"run": str(run.pk), "name": ""}).status_code == 400
    response = organizer_client.post(save, {"run": str(run.pk), "name": "Ask to share"})
    segment = Segment.objects.get(name="Ask to share")
    assert response.status_code == 302
    assert response.url == reverse("segments:detail", args=[segment.slug])
    chosen = {row["person_id"] for row in run.result["chosen"]}
    assert set(segment_people(segment).values_list("pk", flat=True)) == chosen
    again = organizer_client.post(save, {"run": str(run.pk), "name": "Ask to share"})
    assert again.status_code == 400  # the name is taken: said, nothing saved twice
    assert Segment.objects.count() == 1
