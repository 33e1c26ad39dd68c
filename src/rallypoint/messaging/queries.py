"""Reads of the messaging tool: the organizer's list of mailings and a mailing's report.

The report is a handful of aggregates: one query over the mailing's deliveries for every count,
one for the clicks per link, one for the acts that followed, two for the chart. Nothing here is
cached: organizer pages read the database.
"""

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta

from django.db.models import Count, Exists, Max, Min, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import TruncDay, TruncHour
from django.utils import timezone

from rallypoint.core.progress import percent as percent_of
from rallypoint.ledger.kinds import KINDS, kind_noun, per_unit
from rallypoint.ledger.models import Activity
from rallypoint.people.models import EmailAddress, Person

from .models import Click, Delivery, DeliveryStatus, Mailing, MailingLink, MailingStatus

# An act counts as following a mailing when its person was sent the mailing and acted within
# this long after their message left (docs/email.md, "The report").
ACTS_WINDOW = timedelta(days=7)
# The chart counts per hour while a mailing is this young, per day after that.
HOURLY_SPAN = timedelta(hours=72)
# Acts that record a choice about mail (unsubscribing) are not "what people did next": the
# report counts unsubscribes on their own.
NOT_TAKING_PART = [kind.code for kind in KINDS.values() if not kind.participation]
CHART_DAYS_MAX = 60

DONE = [DeliveryStatus.SENT, DeliveryStatus.FAILED, DeliveryStatus.SKIPPED]
IN_FLIGHT = [MailingStatus.CALCULATING, MailingStatus.SENDING, MailingStatus.PAUSED]


# --- the list ---------------------------------------------------------------------------------


def mailings_list(*, status: str = "") -> QuerySet[Mailing]:
    qs = Mailing.objects.select_related("campaign", "created_by").order_by("-created_at", "-pk")
    if status == "drafts":
        qs = qs.filter(status=MailingStatus.DRAFT)
    elif status == "scheduled":
        qs = qs.filter(status=MailingStatus.SCHEDULED)
    elif status == "sending":
        qs = qs.filter(status__in=IN_FLIGHT)
    elif status == "sent":
        qs = qs.filter(status__in=[MailingStatus.SENT, MailingStatus.CANCELLED])
    return qs


@dataclass(frozen=True)
class Progress:
    done: int
    total: int

    @property
    def percent(self) -> int:
        return percent_of(self.done, self.total)


def mailings_progress(mailings: list[Mailing]) -> dict[int, Progress]:
    """Deliveries done (sent, failed or skipped) of each mailing still going out, in one query
    (only mailings in flight: a finished one says its total)."""
    going = [m for m in mailings if m.status in IN_FLIGHT]
    if not going:
        return {}
    counts = dict(
        Delivery.objects.filter(mailing__in=going, status__in=DONE)
        .values("mailing_id")
        .annotate(n=Count("id"))
        .values_list("mailing_id", "n")
    )
    return {m.pk: Progress(done=counts.get(m.pk, 0), total=m.total_targeted or 0) for m in going}


def mailing_progress(mailing: Mailing) -> Progress:
    done = Delivery.objects.filter(mailing=mailing, status__in=DONE).count()
    return Progress(done=done, total=mailing.total_targeted or 0)


def mailing_for_page(pk: int) -> Mailing | None:
    return (
        Mailing.objects.select_related("campaign", "created_by", "ab_winner")
        .prefetch_related("include_segments", "exclude_segments", "variants")
        .filter(pk=pk)
        .first()
    )


def person_by_email(address: str) -> Person | None:
    """The person holding this address (for previews with their merge fields)."""
    address = (address or "").strip()
    if not address:
        return None
    row = EmailAddress.objects.filter(address__iexact=address).select_related("person").first()
    return row.person if row else None


# --- the report -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Totals:
    targeted: int = 0
    pending: int = 0
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    delivered: int = 0
    bounced: int = 0
    bounced_hard: int = 0
    bounced_soft: int = 0
    complaints: int = 0
    unsubscribes: int = 0
    opened: int = 0
    opened_human: int = 0
    clicked: int = 0

    def rate(self, count: int) -> str:
        """Share of the messages sent, as "12.5%"."""
        return f"{100 * count / self.sent:.1f}%" if self.sent else "—"

    @property
    def opened_human_rate(self) -> str:
        return self.rate(self.opened_human)

    @property
    def clicked_rate(self) -> str:
        return self.rate(self.clicked)


@dataclass(frozen=True)
class LinkRow:
    url: str
    position: int
    people: int  # recipients who clicked it (human clicks)
    machine: int  # clicks the scanner rule set aside


