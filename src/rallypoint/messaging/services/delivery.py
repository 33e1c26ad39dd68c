"""Sending a mailing: send now, schedule, pause, resume, cancel; the snapshot of its audience;
workers that claim deliveries, send them and mark them sent. Every recipient gets one message.

Status: draft → scheduled → calculating → sending (⇄ paused) → sent; cancelled from scheduled,
calculating, sending or paused. A scheduled mailing goes back to draft when it is unscheduled.

**The snapshot** (calculating → sending) writes one Delivery per recipient in two steps, each
one transaction with the mailing's row locked: the first SNAPSHOT_FIRST people, which starts
sending at once, then the rest, streamed from the database in chunks and written with
people.rows.insert_rows (COPY on PostgreSQL, one prepared INSERT on SQLite), so memory stays flat
whatever the list size. Delivery is unique per mailing and person; each step takes the people
after the last one taken, and a step that dies rolls back whole (see mailing_snapshot).

**Sending.** A send task claims a batch (MAILING_BATCH) with a lease: on PostgreSQL `SELECT …
FOR UPDATE SKIP LOCKED`, then an UPDATE of `claimed_at`/`claim_token`, committed; on SQLite one
claimer at a time (its transactions take the write lock at BEGIN). It re-checks suppression
(someone who unsubscribed, bounced or stopped this kind of mail since the snapshot is skipped),
renders and sends each message with no transaction open (EMAIL_TIMEOUT per server reply), and
marks what was accepted as sent in one UPDATE per group of MARK_EVERY messages (or every
MARK_SECONDS). A claim older than MAILING_LEASE_SECONDS belongs to a worker that died: any
worker may take it over. A worker stops a batch early, and gives its unsent claims back, when
the mailing is paused or cancelled or when its lease is running out; it claims nothing while
the route's hour is full (hourly_room).

**The one window.** Between the server accepting a message and the UPDATE that marks it sent,
a worker that dies (SIGKILL, power loss) leaves the delivery unmarked; once the lease expires it
is sent again. That window is at most the messages of one unmarked group (MARK_EVERY, or
MARK_SECONDS' worth). Every copy of a recipient's message carries the same Message-ID
(render.delivery_message_id), so receiving servers and mail clients that deduplicate by
Message-ID (Gmail and most others) show it once, and the copies are recognisable in logs.
Anything else (a worker killed before the server accepted, a connection lost, a pause, several
workers at once) sends nothing twice: a delivery is claimed by one worker at a time.

A mailing is sent (`finished_at`) when none of its deliveries is pending or held; a paused
mailing, or one whose worker crashed, resumes from the deliveries still pending.
"""

import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.core.validators import validate_email
from django.db import connection, transaction
from django.db.models import Case, Exists, F, Max, OuterRef, Q, Value, When
from django.db.models.functions import Lower
from django.utils import timezone

from rallypoint.core.audit import log_action
from rallypoint.core.sending import MailSender, SendFailed, SendRefused, rate_wait, route
from rallypoint.people.models import EmailStatus, PostalAddress
from rallypoint.people.rows import insert_rows

from ..models import Delivery, DeliveryStatus, Mailing, MailingStatus, MailPreference
from .audience import audience_count, audience_with_addresses
from .compose import from_addresses
from .render import (
    TEST_PREFIX,
    MailingTemplate,
    email_message,
    mailing_render,
    merge_values,
    message_raw,
)

logger = logging.getLogger(__name__)

SNAPSHOT_CHUNK = 5_000
SNAPSHOT_FIRST = 5_000  # people taken (and sending started) before the rest of the audience
MARK_EVERY = 25  # messages accepted before their UPDATE (the duplicate window after a crash)
MARK_SECONDS = 0.5
STATUS_CHECK_SECONDS = 1.0  # how often a sending worker looks for a pause or a cancel
RUN_SECONDS = 20.0  # one send task's turn before it queues the next and frees the worker
SEND_ATTEMPTS_MAX = 3  # claims of one delivery before it is failed for good
FAILURES_IN_A_ROW_MAX = 3  # the route is down: stop the batch, try again after the lease
STARTABLE = (MailingStatus.DRAFT, MailingStatus.SCHEDULED)
CANCELLABLE = (
    MailingStatus.SCHEDULED,
    MailingStatus.CALCULATING,
    MailingStatus.SENDING,
    MailingStatus.PAUSED,
)
UNFINISHED = (DeliveryStatus.PENDING, DeliveryStatus.HELD)
LEASE_RUNNING_OUT = "lease running out"
ROUTE_FAILING = "the sending route keeps failing"


def lease() -> timedelta:
    return timedelta(seconds=settings.MAILING_LEASE_SECONDS)


# --- results ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SendResult:
    mailing: Mailing
    status: str
    audience: int  # people it would reach as counted when sending was asked for


