"""Presence across platforms: the campaign's accounts and its rivals', their audience over time,
and what each platform actually brought (acts and recruits, from the ledger's channels).

Writes: `account_save`, `account_delete`, `snapshot_record` (one per account and day; a second
record for the same day replaces the first), `presence_csv_import`. Reads: `presence_table`
(the side-by-side comparison: platforms by owners, latest audience and change over 30 days),
`presence_series` (audience over time per account, for the charts) and `platform_yield`.
"""

from __future__ import annotations

import re
import tempfile
from collections import defaultdict
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Q
from django.utils import timezone

from rallypoint.core.audit import log_action
from rallypoint.imports.csvfile import CsvFormatError, detect_format, read_header, records
from rallypoint.ledger.models import Activity, Channel, Recruitment

from ..models import AudienceSnapshot, Platform, PresenceAccount, SnapshotSource

# The ledger's channel for each platform; platforms without a share channel of their own have
# none (acts arriving from them are counted under "Other").
PLATFORM_CHANNELS: dict[str, str | None] = {
    Platform.FACEBOOK: Channel.FACEBOOK,
    Platform.X: Channel.X,
    Platform.BLUESKY: Channel.BLUESKY,
    Platform.MASTODON: Channel.MASTODON,
    Platform.INSTAGRAM: None,
    Platform.TIKTOK: None,
    Platform.YOUTUBE: None,
    Platform.THREADS: None,
    Platform.OTHER: Channel.OTHER,
}
PLATFORM_ALIASES = {
    "twitter": Platform.X,
    "x/twitter": Platform.X,
    "x (twitter)": Platform.X,
    "fb": Platform.FACEBOOK,
    "ig": Platform.INSTAGRAM,
    "yt": Platform.YOUTUBE,
    "bsky": Platform.BLUESKY,
}
CHANGE_DAYS = 30
MAX_AUDIENCE = 10**12  # more than anyone's audience: a typo or a pasted id
MAX_CSV_BYTES = 5 * 1024 * 1024
MAX_CSV_ROWS = 50_000
MAX_ERRORS_SHOWN = 200
HANDLE_RE = re.compile(r"^[^\s<>\"'`\x00-\x1f\x7f\ufffd\ud800-\udfff]{1,200}$")
CSV_COLUMNS = {
    "platform": {"platform", "network", "site", "service"},
    "handle": {"handle", "account", "username", "user", "name"},
    "date": {"date", "day", "as of", "as_of"},
    "count": {
        "count",
        "audience",
        "followers",
        "friends",
        "subscribers",
        "fans",
        "followers_count",
    },
    "posts": {"posts", "statuses", "videos", "tweets"},
    "engagement": {"engagement", "interactions", "likes"},
    "owner": {"owner", "campaign", "whose"},
}


# --- checking what people type ----------------------------------------------------------------


def platform_clean(raw: str) -> str:
    value = (raw or "").strip().lower()
    value = PLATFORM_ALIASES.get(value, value)
    if value not in Platform.values:
        names = ", ".join(Platform.values)
        raise ValidationError(f"Unknown platform “{(raw or '')[:40]}”: use one of {names}.")
    return value


def handle_clean(raw: str) -> str:
    value = (raw or "").strip()
    if not value:
        raise ValidationError("Give the account's handle, like @ourcampaign.")
    if not HANDLE_RE.match(value):
        raise ValidationError(
            "A handle is one word of up to 200 characters, without spaces, quotes or angle "
            "brackets (like @ourcampaign or @team@mastodon.social)."
        )
    return value


def url_clean(raw: str) -> str:
    value = (raw or "").strip()
    if not value:
        return ""
    try:
        parts = urlsplit(value)
    except ValueError:
        parts = None
    if (
        parts is None
        or parts.scheme.lower() not in {"http", "https"}
        or not parts.hostname
        or any(c.isspace() or ord(c) < 32 for c in value)
        or len(value) > 500
    ):
        raise ValidationError("Give the account's web address, starting with https://.")
    return value