@dataclass(frozen=True)
class ActRow:
    kind: str
    label: str
    acts: int
    people: int
    amount: int | None = None  # for kinds measured in units (donations: dollars), their total


@dataclass(frozen=True)
class VariantRow:
    label: str
    subject: str
    sent: int
    opened_human: int
    clicked: int
    winner: bool


@dataclass
class Report:
    totals: Totals
    links: list[LinkRow]
    acts: list[ActRow]
    variants: list[VariantRow] = field(default_factory=list)

    @property
    def acts_total(self) -> int:
        return sum(row.acts for row in self.acts)


def _count(condition: Q | None = None) -> Count:
    return Count("id", filter=condition) if condition is not None else Count("id")


def mailing_totals(mailing: Mailing) -> Totals:
    """Every count of the report in one query over the mailing's deliveries."""
    row = Delivery.objects.filter(mailing=mailing).aggregate(
        targeted=_count(),
        pending=_count(Q(status__in=[DeliveryStatus.PENDING, DeliveryStatus.HELD])),
        sent=_count(Q(status=DeliveryStatus.SENT)),
        failed=_count(Q(status=DeliveryStatus.FAILED)),
        skipped=_count(Q(status=DeliveryStatus.SKIPPED)),
        delivered=_count(Q(delivered_at__isnull=False)),
        bounced=_count(~Q(bounce="")),
        bounced_hard=_count(Q(bounce="hard")),
        bounced_soft=_count(Q(bounce="soft")),
        complaints=_count(Q(complained_at__isnull=False)),
        unsubscribes=_count(Q(unsubscribed_at__isnull=False)),
        opened=_count(Q(opened_at__isnull=False)),
        opened_human=_count(Q(human_opened_at__isnull=False)),
        clicked=_count(Q(clicked_at__isnull=False)),
    )
    return Totals(**{key: value or 0 for key, value in row.items()})


def mailing_links(mailing: Mailing) -> list[LinkRow]:
    rows = (
        MailingLink.objects.filter(mailing=mailing)
        .annotate(
            people=Count("clicks", filter=Q(clicks__machine=False)),
            machine=Count("clicks", filter=Q(clicks__machine=True)),
        )
        .order_by("-people", "position")
    )
    return [
        LinkRow(url=r.url, position=r.position, people=r.people, machine=r.machine) for r in rows
    ]


def acts_after(mailing: Mailing) -> QuerySet[Activity]:
    """Acts by the mailing's recipients within ACTS_WINDOW after their own message was sent."""
    window = Delivery.objects.filter(mailing=mailing, sent_at__isnull=False).aggregate(
        first=Min("sent_at"), last=Max("sent_at")
    )
    if window["first"] is None:
        return Activity.objects.none()
    received = Delivery.objects.filter(
        mailing=mailing,
        person=OuterRef("person"),
        sent_at__lte=OuterRef("created_at"),
        sent_at__gte=OuterRef("created_at") - ACTS_WINDOW,
    )
    return (
        Activity.objects.filter(
            created_at__gte=window["first"], created_at__lte=window["last"] + ACTS_WINDOW
        )
        .exclude(kind__in=NOT_TAKING_PART)
        .filter(Exists(received))
    )


def mailing_acts(mailing: Mailing) -> list[ActRow]:
    rows = (
        acts_after(mailing)
        .order_by()
        .values("kind")
        .annotate(acts=Count("id"), people=Count("person", distinct=True), total=Sum("quantity"))
        .order_by("-acts", "kind")
    )
    return [
        ActRow(
            kind=r["kind"],
            label=kind_noun(r["kind"])[:1].upper() + kind_noun(r["kind"])[1:],
            acts=r["acts"],
            people=r["people"],
            amount=(r["total"] or 0) // per_unit(r["kind"]) if per_unit(r["kind"]) > 1 else None,
        )
        for r in rows
    ]


def mailing_variants(mailing: Mailing) -> list[VariantRow]:
    variants = list(mailing.variants.all())
    if not variants:
        return []
    rows = (
        Delivery.objects.filter(mailing=mailing, variant__isnull=False)
        .values("variant_id")
        .annotate(
            sent=_count(Q(status=DeliveryStatus.SENT)),
            opened_human=_count(Q(human_opened_at__isnull=False)),
            clicked=_count(Q(clicked_at__isnull=False)),
        )
    )
    counts: dict[int, tuple[int, int, int]] = {
        r["variant_id"]: (r["sent"], r["opened_human"], r["clicked"]) for r in rows
    }
    return [
        VariantRow(
            label=v.label,
            subject=v.subject,
            sent=counts.get(v.pk, (0, 0, 0))[0],
            opened_human=counts.get(v.pk, (0, 0, 0))[1],
            clicked=counts.get(v.pk, (0, 0, 0))[2],
            winner=v.pk == mailing.ab_winner_id,
        )
        for v in variants
    ]


