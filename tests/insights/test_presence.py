"""Presence across platforms: accounts, snapshots, the side-by-side table, the CSV import, what
each platform brought, and the fetchers against a fake server on 127.0.0.1."""

import json
import threading
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import StringIO
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.utils import timezone

from rallypoint.core.audit import AuditEntry
from rallypoint.insights.models import AudienceSnapshot, PresenceAccount, SnapshotSource
from rallypoint.insights.services.presence import (
    AccountData,
    account_save,
    platform_yield,
    presence_csv_import,
    presence_fetch,
    presence_table,
    snapshot_record,
)
from rallypoint.ledger.models import Activity, Recruitment
from tests.factories import OrganizerFactory, PersonFactory
from tests.mission.factories import CampaignFactory

TODAY = date(2024, 6, 30)


def account(platform="x", handle="@ours", *, own=True, rival="", **extra) -> PresenceAccount:
    return account_save(
        data=AccountData(platform=platform, handle=handle, is_own=own, rival_name=rival, **extra),
        actor=None,
    )


# --- accounts and snapshots -------------------------------------------------------------------


@pytest.mark.django_db
def test_account_save_checks_every_field():
    with pytest.raises(ValidationError) as caught:
        account_save(
            data=AccountData(
                platform="myspace", handle="two words", url="javascript:alert(1)", is_own=False
            ),
            actor=None,
        )
    errors = caught.value.message_dict
    assert set(errors) == {"platform", "handle", "url", "rival_name"}
    assert "Unknown platform" in errors["platform"][0]
    assert PresenceAccount.objects.count() == 0


@pytest.mark.django_db
def test_account_handle_is_unique_per_platform_whatever_its_case():
    organizer = OrganizerFactory()
    account_save(data=AccountData(platform="x", handle="@Ours"), actor=organizer)
    with pytest.raises(ValidationError) as caught:
        account("x", "@ours")
    assert caught.value.message_dict["handle"] == ["That account is already listed."]
    account("bluesky", "@ours")  # the same handle elsewhere is another account
    assert PresenceAccount.objects.count() == 2
    assert AuditEntry.objects.filter(action="insights.presence_account.saved").count() == 2


@pytest.mark.django_db
def test_snapshot_is_one_per_account_and_day():
    ours = account()
    snapshot_record(account=ours, day=TODAY, audience=100)
    snapshot_record(account=ours, day=TODAY, audience=120, posts=4)
    assert list(AudienceSnapshot.objects.values_list("day", "audience", "posts")) == [
        (TODAY, 120, 4)
    ]


@pytest.mark.django_db
def test_presence_table_compares_owners_side_by_side_with_change_over_30_days():
    ours = account("x", "@ours")
    ours_fb = account("facebook", "ourpage")
    rival_x = account("x", "@them", own=False, rival="Rival 2024")
    account("bluesky", "@them.bsky.social", own=False, rival="Rival 2024")  # no counts yet
    for day, count in ((TODAY - timedelta(days=40), 1000), (TODAY - timedelta(days=31), 1100)):
        snapshot_record(account=ours, day=day, audience=count)
    snapshot_record(account=ours, day=TODAY, audience=1500)
    snapshot_record(account=ours_fb, day=TODAY - timedelta(days=2), audience=800)
    snapshot_record(account=rival_x, day=TODAY - timedelta(days=30), audience=5000)
    snapshot_record(account=rival_x, day=TODAY - timedelta(days=1), audience=4500)
    snapshot_record(account=rival_x, day=TODAY + timedelta(days=1), audience=9999)  # after "today"

    table = presence_table(today=TODAY)

    assert [c.label for c in table.columns] == ["Our campaign", "Rival 2024"]
    rows = {row.platform: row for row in table.rows}
    assert list(rows) == ["facebook", "x", "bluesky"]  # in the platforms' order
    x_ours, x_rival = rows["x"].cells
    assert (x_ours.audience, x_ours.change, x_ours.change_percent) == (1500, 400, 36.4)
    assert x_ours.as_of == TODAY
    # The rival's latest is 4,500 on the 29th; 30 days before that nothing is older than 30 days.
    assert (x_rival.audience, x_rival.change, x_rival.as_of) == (
        4500,
        None,
        TODAY - timedelta(days=1),
    )
    fb_ours, fb_rival = rows["facebook"].cells
    assert (fb_ours.audience, fb_ours.change) == (800, None)
    assert (fb_rival.audience, fb_rival.accounts) == (None, ())
    bluesky_ours, bluesky_rival = rows["bluesky"].cells
    assert bluesky_rival.audience is None
    assert [a.handle for a in bluesky_rival.accounts] == ["@them.bsky.social"]
    assert x_rival.column == "Rival 2024"