def audience_clean(raw: Any, what: str = "The audience") -> int:
    text = str(raw if raw is not None else "").strip().replace(",", "").replace("_", "")
    text = text.replace("\u202f", "").replace("\xa0", "").replace(" ", "")
    if not text.isdigit() or not text.isascii():
        raise ValidationError(f"{what} must be a whole number, like 12500.")
    value = int(text)
    if value > MAX_AUDIENCE:
        raise ValidationError(f"{what} is too large to be real ({value:,}).")
    return value


def day_clean(raw: Any) -> date:
    if isinstance(raw, datetime):
        return raw.date()
    if isinstance(raw, date):
        return raw
    text = str(raw or "").strip()[:40]
    for parse in (date.fromisoformat, lambda t: datetime.strptime(t, "%m/%d/%Y").date()):
        try:
            day = parse(text)
            break
        except ValueError:
            continue
    else:
        raise ValidationError(f"“{text}” isn't a date: write it like 2024-05-31.")
    if day > timezone.localdate() + timedelta(days=1):
        raise ValidationError(f"{day.isoformat()} is in the future.")
    if day.year < 2000:
        raise ValidationError(f"{day.isoformat()} is too long ago.")
    return day


# --- writes -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class AccountData:
    platform: str
    handle: str
    url: str = ""
    is_own: bool = True
    rival_name: str = ""
    campaign: Any = None
    fetch: bool = True


def account_save(
    *, data: AccountData, actor: Any, account: PresenceAccount | None = None
) -> PresenceAccount:
    """Create (or change) an account; raises ValidationError with a message per field."""
    errors: dict[str, list[str]] = {}

    def check(name: str, fn, value):
        try:
            return fn(value)
        except ValidationError as exc:
            errors.setdefault(name, []).extend(exc.messages)
            return value

    platform = check("platform", platform_clean, data.platform)
    handle = check("handle", handle_clean, data.handle)
    url = check("url", url_clean, data.url)
    rival_name = (data.rival_name or "").strip()
    if not data.is_own and not rival_name:
        errors.setdefault("rival_name", []).append("Name the rival campaign this account is.")
    if len(rival_name) > 120:
        errors.setdefault("rival_name", []).append("Keep the name under 120 characters.")
    if not errors:
        taken = PresenceAccount.objects.filter(platform=platform, handle__iexact=handle)
        if account is not None:
            taken = taken.exclude(pk=account.pk)
        if taken.exists():
            errors.setdefault("handle", []).append("That account is already listed.")
    if errors:
        raise ValidationError(errors)
    before = _account_state(account) if account is not None else None
    account = account or PresenceAccount()
    account.platform = platform
    account.handle = handle
    account.url = url
    account.is_own = data.is_own
    account.rival_name = "" if data.is_own else rival_name
    account.campaign = data.campaign
    account.fetch = data.fetch
    with transaction.atomic():
        account.save()
        log_action(
            "insights.presence_account.saved",
            obj=account,
            actor=actor,
            data={"before": before, "after": _account_state(account)},
        )
    return account


def _account_state(account: PresenceAccount) -> dict[str, Any]:
    return {
        "platform": account.platform,
        "handle": account.handle,
        "url": account.url,
        "is_own": account.is_own,
        "rival_name": account.rival_name,
        "campaign": account.campaign_id,
    }


def account_delete(*, account: PresenceAccount, actor: Any) -> None:
    with transaction.atomic():
        log_action(
            "insights.presence_account.deleted",
            obj=account,
            actor=actor,
            data=_account_state(account),
        )
        account.delete()


def snapshot_record(
    *,
    account: PresenceAccount,
    day: date,
    audience: int,
    posts: int | None = None,
    engagement: int | None = None,
    source: str = SnapshotSource.MANUAL,
) -> AudienceSnapshot:
    """The account's audience on `day` (one snapshot per day: a new one replaces the old)."""
    snapshot, _ = AudienceSnapshot.objects.update_or_create(
        account=account,
        day=day,
        defaults={
            "audience": audience,
            "posts": posts,
            "engagement": engagement,
            "source": source,
        },
    )
    return snapshot