@dataclass(frozen=True)
class SnapshotResult:
    mailing_id: int
    taken: bool  # False: already taken, or the mailing was stopped or gone
    targeted: int = 0  # the whole audience, once the last step is done (0 before)
    sample: int = 0  # deliveries this step put in an A/B test's sample
    done: bool = True  # the audience is all taken


@dataclass(frozen=True)
class RunResult:
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    retry: int = 0  # refused for now, tried again after the lease
    finished: bool = False  # this run sent the mailing's last delivery
    more: bool = False  # deliveries are waiting that this worker could claim
    wait: float = 0.0  # seconds until sending may go on (the hourly rate limit), 0: now


@dataclass(frozen=True)
class TestSendResult:
    to: str
    subject: str
    message_id: str


# --- checks -----------------------------------------------------------------------------------


def mailing_problems(mailing: Mailing, *, audience: bool = True) -> list[str]:
    """What stops this mailing from being sent, in words an organizer can act on."""
    problems = []
    if not mailing.subject.strip():
        problems.append("Write a subject.")
    if not (mailing.body_html or "").strip():
        problems.append("Write the message.")
    allowed = [a.address for a in from_addresses()]
    if (mailing.from_address or "").lower() not in allowed:
        problems.append(
            "Send from one of the verified addresses: "
            + (", ".join(allowed) or "none is set up")
            + " (MAILING_FROM_ADDRESSES)."
        )
    if any(not v.subject.strip() for v in mailing.variants.all()):
        problems.append("Give every subject of the A/B test a text.")
    if audience and not mailing.include_segments.exists():
        problems.append("Choose at least one segment to send to.")
    return problems


def _check(mailing: Mailing, *, audience: bool = True) -> None:
    problems = mailing_problems(mailing, audience=audience)
    if problems:
        raise ValidationError(problems)


def _locked(mailing: Mailing | int) -> Mailing:
    pk = mailing if isinstance(mailing, int) else mailing.pk
    return Mailing.objects.select_for_update().get(pk=pk)


def _refuse(mailing: Mailing, what: str) -> ValidationError:
    return ValidationError(
        f"This mailing is {mailing.get_status_display().lower()}: it can't be {what}."
    )


def _sync(mailing: Mailing, locked: Mailing) -> None:
    """Copy what a service changed onto the caller's object."""
    for name in ("status", "scheduled_at", "started_at", "finished_at", "total_targeted"):
        setattr(mailing, name, getattr(locked, name))


def can_defer() -> bool:
    """Whether the task backend can run a task later (run_after): the database and Redis
    backends can, the immediate one (tests) cannot, and `rallypoint mailings_process` does the
    timed work then."""
    from django_tasks import task_backends

    return bool(getattr(task_backends["default"], "supports_defer", False))


# --- send now, schedule, pause, resume, cancel ------------------------------------------------


def _start(locked: Mailing, *, by, now: datetime) -> int:
    """Move a locked draft or scheduled mailing to calculating and queue its snapshot."""
    from ..tasks import enqueue_on_commit, mailing_snapshot_task

    _check(locked)
    audience = audience_count(locked)
    if audience == 0:
        raise ValidationError(
            "Nobody in this audience can receive it: the segments are empty, or everyone in "
            "them is unsubscribed, bouncing or excluded."
        )
    locked.status = MailingStatus.CALCULATING
    locked.started_at = now
    locked.save(update_fields=["status", "started_at", "modified_at"])
    log_action("mailing.send", obj=locked, actor=by, data={"audience": audience})
    enqueue_on_commit(mailing_snapshot_task, locked.pk)
    return audience


def mailing_send(mailing: Mailing, *, by=None) -> SendResult:
    """Send a draft (or a scheduled mailing) now: its audience is taken by the snapshot task,
    then the send tasks deliver it."""
    with transaction.atomic():
        locked = _locked(mailing)
        if locked.status not in STARTABLE:
            raise _refuse(locked, "sent again")
        audience = _start(locked, by=by, now=timezone.now())
    _sync(mailing, locked)
    return SendResult(mailing=mailing, status=locked.status, audience=audience)


def mailing_schedule(mailing: Mailing, *, at: datetime, by=None) -> SendResult:
    """Send a draft at `at` (a scheduled mailing can be moved to another time)."""
    from ..tasks import mailing_start_task

    now = timezone.now()
    if at is None or timezone.is_naive(at):
        raise ValidationError("Give the date and time to send it, with its time zone.")
    if at <= now:
        raise ValidationError("Pick a time in the future.")
    with transaction.atomic():
        locked = _locked(mailing)
        if locked.status not in STARTABLE:
            raise _refuse(locked, "scheduled")
        _check(locked)
        audience = audience_count(locked)
        if audience == 0:
            raise ValidationError("Nobody in this audience can receive it.")
        locked.status = MailingStatus.SCHEDULED
        locked.scheduled_at = at
        locked.save(update_fields=["status", "scheduled_at", "modified_at"])
        log_action("mailing.scheduled", obj=locked, actor=by, data={"at": at.isoformat()})
        if can_defer():
            transaction.on_commit(
                lambda: mailing_start_task.using(run_after=at).enqueue(locked.pk, at.isoformat())
            )
    _sync(mailing, locked)
    return SendResult(mailing=mailing, status=locked.status, audience=audience)