@pytest.mark.django_db
def test_presence_table_without_accounts_is_empty():
    table = presence_table(today=TODAY)
    assert (table.columns, table.rows) == ((), ())


# --- CSV import -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_csv_import_keeps_good_rows_and_reports_bad_ones_by_line():
    account("x", "@ours")
    future = (timezone.localdate() + timedelta(days=10)).isoformat()
    data = (
        "Platform,Handle,Date,Followers\n"
        "x,@ours,2024-06-01,1200\n"  # line 2: good
        'twitter,@OURS,2024-06-02,"1,250"\n'  # line 3: good (alias, case, thousands)
        "myspace,@ours,2024-06-03,10\n"  # line 4: platform
        "x,@ours,June 4th,10\n"  # line 5: date
        "x,@ours,2024-06-05,-3\n"  # line 6: count
        "x,@nobody,2024-06-06,10\n"  # line 7: unknown account, no owner column
        f"x,@ours,{future},10\n"  # line 8: future
        "x,two words,2024-06-08,10\n"  # line 9: handle
        "\n"
        "x,@ours,06/09/2024,1300\n"  # line 11: good (US date)
    ).encode()
    result = presence_csv_import(data=data)
    assert result.problem == ""
    assert result.saved == 3
    assert [e.line for e in result.errors] == [4, 5, 6, 7, 8, 9]
    messages = {e.line: e.message for e in result.errors}
    assert messages[4].startswith("Unknown platform “myspace”")
    assert "isn't a date" in messages[5]
    assert "whole number" in messages[6]
    assert "No X (Twitter) account @nobody is listed" in messages[7]
    assert "in the future" in messages[8]
    assert "A handle is one word" in messages[9]
    assert list(AudienceSnapshot.objects.order_by("day").values_list("audience", "source")) == [
        (1200, SnapshotSource.CSV),
        (1250, SnapshotSource.CSV),
        (1300, SnapshotSource.CSV),
    ]


@pytest.mark.django_db
def test_csv_import_reads_semicolons_windows_encoding_and_creates_accounts_with_an_owner():
    data = (
        "platform;handle;day;subscribers;owner\r\n"
        "youtube;@NousTous;2024-05-01;3400;Réseau Énergie\r\n"
        "facebook;ourpage;2024-05-01;900;own\r\n"
    ).encode("cp1252")
    result = presence_csv_import(data=data)
    assert (result.saved, result.accounts_created, result.errors) == (2, 2, [])
    rival = PresenceAccount.objects.get(platform="youtube")
    assert (rival.is_own, rival.rival_name) == (False, "Réseau Énergie")
    assert PresenceAccount.objects.get(platform="facebook").is_own is True


@pytest.mark.django_db
def test_csv_import_refuses_a_file_it_cannot_read():
    assert presence_csv_import(data=b"").problem == "The file is empty."
    assert "spreadsheet" in presence_csv_import(data=b"PK\x03\x04rest-of-a-zip").problem
    missing = presence_csv_import(data=b"platform,handle\nx,@ours\n")
    assert missing.problem == (
        "The first line must name the columns platform, handle, date and count "
        "(missing: date, count)."
    )
    assert AudienceSnapshot.objects.count() == 0


@pytest.mark.django_db
def test_csv_import_reports_nul_and_undecodable_bytes_with_their_line():
    account("x", "@ours")
    good = b"".join(b"x,@ours,2024-05-%02d,%d\n" % (day, day) for day in range(1, 31))
    data = (
        b"platform,handle,date,count\n"
        + good
        + b"x,@o\x00urs,2024-06-01,11\n"
        + b"x,@ours,2024-06-02,\xff\xfe12\n"
    )
    result = presence_csv_import(data=data)
    assert result.saved == 30
    assert [e.line for e in result.errors] == [32, 33]
    assert "NUL" in result.errors[0].message
    assert "whole number" in result.errors[1].message  # read as cp1252: ÿþ12