def snapshot_delete(*, snapshot: AudienceSnapshot, actor: Any) -> None:
    with transaction.atomic():
        log_action(
            "insights.audience_snapshot.deleted",
            obj=snapshot.account,
            actor=actor,
            data={"day": snapshot.day.isoformat(), "audience": snapshot.audience},
        )
        snapshot.delete()


# --- CSV import -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowError:
    line: int
    message: str


@dataclass
class CsvImportResult:
    saved: int = 0
    accounts_created: int = 0
    errors: list[RowError] = field(default_factory=list)
    error_count: int = 0
    problem: str = ""  # the whole file could not be read

    @property
    def errors_hidden(self) -> int:
        return self.error_count - len(self.errors)


def _column_map(header: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, name in enumerate(header):
        key = re.sub(r"\s+", " ", name.strip().lower())
        for column, names in CSV_COLUMNS.items():
            if key in names and column not in found:
                found[column] = index
    return found


def presence_csv_import(*, data: bytes, actor: Any = None) -> CsvImportResult:
    """Read rows of platform, handle, date, count (and optionally posts, engagement, owner).

    An account not listed yet is created when the row has an owner ("own", or the rival
    campaign's name); otherwise the row is refused. Each refused row is reported with its line
    and reason; the good rows are kept."""
    result = CsvImportResult()
    if len(data) > MAX_CSV_BYTES:
        result.problem = f"The file is larger than {MAX_CSV_BYTES // (1024 * 1024)} MB."
        return result
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "presence.csv"
        path.write_bytes(data)
        try:
            fmt = detect_format(path)
            header, _ = read_header(path, fmt, sample_rows=0)
        except CsvFormatError as exc:
            result.problem = str(exc)
            return result
        columns = _column_map(header)
        missing = [c for c in ("platform", "handle", "date", "count") if c not in columns]
        if missing:
            result.problem = (
                "The first line must name the columns platform, handle, date and count "
                f"(missing: {', '.join(missing)})."
            )
            return result
        accounts = {
            (a.platform, a.handle.lower()): a for a in PresenceAccount.objects.all().order_by()
        }
        seen_rows = 0
        for record in records(path, fmt):
            seen_rows += 1
            if seen_rows > MAX_CSV_ROWS:
                _error(result, record.line, f"Only the first {MAX_CSV_ROWS:,} rows are read.")
                break
            if record.problem or record.values is None:
                _error(result, record.line, record.problem or "This line can't be read.")
                continue
            try:
                _import_row(record.values, columns, accounts, result, actor)
            except ValidationError as exc:
                _error(result, record.line, " ".join(exc.messages))
    return result


def _error(result: CsvImportResult, line: int, message: str) -> None:
    result.error_count += 1
    if len(result.errors) < MAX_ERRORS_SHOWN:
        result.errors.append(RowError(line, message))


def _cell(values: list[str], columns: dict[str, int], name: str) -> str:
    index = columns.get(name)
    return values[index].strip() if index is not None and index < len(values) else ""


def _import_row(values, columns, accounts, result: CsvImportResult, actor) -> None:
    platform = platform_clean(_cell(values, columns, "platform"))
    handle = handle_clean(_cell(values, columns, "handle"))
    day = day_clean(_cell(values, columns, "date"))
    audience = audience_clean(_cell(values, columns, "count"), "The count")
    posts_raw = _cell(values, columns, "posts")
    engagement_raw = _cell(values, columns, "engagement")
    posts = audience_clean(posts_raw, "Posts") if posts_raw else None
    engagement = audience_clean(engagement_raw, "Engagement") if engagement_raw else None
    account = accounts.get((platform, handle.lower()))
    if account is None:
        owner = _cell(values, columns, "owner")
        if not owner:
            raise ValidationError(
                f"No {Platform(platform).label} account {handle} is listed: add it first, or "
                "give an owner column (“own”, or the rival campaign's name)."
            )
        is_own = owner.lower() in {"own", "ours", "us", "our campaign"}
        account = account_save(
            data=AccountData(
                platform=platform,
                handle=handle,
                is_own=is_own,
                rival_name="" if is_own else owner[:120],
            ),
            actor=actor,
        )
        accounts[(platform, handle.lower())] = account
        result.accounts_created += 1
    snapshot_record(
        account=account,
        day=day,
        audience=audience,
        posts=posts,
        engagement=engagement,
        source=SnapshotSource.CSV,
    )
    result.saved += 1


# --- reads ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OwnerColumn:
    key: str  # "own" or "rival:<name>"
    label: str
    is_own: bool


@dataclass(frozen=True)
class PresenceCell:
    audience: int | None  # the latest snapshot (summed over the owner's accounts)
    change: int | None  # against the latest snapshot at least 30 days older
    change_percent: float | None
    as_of: date | None
    accounts: tuple[PresenceAccount, ...] = ()
    column: str = ""  # the owner's label (the column's heading)


@dataclass(frozen=True)
class PresenceRow:
    platform: str
    label: str
    cells: tuple[PresenceCell, ...]


@dataclass(frozen=True)
class PresenceTable:
    columns: tuple[OwnerColumn, ...]
    rows: tuple[PresenceRow, ...]
    change_days: int = CHANGE_DAYS


def owner_key(account: PresenceAccount) -> str:
    return "own" if account.is_own else f"rival:{account.rival_name.strip().lower()}"


def _latest_and_before(
    snapshots: list[tuple[date, int]], today: date
) -> tuple[tuple[date, int] | None, tuple[date, int] | None]:
    """(latest snapshot on or before today, latest one at least CHANGE_DAYS before that)."""
    ordered = sorted(s for s in snapshots if s[0] <= today)
    if not ordered:
        return None, None
    latest = ordered[-1]
    cutoff = latest[0] - timedelta(days=CHANGE_DAYS)
    older = [s for s in ordered if s[0] <= cutoff]
    return latest, (older[-1] if older else None)


def presence_table(*, today: date | None = None) -> PresenceTable:
    """Platforms (rows) by owners (columns: our campaign first, then each rival), as in the 2008
    comparison: the latest audience and its change over CHANGE_DAYS days. Two queries."""
    today = today or timezone.localdate()
    accounts = list(PresenceAccount.objects.select_related("campaign"))
    series: dict[int, list[tuple[date, int]]] = defaultdict(list)
    for account_id, day, audience in AudienceSnapshot.objects.filter(
        account__in=[a.pk for a in accounts]
    ).values_list("account_id", "day", "audience"):
        series[account_id].append((day, audience))
    columns: dict[str, OwnerColumn] = {}
    if any(a.is_own for a in accounts):
        columns["own"] = OwnerColumn("own", "Our campaign", True)
    for account in sorted((a for a in accounts if not a.is_own), key=lambda a: a.rival_name):
        key = owner_key(account)
        columns.setdefault(key, OwnerColumn(key, account.rival_name, False))
    grouped: dict[tuple[str, str], list[PresenceAccount]] = defaultdict(list)
    for account in accounts:
        grouped[(account.platform, owner_key(account))].append(account)
    rows = []
    for platform, label in Platform.choices:
        if not any(key[0] == platform for key in grouped):
            continue
        cells = []
        for column in columns.values():
            members = grouped.get((platform, column.key), [])
            cells.append(replace(_cell_for(members, series, today), column=column.label))
        rows.append(PresenceRow(platform, label, tuple(cells)))
    return PresenceTable(tuple(columns.values()), tuple(rows))


def _cell_for(members, series, today: date) -> PresenceCell:
    latest_total = change_total = 0
    base_total = 0
    as_of: date | None = None
    has_latest = has_change = False
    for account in members:
        latest, before = _latest_and_before(series.get(account.pk, []), today)
        if latest is None:
            continue
        has_latest = True
        latest_total += latest[1]
        as_of = max(as_of, latest[0]) if as_of else latest[0]
        if before is not None:
            has_change = True
            change_total += latest[1] - before[1]
            base_total += before[1]
    if not has_latest:
        return PresenceCell(None, None, None, None, tuple(members))
    percent = round(100 * change_total / base_total, 1) if has_change and base_total else None
    return PresenceCell(
        latest_total, change_total if has_change else None, percent, as_of, tuple(members)
    )


@dataclass(frozen=True)
class AccountSeries:
    account: PresenceAccount
    points: tuple[tuple[date, int], ...]


def presence_series(*, platform: str | None = None, days: int = 365) -> list[AccountSeries]:
    """Each account's audience over the last `days` days, oldest first (for line charts)."""
    since = timezone.localdate() - timedelta(days=days)
    accounts = PresenceAccount.objects.select_related("campaign")
    if platform:
        accounts = accounts.filter(platform=platform)
    by_account: dict[int, list[tuple[date, int]]] = defaultdict(list)
    for account_id, day, audience in (
        AudienceSnapshot.objects.filter(account__in=accounts, day__gte=since)
        .order_by("day")
        .values_list("account_id", "day", "audience")
    ):
        by_account[account_id].append((day, audience))
    return [AccountSeries(a, tuple(by_account[a.pk])) for a in accounts if by_account.get(a.pk)]


@dataclass(frozen=True)
class PlatformYield:
    platform: str
    label: str
    channel: str | None
    acts: int  # acts that arrived through the platform's share channel (recruit credits aside)
    recruits: int  # people recruited through it


def platform_yield(
    *, campaign: Any = None, since: datetime | None = None, until: datetime | None = None
) -> list[PlatformYield]:
    """What each listed platform brought, read from the ledger's channels (two grouped
    queries): acts made through someone's share link on that channel, and recruits."""
    acts = Activity.objects.filter(referrer__isnull=False).exclude(kind__in=["recruit", "share"])
    edges = Recruitment.objects.all()
    if campaign is not None:
        acts, edges = acts.filter(campaign=campaign), edges.filter(campaign=campaign)
    window = Q()
    if since is not None:
        window &= Q(created_at__gte=since)
    if until is not None:
        window &= Q(created_at__lt=until)
    acts, edges = acts.filter(window), edges.filter(window)
    acts_by = dict(
        acts.order_by().values_list("channel").annotate(n=Count("id")).values_list("channel", "n")
    )
    recruits_by = dict(
        edges.order_by().values_list("channel").annotate(n=Count("id")).values_list("channel", "n")
    )
    listed = set(PresenceAccount.objects.values_list("platform", flat=True).distinct())
    rows = []
    for platform, label in Platform.choices:
        if platform not in listed:
            continue
        channel = PLATFORM_CHANNELS.get(platform)
        rows.append(
            PlatformYield(
                platform=platform,
                label=label,
                channel=channel,
                acts=acts_by.get(channel, 0) if channel else 0,
                recruits=recruits_by.get(channel, 0) if channel else 0,
            )
        )
    return rows


# --- fetching ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FetchOutcome:
    account: PresenceAccount
    audience: int | None
    error: str = ""


def presence_fetch(*, account_ids: list[int] | None = None) -> list[FetchOutcome]:
    """Fetch today's audience of every account whose platform has a switched-on fetcher (and
    that allows fetching). Each request is made outside any transaction; each account's
    snapshot and status are written on their own, so one failure stops nothing else."""
    from ..fetchers import FetchError, fetcher_for

    accounts = PresenceAccount.objects.filter(fetch=True).order_by("pk")
    if account_ids is not None:
        accounts = accounts.filter(pk__in=account_ids)
    outcomes = []
    for account in accounts:
        fetcher = fetcher_for(account.platform)
        if fetcher is None:
            continue
        now = timezone.now()
        try:
            found = fetcher.fetch(handle=account.handle, url=account.url)
        except FetchError as exc:
            PresenceAccount.objects.filter(pk=account.pk).update(
                last_fetched_at=now, last_fetch_error=exc.message[:300]
            )
            outcomes.append(FetchOutcome(account, None, exc.message))
            continue
        snapshot_record(
            account=account,
            day=timezone.localdate(now),
            audience=min(found.audience, MAX_AUDIENCE),
            posts=found.posts,
            source=SnapshotSource.FETCH,
        )
        PresenceAccount.objects.filter(pk=account.pk).update(
            last_fetched_at=now, last_fetch_error=""
        )
        outcomes.append(FetchOutcome(account, found.audience))
    return outcomes