def mailing_unschedule(mailing: Mailing, *, by=None) -> Mailing:
    """A scheduled mailing back to draft (to be edited)."""
    with transaction.atomic():
        locked = _locked(mailing)
        if locked.status != MailingStatus.SCHEDULED:
            raise _refuse(locked, "unscheduled")
        locked.status = MailingStatus.DRAFT
        locked.scheduled_at = None
        locked.save(update_fields=["status", "scheduled_at", "modified_at"])
        log_action("mailing.unscheduled", obj=locked, actor=by)
    _sync(mailing, locked)
    return mailing


def mailing_start_due(mailing_id: int, *, now: datetime | None = None) -> bool:
    """Start a scheduled mailing whose time has come (from its timed task or from
    `mailings_process`; safe to run twice). A mailing that can no longer be sent (its audience
    emptied, its sender address removed) goes back to draft, with the reason in its log."""
    now = now or timezone.now()
    with transaction.atomic():
        locked = Mailing.objects.select_for_update().filter(pk=mailing_id).first()
        if locked is None or locked.status != MailingStatus.SCHEDULED:
            return False
        if locked.scheduled_at is not None and locked.scheduled_at > now:
            return False
        try:
            with transaction.atomic():
                _start(locked, by=None, now=now)
        except ValidationError as exc:
            locked.status = MailingStatus.DRAFT
            locked.save(update_fields=["status", "modified_at"])
            log_action("mailing.schedule_failed", obj=locked, data={"reasons": exc.messages})
            return False
    return True


def mailing_pause(mailing: Mailing, *, by=None) -> Mailing:
    """Stop sending for now: workers give their unsent claims back within about a second."""
    with transaction.atomic():
        locked = _locked(mailing)
        if locked.status != MailingStatus.SENDING:
            raise _refuse(locked, "paused")
        locked.status = MailingStatus.PAUSED
        locked.save(update_fields=["status", "modified_at"])
        log_action("mailing.paused", obj=locked, actor=by)
    _sync(mailing, locked)
    return mailing


def mailing_resume(mailing: Mailing, *, by=None) -> Mailing:
    """Go on sending a paused mailing from where it stopped."""
    with transaction.atomic():
        locked = _locked(mailing)
        if locked.status != MailingStatus.PAUSED:
            raise _refuse(locked, "resumed")
        locked.status = MailingStatus.SENDING
        locked.save(update_fields=["status", "modified_at"])
        log_action("mailing.resumed", obj=locked, actor=by)
        _send_tasks_queue(locked.pk)
    _sync(mailing, locked)
    return mailing


def mailing_cancel(mailing: Mailing, *, by=None) -> Mailing:
    """Stop for good. What was sent stays sent (and in the report); nobody else gets it."""
    with transaction.atomic():
        locked = _locked(mailing)
        if locked.status not in CANCELLABLE:
            raise _refuse(locked, "cancelled")
        locked.status = MailingStatus.CANCELLED
        locked.finished_at = timezone.now()
        locked.save(update_fields=["status", "finished_at", "modified_at"])
        log_action("mailing.cancelled", obj=locked, actor=by)
    _sync(mailing, locked)
    return mailing


def mailing_test_send(mailing: Mailing, *, to: str, person=None, by=None) -> TestSendResult:
    """Send one copy to `to` (the organizer's own address), "[Test]" in front of its subject,
    with `person`'s merge fields (none: the fallbacks). Not a delivery: never counted, never
    tracked, its unsubscribe links lead nowhere. Sent now, outside any transaction."""
    to = (to or "").strip()
    try:
        validate_email(to)
    except ValidationError:
        raise ValidationError("Enter the email address to send the test to.") from None
    _check(mailing, audience=False)
    rendered = mailing_render(mailing, person=person, subject=TEST_PREFIX + mailing.subject)
    message = email_message(mailing, rendered, to=to)
    with MailSender() as sender:
        try:
            sender.send(message, raw=message_raw(message))
        except (SendRefused, SendFailed) as exc:
            raise ValidationError(f"The test could not be sent: {exc}") from exc
    log_action("mailing.test_sent", obj=mailing, actor=by, data={"to": to})
    return TestSendResult(to=to, subject=rendered.subject, message_id=rendered.message_id)


# --- the snapshot -----------------------------------------------------------------------------


# Columns the snapshot writes. The nullable ones are given (None) rather than left to their
# defaults, which insert_rows would otherwise work out again for every row.
_SNAPSHOT_COLUMNS = ["mailing_id", "person_id", "address", "status", "variant_id"]
_SNAPSHOT_NULLS = [
    f.attname
    for f in Delivery._meta.concrete_fields
    if f.null and not f.has_default() and f.attname not in _SNAPSHOT_COLUMNS and not f.primary_key
]