# --- what each platform brought ---------------------------------------------------------------


@pytest.mark.django_db
def test_platform_yield_counts_acts_and_recruits_by_the_platforms_channel():
    campaign, other = CampaignFactory(), CampaignFactory()
    account("x", "@ours")
    account("instagram", "@ours")
    account("facebook", "ourpage", own=False, rival="Rival")
    sharer, new, newer, elsewhere = PersonFactory.create_batch(4)
    now = timezone.now()

    def act(person, kind, channel, campaign=campaign, referrer=sharer):
        return Activity(
            person=person,
            kind=kind,
            campaign=campaign,
            channel=channel,
            referrer=referrer,
            created_at=now,
        )

    Activity.objects.bulk_create(
        [
            act(new, "sign", "x"),
            act(new, "rsvp", "x"),
            act(newer, "sign", "facebook"),
            act(sharer, "recruit", "x", referrer=new),  # a recruiter's credit: not brought
            act(sharer, "share", "x", referrer=None),  # a share made on X: not brought by it
            act(elsewhere, "sign", "x", campaign=other),
        ]
    )
    Recruitment.objects.bulk_create(
        [
            Recruitment(
                recruiter=sharer, recruit=new, campaign=campaign, channel="x", created_at=now
            ),
            Recruitment(
                recruiter=sharer,
                recruit=newer,
                campaign=campaign,
                channel="facebook",
                created_at=now,
            ),
        ]
    )
    rows = {row.platform: row for row in platform_yield(campaign=campaign)}
    assert list(rows) == ["facebook", "x", "instagram"]
    assert (rows["x"].acts, rows["x"].recruits) == (2, 1)
    assert (rows["facebook"].acts, rows["facebook"].recruits) == (1, 1)
    assert (rows["instagram"].channel, rows["instagram"].acts) == (None, 0)
    assert {r.platform: r.acts for r in platform_yield()}["x"] == 3  # every campaign


# --- fetchers against a fake server -----------------------------------------------------------


class FakePlatform(BaseHTTPRequestHandler):
    """Answers like Mastodon, Bluesky's AppView and the YouTube Data API, for a few handles."""

    requests: list[str] = []

    def log_message(self, *args):  # keep the test output clean
        pass

    def _json(self, status: int, body, content_type: str = "application/json") -> None:
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def do_GET(self):  # noqa: N802 - the http.server API
        FakePlatform.requests.append(self.path)
        url = urlsplit(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == "/api/v1/accounts/lookup":
            if query.get("acct") == "ours":
                padding = "x" * 3000  # a real reply is long: the count comes after the note
                return self._json(
                    200, {"note": padding, "followers_count": 321, "statuses_count": 45}
                )
            return self._json(404, {"error": "Record not found"})
        if url.path == "/xrpc/app.bsky.actor.getProfile":
            if query.get("actor") == "ours.bsky.social":
                return self._json(200, {"followersCount": 1234, "postsCount": 56})
            if query.get("actor") == "broken.bsky.social":
                return self._json(200, b"<html>not json</html>", "text/html")
            return self._json(400, {"error": "InvalidRequest"})
        if url.path == "/youtube/v3/channels":
            if query.get("key") != "test-key":
                return self._json(403, {"error": "bad key"})
            if query.get("forHandle") == "@ours":
                stats = {"subscriberCount": "98765", "videoCount": "12"}
                return self._json(200, {"items": [{"statistics": stats}]})
            if query.get("forHandle") == "@hidden":
                stats = {"hiddenSubscriberCount": True}
                return self._json(200, {"items": [{"statistics": stats}]})
            return self._json(200, {"items": []})
        if url.path == "/redirect":
            self.send_response(302)
            self.send_header("Location", "http://169.254.169.254/")
            self.end_headers()
            return None
        return self._json(404, {})


@pytest.fixture
def fake_platform(settings):
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakePlatform)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    FakePlatform.requests = []
    base = f"http://127.0.0.1:{server.server_address[1]}"
    settings.OUTGOING_ALLOWED_HOSTS = "127.0.0.1"
    settings.INSIGHTS_FETCH_SCHEMES = ("http", "https")
    settings.INSIGHTS_FETCH_TIMEOUT = 5
    settings.INSIGHTS_FETCH_MASTODON = True
    settings.INSIGHTS_FETCH_BLUESKY = True
    settings.INSIGHTS_BLUESKY_API = base
    settings.INSIGHTS_YOUTUBE_API_KEY = "test-key"
    settings.INSIGHTS_YOUTUBE_API = f"{base}/youtube/v3"
    yield base
    server.shutdown()
    server.server_close()