def mailing_report(mailing: Mailing) -> Report:
    return Report(
        totals=mailing_totals(mailing),
        links=mailing_links(mailing),
        acts=mailing_acts(mailing),
        variants=mailing_variants(mailing),
    )


# --- opens and clicks over time ---------------------------------------------------------------


@dataclass(frozen=True)
class Bucket:
    start: datetime
    opens: int
    clicks: int


@dataclass(frozen=True)
class Series:
    unit: str  # "hour" or "day"
    buckets: list[Bucket]

    @property
    def empty(self) -> bool:
        return not any(b.opens or b.clicks for b in self.buckets)


def mailing_series(mailing: Mailing, *, now: datetime | None = None) -> Series:
    """Human opens and human clicks per hour (the first 72 hours) or per day, in the site's
    time zone, from the first message sent until now or the last event (two queries)."""
    start = (
        mailing.started_at
        or Delivery.objects.filter(mailing=mailing).aggregate(first=Min("sent_at"))["first"]
    )
    if start is None:
        return Series(unit="hour", buckets=[])
    now = now or timezone.now()
    zone = timezone.get_current_timezone()
    hourly = now - start <= HOURLY_SPAN
    trunc = TruncHour if hourly else TruncDay
    opens = dict(
        Delivery.objects.filter(mailing=mailing, human_opened_at__isnull=False)
        .annotate(bucket=trunc("human_opened_at", tzinfo=zone))
        .values("bucket")
        .annotate(n=Count("id"))
        .values_list("bucket", "n")
    )
    clicks = dict(
        Click.objects.filter(delivery__mailing=mailing, machine=False)
        .annotate(bucket=trunc("at", tzinfo=zone))
        .values("bucket")
        .annotate(n=Count("id"))
        .values_list("bucket", "n")
    )
    seen = [*opens, *clicks]
    last = max([now, *seen]) if seen else now
    buckets: list[Bucket] = []
    local = timezone.localtime(start, zone)
    if hourly:
        moment = local.replace(minute=0, second=0, microsecond=0)
        while moment <= last and len(buckets) < 72:
            buckets.append(Bucket(moment, opens.get(moment, 0), clicks.get(moment, 0)))
            # Step in UTC so a change of clocks neither repeats nor skips an hour.
            moment = (moment.astimezone(UTC) + timedelta(hours=1)).astimezone(zone)
    else:
        day = local.date()
        while len(buckets) < CHART_DAYS_MAX:
            moment = datetime.combine(day, time.min, tzinfo=zone)
            if moment > last:
                break
            buckets.append(Bucket(moment, opens.get(moment, 0), clicks.get(moment, 0)))
            day += timedelta(days=1)
    return Series(unit="hour" if hourly else "day", buckets=buckets)


# --- export -----------------------------------------------------------------------------------

EXPORT_HEADER = [
    "email",
    "given_name",
    "family_name",
    "status",
    "variant",
    "sent_at",
    "delivered_at",
    "opened_at",
    "human_opened_at",
    "opens",
    "clicked_at",
    "bounce",
    "bounced_at",
    "complained_at",
    "unsubscribed_at",
    "error",
    "rallypoint_id",
]


def _iso(value: datetime | None) -> str:
    return value.isoformat() if value else ""


def mailing_export_rows(mailing: Mailing, *, chunk_size: int = 2000) -> Iterator[list[str]]:
    """One row per recipient with what happened to their message, read in chunks (flat
    memory whatever the list size)."""
    rows = (
        Delivery.objects.filter(mailing=mailing)
        .order_by("pk")
        .values_list(
            "address",
            "person__given_name",
            "person__family_name",
            "status",
            "variant__label",
            "sent_at",
            "delivered_at",
            "opened_at",
            "human_opened_at",
            "open_count",
            "clicked_at",
            "bounce",
            "bounced_at",
            "complained_at",
            "unsubscribed_at",
            "last_error",
            "person__uuid",
        )
    )
    for row in rows.iterator(chunk_size=chunk_size):
        (address, given, family, status, variant, sent, delivered, opened, human, opens) = row[:10]
        (clicked, bounce, bounced, complained, unsubscribed, error, uuid) = row[10:]
        yield [
            address,
            given,
            family,
            status,
            variant or "",
            _iso(sent),
            _iso(delivered),
            _iso(opened),
            _iso(human),
            str(opens),
            _iso(clicked),
            bounce,
            _iso(bounced),
            _iso(complained),
            _iso(unsubscribed),
            error,
            str(uuid),
        ]