def _snapshot_write(mailing: Mailing, rows, sample) -> int:
    """Write the deliveries of (person id, address) `rows`, SNAPSHOT_CHUNK at a time."""
    columns = _SNAPSHOT_COLUMNS + _SNAPSHOT_NULLS
    nulls = (None,) * len(_SNAPSHOT_NULLS)
    chunk: list[tuple] = []
    written = 0
    for person_id, address in rows:
        status, variant_id = sample.assign()
        chunk.append((mailing.pk, person_id, address, status, variant_id, *nulls))
        if len(chunk) >= SNAPSHOT_CHUNK:
            insert_rows(Delivery, columns, chunk)
            written += len(chunk)
            chunk = []
    if chunk:
        insert_rows(Delivery, columns, chunk)
        written += len(chunk)
    return written


def mailing_snapshot(mailing_id: int, *, first_part: int = SNAPSHOT_FIRST) -> SnapshotResult:
    """Take the audience of a mailing into its deliveries (the snapshot task).

    In two steps, so the first messages leave within seconds whatever the list size: the first
    `first_part` people (by id) in one transaction, which also starts sending (calculating →
    sending) and queues the send tasks; then, queued behind them, the rest in one streamed
    transaction, which sets `total_targeted` (until then the mailing cannot be finished). Each
    step locks the mailing's row and starts after the last person already taken, so running it
    again, or twice at once, takes nobody twice; a step that dies rolls back whole and is taken
    again by the next run (the watch, `mailings_process`)."""
    from ..tasks import enqueue_on_commit, mailing_snapshot_task
    from .ab import AbSample
    from .tracking import mailing_links_freeze

    with transaction.atomic():
        mailing = Mailing.objects.select_for_update().filter(pk=mailing_id).first()
        if mailing is None or not _snapshot_open(mailing):
            return SnapshotResult(mailing_id=mailing_id, taken=False)
        sample = AbSample.for_mailing(mailing)
        deliveries = Delivery.objects.filter(mailing=mailing)
        after = deliveries.aggregate(last=Max("person_id"))["last"] or 0
        audience = audience_with_addresses(mailing).filter(pk__gt=after)
        first = mailing.status == MailingStatus.CALCULATING
        if first:
            rows = list(audience[:first_part])
            _snapshot_write(mailing, rows, sample)
            done = len(rows) < first_part
        else:
            _snapshot_write(mailing, audience.iterator(chunk_size=SNAPSHOT_CHUNK), sample)
            done = True
        now = timezone.now()
        fields = ["modified_at"]
        if done:
            mailing.total_targeted = deliveries.count()
            fields.append("total_targeted")
        if mailing.total_targeted == 0 and done:
            mailing.status = MailingStatus.SENT
            mailing.finished_at = now
            fields += ["status", "finished_at"]
        elif first:
            mailing.status = MailingStatus.SENDING
            fields.append("status")
            if sample.testing:
                mailing.ab_decide_at = now + timedelta(minutes=mailing.ab_wait_minutes)
                fields.append("ab_decide_at")
        mailing.save(update_fields=fields)
        if first:
            mailing_links_freeze(mailing)
        if first and mailing.status == MailingStatus.SENDING:
            _send_tasks_queue(mailing.pk)
            _watch_queue(mailing.pk)
            if sample.testing:
                _ab_decide_queue(mailing.pk, mailing.ab_decide_at)
        if not done:
            enqueue_on_commit(mailing_snapshot_task, mailing.pk)
        elif not first and mailing.status == MailingStatus.SENDING:
            # The first part's senders may have run out of work and stopped meanwhile.
            _send_tasks_queue(mailing.pk)
    return SnapshotResult(
        mailing_id=mailing_id,
        taken=True,
        targeted=mailing.total_targeted or 0,
        sample=sample.sampled,
        done=done,
    )


def _snapshot_finish(mailing_id: int) -> bool:
    """Take whatever is left of a mailing's audience now (both steps if need be)."""
    took = False
    for _ in range(2):
        result = mailing_snapshot(mailing_id)
        took = took or result.taken
        if not result.taken or result.done:
            break
    return took


def _snapshot_open(mailing: Mailing) -> bool:
    """Whether the mailing's audience is still being taken."""
    if mailing.status == MailingStatus.CALCULATING:
        return True
    return mailing.total_targeted is None and mailing.status in (
        MailingStatus.SENDING,
        MailingStatus.PAUSED,
    )


# --- claiming ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Claim:
    token: str
    ids: list[int]
    at: datetime
    # Nothing claimed because the route's hourly limit is used up: seconds until the oldest
    # message counted leaves the hour (0: not limited).
    wait: float = 0.0


# A key of PostgreSQL's advisory locks, taken for the length of a claim's transaction.
HOURLY_LOCK = 0x5250_4D48  # "RPMH"

# The route's hourly limit is a sliding hour counted in the database, so it holds across every
# worker and restart, at any clock time: the messages sent in the last 3,600 seconds (through any
# mailing) plus those claimed and about to be sent. A claim takes at most what is left.
HOUR = timedelta(hours=1)