@pytest.mark.django_db
def test_fetchers_record_todays_audience_and_say_what_went_wrong(fake_platform):
    mastodon = account("mastodon", "@ours@127.0.0.1", url=f"{fake_platform}/@ours")
    mastodon_gone = account("mastodon", "@gone", url=f"{fake_platform}/@gone")
    bluesky = account("bluesky", "@ours.bsky.social")
    bluesky_broken = account("bluesky", "broken.bsky.social")
    youtube = account("youtube", "@ours", own=False, rival="Rival")
    hidden = account("youtube", "@hidden", own=False, rival="Rival")
    account("x", "@ours")  # no fetcher for X
    account("bluesky", "@skip.bsky.social", fetch=False)  # not to be fetched

    outcomes = {o.account.pk: o for o in presence_fetch()}

    today = timezone.localdate()
    assert set(outcomes) == {
        mastodon.pk,
        mastodon_gone.pk,
        bluesky.pk,
        bluesky_broken.pk,
        youtube.pk,
        hidden.pk,
    }
    assert outcomes[mastodon.pk].audience == 321
    assert outcomes[bluesky.pk].audience == 1234
    assert outcomes[youtube.pk].audience == 98765
    assert outcomes[mastodon_gone.pk].error == "The platform does not know this account."
    assert outcomes[bluesky_broken.pk].error == "The platform's answer wasn't JSON."
    assert outcomes[hidden.pk].error == "This channel hides its subscriber count."
    snapshots = {
        s.account_id: (s.day, s.audience, s.posts, s.source) for s in AudienceSnapshot.objects.all()
    }
    assert snapshots == {
        mastodon.pk: (today, 321, 45, SnapshotSource.FETCH),
        bluesky.pk: (today, 1234, 56, SnapshotSource.FETCH),
        youtube.pk: (today, 98765, 12, SnapshotSource.FETCH),
    }
    hidden.refresh_from_db()
    assert hidden.last_fetch_error == "This channel hides its subscriber count."
    assert hidden.last_fetched_at is not None
    assert not any("test-key" in o.error for o in outcomes.values())


@pytest.mark.django_db
def test_fetchers_refuse_addresses_inside_the_network(fake_platform, settings):
    settings.OUTGOING_ALLOWED_HOSTS = ""
    inside = account("mastodon", "@ours", url=f"{fake_platform}/@ours")
    outcomes = presence_fetch(account_ids=[inside.pk])
    assert "inside the server's own network" in outcomes[0].error
    assert FakePlatform.requests == []  # nothing was sent
    assert AudienceSnapshot.objects.count() == 0


@pytest.mark.django_db
def test_fetchers_follow_no_redirect_and_switch_off_by_setting(fake_platform, settings):
    from rallypoint.insights.fetchers.base import FetchError, get_json

    with pytest.raises(FetchError) as caught:
        get_json(f"{fake_platform}/redirect")
    assert caught.value.message == "The platform answered with HTTP 302."
    settings.INSIGHTS_FETCH_MASTODON = False
    settings.INSIGHTS_FETCH_BLUESKY = False
    settings.INSIGHTS_YOUTUBE_API_KEY = ""
    account("bluesky", "@ours.bsky.social")
    assert presence_fetch() == []
    out = StringIO()
    call_command("insights_fetch_presence", stdout=out)
    assert "No fetcher is switched on" in out.getvalue()


@pytest.mark.django_db
def test_fetch_command_prints_each_account(fake_platform):
    account("bluesky", "@ours.bsky.social")
    account("bluesky", "nobody.bsky.social")
    out = StringIO()
    call_command("insights_fetch_presence", stdout=out)
    lines = out.getvalue().splitlines()
    assert "Bluesky @ours.bsky.social: 1,234" in lines
    assert "Bluesky nobody.bsky.social: The platform answered with HTTP 400." in lines
    assert lines[-1] == "1 fetched, 1 failed (bluesky, mastodon, youtube on)."