def _counted_in_hour(now: datetime):
    sent = Delivery.objects.filter(sent_at__gte=now - HOUR)
    in_flight = Delivery.objects.filter(
        status=DeliveryStatus.PENDING, claimed_at__gte=now - lease()
    ).exclude(claim_token="")
    return sent, in_flight


def hourly_room(per_hour: int, now: datetime) -> tuple[int, float]:
    """(messages that may still be claimed now, seconds to wait when none may) under a limit of
    `per_hour` messages in any hour."""
    sent, in_flight = _counted_in_hour(now)
    used = sent.count() + in_flight.count()
    if used < per_hour:
        return per_hour - used, 0.0
    # One more may go when the (used - per_hour + 1)-th oldest message sent leaves the hour.
    excess = used - per_hour
    oldest = sent.order_by("sent_at").values_list("sent_at", flat=True)[excess : excess + 1]
    leaves = next(iter(oldest), None)
    if leaves is None:  # only claims in flight: they are sent or lapse within a lease
        return 0, float(settings.MAILING_LEASE_SECONDS)
    return 0, max((leaves + HOUR - now).total_seconds(), 1.0)


def _claimable(mailing_id: int, now: datetime):
    return Delivery.objects.filter(
        mailing_id=mailing_id,
        status=DeliveryStatus.PENDING,
        mailing__status=MailingStatus.SENDING,
    ).filter(Q(claimed_at__isnull=True) | Q(claimed_at__lt=now - lease()))


def deliveries_claim(mailing_id: int, *, limit: int, now: datetime | None = None) -> Claim:
    """Take the lease on up to `limit` pending deliveries of a sending mailing that nobody holds
    (or whose holder's lease expired). Committed before it returns."""
    now = now or timezone.now()
    token = uuid.uuid4().hex
    claimable = _claimable(mailing_id, now).order_by()
    per_hour = route().per_hour
    with transaction.atomic():
        if per_hour > 0:
            if connection.vendor == "postgresql":
                # Claimers count the hour one at a time (SQLite: the write lock already does).
                with connection.cursor() as cursor:
                    cursor.execute("SELECT pg_advisory_xact_lock(%s)", [HOURLY_LOCK])
            room, wait = hourly_room(per_hour, now)
            if not room:
                return Claim(token=token, ids=[], at=now, wait=wait)
            limit = min(limit, room)
        if connection.vendor == "postgresql":
            # Rows another worker is claiming right now are skipped, not waited for.
            ids = list(
                claimable.select_for_update(skip_locked=True, of=("self",)).values_list(
                    "pk", flat=True
                )[:limit]
            )
        else:
            # SQLite: this transaction holds the database's write lock from its start, so
            # nobody claims between this read and the update.
            ids = list(claimable.order_by("pk").values_list("pk", flat=True)[:limit])
        if ids:
            Delivery.objects.filter(pk__in=ids).update(
                claimed_at=now, claim_token=token, attempts=F("attempts") + 1
            )
    return Claim(token=token, ids=sorted(ids), at=now)


def _release(ids: list[int], token: str, *, lapse: bool = False) -> None:
    """Give back claims that were not tried (the attempt they counted is taken back): free at
    once, or, with `lapse`, when the lease runs out."""
    if ids:
        changes = {"claim_token": "", "attempts": F("attempts") - 1}
        if not lapse:
            changes["claimed_at"] = None
        Delivery.objects.filter(
            pk__in=ids, claim_token=token, status=DeliveryStatus.PENDING
        ).update(**changes)


def _skip_suppressed(mailing: Mailing, claim: Claim) -> int:
    """Deliveries of the claim whose address stopped being subscribed since the snapshot, or
    whose person stopped this kind of mail, are skipped (one UPDATE)."""
    still_subscribed = Exists(
        # The snapshot's address, as the matching module keys it.
        _addresses().filter(
            person_id=OuterRef("person_id"),
            address_normalized=Lower(OuterRef("address")),
            status=EmailStatus.SUBSCRIBED,
        )
    )
    stopped_kind = Exists(
        MailPreference.objects.filter(person_id=OuterRef("person_id"), kind=mailing.kind)
    )
    return (
        Delivery.objects.filter(pk__in=claim.ids, claim_token=claim.token)
        .filter(~still_subscribed | stopped_kind)
        .update(
            status=DeliveryStatus.SKIPPED,
            claimed_at=None,
            claim_token="",
            last_error="Suppressed after the audience was taken.",
        )
    )


def _addresses():
    from rallypoint.people.models import EmailAddress

    return EmailAddress.objects.all()


# --- sending a batch --------------------------------------------------------------------------


class _Marks:
    """Outcomes waiting for their UPDATE: sent (with the provider's id), failed for good,
    refused for now. Flushed every MARK_EVERY messages or MARK_SECONDS, and at the end."""

    def __init__(self, token: str, clock: Callable[[], float]):
        self.token = token
        self.clock = clock
        self.sent: list[tuple[int, str]] = []
        self.failed: list[tuple[int, str]] = []
        self.retry: list[tuple[int, str]] = []
        self.last_flush = clock()
        self.totals = {"sent": 0, "failed": 0, "retry": 0}

    def due(self) -> bool:
        return len(self.sent) >= MARK_EVERY or (
            bool(self.sent or self.failed or self.retry)
            and self.clock() - self.last_flush >= MARK_SECONDS
        )

    def flush(self) -> None:
        now = timezone.now()
        if self.sent:
            ids = [pk for pk, _ in self.sent]
            changes: dict = {"status": DeliveryStatus.SENT, "sent_at": now, "claimed_at": None}
            provider = [(pk, pid) for pk, pid in self.sent if pid]
            if provider:
                changes["provider_message_id"] = Case(
                    *(When(pk=pk, then=Value(pid)) for pk, pid in provider),
                    default=F("provider_message_id"),
                )
            # Marked whoever holds the claim now: the message went out.
            Delivery.objects.filter(pk__in=ids, status=DeliveryStatus.PENDING).update(
                claim_token="", last_error="", **changes
            )
        for pk, error in self.failed:
            Delivery.objects.filter(pk=pk, status=DeliveryStatus.PENDING).update(
                status=DeliveryStatus.FAILED, claimed_at=None, claim_token="", last_error=error
            )
        for pk, error in self.retry:
            # Given up for good after SEND_ATTEMPTS_MAX claims; otherwise the claim is kept
            # (without its token) and lapses after the lease: the retry waits that long.
            Delivery.objects.filter(pk=pk, status=DeliveryStatus.PENDING).update(
                status=Case(
                    When(attempts__gte=SEND_ATTEMPTS_MAX, then=Value(DeliveryStatus.FAILED)),
                    default=Value(DeliveryStatus.PENDING),
                ),
                claim_token="",
                last_error=error,
            )
        self.totals["sent"] += len(self.sent)
        self.totals["failed"] += len(self.failed)
        self.totals["retry"] += len(self.retry)
        self.sent, self.failed, self.retry = [], [], []
        self.last_flush = self.clock()


def _places(person_ids: list[int]) -> dict[int, tuple[str, str]]:
    places: dict[int, tuple[str, str]] = {}
    rows = (
        PostalAddress.objects.filter(person_id__in=person_ids, primary=True)
        .order_by("pk")
        .values_list("person_id", "locality", "postal_code")
    )
    for person_id, locality, postal_code in rows:
        places.setdefault(person_id, (locality, postal_code))
    return places


@dataclass
class _BatchOutcome:
    skipped: int = 0
    stopped: str = ""  # why the batch ended early ("" when it went through)


class _Prepared(NamedTuple):
    delivery: Delivery
    message: EmailMessage | None
    error: str


def _prepare(template: MailingTemplate, delivery: Delivery, places: dict) -> _Prepared:
    """One recipient's message, ready for the route (or why it could not be made)."""
    try:
        values = merge_values(
            delivery.person,
            email=delivery.address,
            place=places.get(delivery.person_id, ("", "")),
        )
        subject = delivery.variant.subject if delivery.variant_id and delivery.variant else None
        rendered = template.render(values=values, delivery=delivery, subject=subject)
        message = email_message(
            template.mailing,
            rendered,
            to=delivery.address,
            delivery=delivery,
            from_header=template.from_header,
        )
    except Exception as exc:  # a message that cannot be made fails alone
        logger.exception("delivery %s not rendered", delivery.pk)
        return _Prepared(delivery, None, f"not rendered: {type(exc).__name__}: {exc}"[:500])
    return _Prepared(delivery, message, "")


def _send_batch(
    mailing: Mailing,
    template: MailingTemplate,
    claim: Claim,
    sender: MailSender,
    marks: _Marks,
    *,
    clock: Callable[[], float],
) -> _BatchOutcome:
    outcome = _BatchOutcome(skipped=_skip_suppressed(mailing, claim))
    deliveries = list(
        Delivery.objects.filter(
            pk__in=claim.ids, claim_token=claim.token, status=DeliveryStatus.PENDING
        )
        .select_related("person", "variant")
        .order_by("pk")
    )
    places = _places([d.person_id for d in deliveries])
    current = route()
    claimed_at = clock()
    # Stop well before the lease lapses, so no other worker takes over a claim still in use.
    lease_budget = settings.MAILING_LEASE_SECONDS * 0.8
    last_check = clock()
    failures_in_a_row = 0
    untried: list[int] = []
    for index in range(len(deliveries)):
        now_s = clock()
        if now_s - last_check >= STATUS_CHECK_SECONDS:
            last_check = now_s
            status = Mailing.objects.filter(pk=mailing.pk).values_list("status", flat=True).first()
            if status != MailingStatus.SENDING:
                outcome.stopped = f"mailing {status}"
        if not outcome.stopped and now_s - claimed_at > lease_budget:
            outcome.stopped = LEASE_RUNNING_OUT
        if not outcome.stopped and failures_in_a_row >= FAILURES_IN_A_ROW_MAX:
            outcome.stopped = ROUTE_FAILING
        if outcome.stopped:
            untried = [d.pk for d in deliveries[index:]]
            break
        delivery, message, error = _prepare(template, deliveries[index], places)
        if message is None:
            marks.failed.append((delivery.pk, error))
            continue
        rate_wait(current)
        try:
            provider_id = sender.send(message, raw=message_raw(message))
        except SendRefused as exc:
            marks.failed.append((delivery.pk, str(exc)[:500]))
            failures_in_a_row = 0
        except SendFailed as exc:
            marks.retry.append((delivery.pk, str(exc)[:500]))
            failures_in_a_row += 1
        else:
            marks.sent.append((delivery.pk, provider_id))
            failures_in_a_row = 0
        if marks.due():
            marks.flush()
    marks.flush()
    # Failing route: the untried wait out the lease like the refused ones, instead of being
    # tried again at once by the next run.
    _release(untried, claim.token, lapse=outcome.stopped == ROUTE_FAILING)
    return outcome


def mailing_send_run(
    mailing_id: int,
    *,
    seconds: float = RUN_SECONDS,
    clock: Callable[[], float] = time.monotonic,
) -> RunResult:
    """One worker's turn at a sending mailing: claim a batch, send it, and again, for about
    `seconds`, over one connection to the route. Safe beside any number of other runs."""
    mailing = Mailing.objects.select_related("campaign").filter(pk=mailing_id).first()
    if mailing is None or mailing.status != MailingStatus.SENDING:
        return RunResult()
    template = MailingTemplate(mailing)
    template.links_freeze()
    started = clock()
    totals = {"sent": 0, "failed": 0, "retry": 0, "skipped": 0}
    wait = 0.0
    stopped = ""
    with MailSender() as sender:
        while clock() - started < seconds:
            claim = deliveries_claim(mailing_id, limit=settings.MAILING_BATCH)
            if claim.wait:
                stopped, wait = "rate limit", claim.wait
                break
            if not claim.ids:
                break
            marks = _Marks(claim.token, clock)
            try:
                outcome = _send_batch(mailing, template, claim, sender, marks, clock=clock)
            finally:
                marks.flush()
            for key, count in marks.totals.items():
                totals[key] += count
            totals["skipped"] += outcome.skipped
            if outcome.stopped:
                stopped = outcome.stopped
                break
    finished = mailing_finish_if_done(mailing_id)
    # Go on unless the mailing was stopped, the rate limit or a failing route asks to wait (the
    # claims then lapse after the lease; the watch, or the queued run, comes back).
    more = (
        not finished
        and stopped in ("", LEASE_RUNNING_OUT)
        and _claimable(mailing_id, timezone.now()).exists()
    )
    return RunResult(
        sent=totals["sent"],
        failed=totals["failed"],
        skipped=totals["skipped"],
        retry=totals["retry"],
        finished=finished,
        more=more,
        wait=wait,
    )


def mailing_finish_if_done(mailing_id: int) -> bool:
    """A sending mailing whose audience is all taken and none of whose deliveries is pending
    or held is sent. True when this call made it so."""
    if Delivery.objects.filter(mailing_id=mailing_id, status__in=UNFINISHED).exists():
        return False
    return bool(
        Mailing.objects.filter(
            pk=mailing_id, status=MailingStatus.SENDING, total_targeted__isnull=False
        ).update(status=MailingStatus.SENT, finished_at=timezone.now())
    )


# --- the tasks' queueing ----------------------------------------------------------------------


def _send_tasks_queue(mailing_id: int) -> None:
    from ..tasks import enqueue_on_commit, mailing_send_task

    for _ in range(settings.MAILING_CONCURRENCY):
        enqueue_on_commit(mailing_send_task, mailing_id)


def _watch_queue(mailing_id: int, *, now: datetime | None = None) -> None:
    """The watch of a sending mailing: a timed task every lease that restarts sending when
    every worker that was sending it died (the backend can run tasks later only)."""
    if not can_defer():
        return
    from ..tasks import mailing_watch_task

    at = (now or timezone.now()) + lease() + timedelta(seconds=5)
    transaction.on_commit(lambda: mailing_watch_task.using(run_after=at).enqueue(mailing_id))


def _ab_decide_queue(mailing_id: int, at: datetime | None) -> None:
    if not can_defer() or at is None:
        return
    from ..tasks import mailing_ab_decide_task

    transaction.on_commit(lambda: mailing_ab_decide_task.using(run_after=at).enqueue(mailing_id))


def mailing_stalled(mailing_id: int, *, now: datetime | None = None) -> bool:
    """A sending mailing with deliveries waiting, none claimed by a live worker and none sent
    within the lease: whoever was sending it is gone."""
    now = now or timezone.now()
    deliveries = Delivery.objects.filter(mailing_id=mailing_id)
    if not _claimable(mailing_id, now).exists():
        return False
    live = deliveries.filter(status=DeliveryStatus.PENDING, claimed_at__gte=now - lease()).exclude(
        claim_token=""
    )
    if live.exists():
        return False
    return not deliveries.filter(status=DeliveryStatus.SENT, sent_at__gte=now - lease()).exists()


def mailing_watch(mailing_id: int, *, now: datetime | None = None) -> bool:
    """The watch's run: restart sending a stalled mailing, and watch again while the mailing is
    sending or paused. True when it restarted sending."""
    now = now or timezone.now()
    status = Mailing.objects.filter(pk=mailing_id).values_list("status", flat=True).first()
    if status not in (MailingStatus.SENDING, MailingStatus.PAUSED):
        return False
    restarted = False
    started = Mailing.objects.filter(pk=mailing_id, total_targeted__isnull=True).values_list(
        "started_at", flat=True
    )
    if any(at is not None and at < now - lease() for at in started):
        restarted = _snapshot_finish(mailing_id)  # the rest of the audience was never taken
    with transaction.atomic():
        if status == MailingStatus.SENDING and mailing_stalled(mailing_id, now=now):
            _send_tasks_queue(mailing_id)
            restarted = True
        _watch_queue(mailing_id, now=now)
    return restarted


# --- the timed work ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ProcessResult:
    started: int = 0  # scheduled mailings whose time came
    snapshots: int = 0  # snapshots whose task was lost, taken now
    decided: int = 0  # A/B tests decided
    restarted: int = 0  # sending mailings whose workers were gone, queued again
    finished: int = 0  # sending mailings found complete

    def as_dict(self) -> dict[str, int]:
        return {
            "started": self.started,
            "snapshots": self.snapshots,
            "decided": self.decided,
            "restarted": self.restarted,
            "finished": self.finished,
        }


def mailings_process(*, now: datetime | None = None) -> ProcessResult:
    """Everything timed about mailings, for cron (`rallypoint mailings_process`) or a backend
    that cannot run tasks later: start scheduled mailings that are due, take snapshots whose
    task was lost, decide due A/B tests, restart stalled sending and finish complete mailings.
    Idempotent: safe to run as often as you like, beside running workers."""
    from ..tasks import enqueue_on_commit, mailing_send_task
    from .ab import ab_decide

    now = now or timezone.now()
    due = Mailing.objects.filter(status=MailingStatus.SCHEDULED, scheduled_at__lte=now)
    started = sum(mailing_start_due(pk, now=now) for pk in due.values_list("pk", flat=True))
    # A snapshot whose task was lost: calculating, or sending with its audience not all taken,
    # a lease after sending was asked for.
    lost = (
        Mailing.objects.filter(started_at__lt=now - lease())
        .filter(
            Q(status=MailingStatus.CALCULATING)
            | Q(
                status__in=(MailingStatus.SENDING, MailingStatus.PAUSED),
                total_targeted__isnull=True,
            )
        )
        .values_list("pk", flat=True)
    )
    snapshots = sum(_snapshot_finish(pk) for pk in lost)
    testing = Mailing.objects.filter(
        status__in=(MailingStatus.SENDING, MailingStatus.PAUSED),
        ab_winner__isnull=True,
        ab_decide_at__lte=now,
    ).values_list("pk", flat=True)
    decided = sum(ab_decide(pk, now=now) is not None for pk in testing)
    restarted = finished = 0
    sending = Mailing.objects.filter(status=MailingStatus.SENDING).values_list("pk", flat=True)
    for pk in sending:
        if mailing_finish_if_done(pk):
            finished += 1
        elif mailing_stalled(pk, now=now):
            for _ in range(settings.MAILING_CONCURRENCY):
                enqueue_on_commit(mailing_send_task, pk)
            restarted += 1
    return ProcessResult(
        started=started,
        snapshots=snapshots,
        decided=decided,
        restarted=restarted,
        finished=finished,
    )


def mailings_send_until_done(
    *, mailing_id: int | None = None, idle_exit: bool = True, poll: float = 1.0
) -> RunResult:
    """Send in the foreground (`rallypoint mailings_send`): runs over every sending mailing (or
    one) until nothing is left to claim (`idle_exit`), or forever, polling every `poll` s."""
    sent = failed = skipped = 0
    while True:
        ids = (
            [mailing_id]
            if mailing_id is not None
            else list(
                Mailing.objects.filter(status=MailingStatus.SENDING).values_list("pk", flat=True)
            )
        )
        worked = False
        for pk in ids:
            result = mailing_send_run(pk, seconds=RUN_SECONDS)
            sent, failed, skipped = (
                sent + result.sent,
                failed + result.failed,
                skipped + result.skipped,
            )
            worked = worked or bool(result.sent or result.failed or result.skipped or result.more)
        if not worked:
            if idle_exit:
                return RunResult(sent=sent, failed=failed, skipped=skipped)
            time.sleep(poll)
