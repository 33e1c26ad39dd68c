"""Mailing send benchmark: a mailing to N people through the real pipeline, against plain smtplib.

    .venv/bin/python bench/mail_send.py                       # SQLite, 100,000 people
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/rp_bench_mail \\
        .venv/bin/python bench/mail_send.py                   # PostgreSQL
    DATABASE_URL=… .venv/bin/python bench/mail_send.py --people 1000000 --snapshot-only

Loads N people once (reused while the count matches; an empty database otherwise): names (5%
without a first name, for the merge fallback), a subscribed primary email (3% unsubscribed,
left out by the audience), a primary postal address for half of them. Then, each phase in a
fresh child process so each reports its own peak RSS (resource.getrusage):

- snapshot: `mailing_send` (checks, live count) and both steps of the snapshot, in-process;
  `--snapshot-only` stops here;
- baseline: plain smtplib over one connection, sending pre-rendered messages of this very
  mailing (1,000 distinct ones, built untimed, sent in turn N times), before and after the
  pipeline (the ratio is to the mean of the two);
- pipeline: `mailing_send` in the phase's process, then everything else in a real task worker
  (`rallypoint db_worker --interval 1`, as `rallypoint serve` runs it): the snapshot, the send
  tasks (claim a batch with a lease, re-check suppression, render with merge fields, the brand
  wrapper, signed click links and the open pixel, send over one connection, mark sent) until
  the mailing is sent.

Both send to a local SMTP sink (aiosmtpd, its own process) that counts messages and distinct
Message-IDs. Printed: messages/s of both and the ratio, time from "send" to the first message the
sink accepted, the snapshot's time, peak RSS (the task worker's for the pipeline).
Targets (the Email issue): >= 50% of the baseline's messages/s; peak RSS < 300 MB and flat with
list size; first message within 5 s; 1M snapshot < 60 s on PostgreSQL.
"""

import argparse
import json
import os
import resource
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = "mail-bench"
BODY = (
    "<h2>Hi {{ first_name | friend }},</h2>"
    "<p>We are {{ city | near you }} this weekend, and we need you. Sign the petition, then "
    'bring one friend: <a href="{site}/act/clean-air/" class="button">Sign now</a></p>'
    '<p>Read <a href="https://example.org/report">the report</a> or '
    '<a href="{site}/events/">find an event</a>.</p>'
    "<ul><li>Saturday 10:00, the park</li><li>Sunday 14:00, city hall</li></ul>"
    "<p>Thank you, {{ full_name | friend }}.</p>"
)
PRE_RENDERED = 1_000


def setup_django(people: int, *, task_backend: str = "dummy") -> None:
    sys.path.insert(0, str(ROOT / "src"))
    sys.path.insert(0, str(ROOT))
    if not os.environ.get("DATABASE_URL"):
        os.environ.setdefault(
            "RALLYPOINT_VAR_DIR", str(Path(tempfile.gettempdir()) / f"rp-bench-mail-{people}")
        )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rallypoint.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    # Only the pipeline queues tasks for real (for its task worker); the other phases call the
    # services themselves.
    os.environ["TASK_BACKEND"] = task_backend
    os.environ.pop("REDIS_URL", None)
    import django

    django.setup()


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# --- the sink ---------------------------------------------------------------------------------


def run_sink(port: int, stats_file: str) -> None:
    """A counting SMTP server; SIGUSR1 writes and resets its counts, SIGTERM stops it."""
    import logging
    import re

    from aiosmtpd.controller import Controller

    logging.getLogger("mail.log").setLevel(logging.WARNING)
    message_id = re.compile(rb"^Message-ID:\s*(.+?)\r?$", re.MULTILINE | re.IGNORECASE)
    state = {"count": 0, "first": None, "last": None, "ids": set(), "bytes": 0}

    class Handler:
        async def handle_DATA(self, server, session, envelope):  # noqa: N802
            now = time.time()
            if state["first"] is None:
                state["first"] = now
            state["last"] = now
            state["count"] += 1
            state["bytes"] += len(envelope.content)
            found = message_id.search(envelope.content)
            if found:
                state["ids"].add(found.group(1))
            return "250 OK"

    def dump(*_):
        Path(stats_file).write_text(
            json.dumps(
                {
                    "count": state["count"],
                    "distinct_ids": len(state["ids"]),
                    "first": state["first"],
                    "last": state["last"],
                    "bytes": state["bytes"],
                }
            )
        )
        state.update(count=0, first=None, last=None, ids=set(), bytes=0)

    stop = []
    signal.signal(signal.SIGUSR1, dump)
    signal.signal(signal.SIGTERM, lambda *_: stop.append(1))
    controller = Controller(Handler(), hostname="127.0.0.1", port=port, decode_data=False)
    controller.start()
    Path(stats_file + ".ready").write_text("1")
    try:
        while not stop:
            time.sleep(0.05)
    finally:
        controller.stop()


class Sink:
    def __init__(self) -> None:
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.stats = tempfile.mktemp(prefix="rp-mail-sink-")  # noqa: S306 - a bench's scratch
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--sink", str(self.port), "--stats", self.stats]
        )
        deadline = time.time() + 20
        while not Path(self.stats + ".ready").exists():
            if time.time() > deadline:
                raise RuntimeError("the SMTP sink did not start")
            time.sleep(0.05)

    def take(self) -> dict:
        Path(self.stats).unlink(missing_ok=True)
        self.process.send_signal(signal.SIGUSR1)
        deadline = time.time() + 20
        while not Path(self.stats).exists():
            if time.time() > deadline:
                raise RuntimeError("the SMTP sink did not answer")
            time.sleep(0.02)
        time.sleep(0.05)
        return json.loads(Path(self.stats).read_text())

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)
        for path in (self.stats, self.stats + ".ready"):
            Path(path).unlink(missing_ok=True)


# --- loading people ---------------------------------------------------------------------------


def load(n: int) -> None:
    import random

    from django.db import transaction

    from rallypoint.people.models import EmailAddress, Person, PostalAddress
    from rallypoint.people.rows import insert_rows

    rng = random.Random(2008)
    first_names = ["Ana", "Ben", "Chloé", "Dev", "Eli", "Fatima", "Gus", "Hana", "Ivan", "Jo"]
    cities = [("Denver", "80202"), ("Boulder", "80301"), ("Austin", "78701"), ("Tulsa", "74103")]
    chunk = 20_000
    for start in range(0, n, chunk):
        size = min(chunk, n - start)
        with transaction.atomic():
            ids = insert_rows(
                Person,
                ["given_name", "family_name", "source"],
                [
                    (
                        "" if rng.random() < 0.05 else rng.choice(first_names),
                        f"P{start + i}",
                        SOURCE,
                    )
                    for i in range(size)
                ],
                returning=True,
            )
            emails, places = [], []
            for i, pk in enumerate(ids):
                address = f"p{start + i}@example.org"
                status = "unsubscribed" if rng.random() < 0.03 else "subscribed"
                emails.append((pk, address, address, True, status))
                if rng.random() < 0.5:
                    city, code = rng.choice(cities)
                    places.append((pk, True, code, city, "US"))
            insert_rows(
                EmailAddress,
                ["person_id", "address", "address_normalized", "primary", "status"],
                emails,
            )
            insert_rows(
                PostalAddress,
                ["person_id", "primary", "postal_code", "locality", "country"],
                places,
            )
        print(f"  loaded {start + size:,} people", end="\r", flush=True)
    print()


def phase_load(args) -> dict:
    from django.core.management import call_command
    from django.db import connection

    from rallypoint.messaging.models import Mailing
    from rallypoint.people.models import Person

    call_command("migrate", verbosity=0)
    have = Person.objects.filter(source=SOURCE).count()
    if have != args.people:
        if Person.objects.exists():
            sys.exit(
                f"The database has people but not {args.people:,} bench people: use an empty one."
            )
        started = time.perf_counter()
        load(args.people)
        print(f"loaded {args.people:,} people in {time.perf_counter() - started:.0f} s")
    # Earlier runs' mailings go (their deliveries with them), so each run starts alike.
    old = list(Mailing.objects.filter(name__startswith="Bench").values_list("pk", flat=True))
    if old:
        with connection.cursor() as cursor:
            marks = ", ".join(["%s"] * len(old))
            cursor.execute(f"DELETE FROM messaging_delivery WHERE mailing_id IN ({marks})", old)  # noqa: S608
        Mailing.objects.filter(pk__in=old).delete()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    return {}


def bench_mailing(name: str):
    from django.conf import settings

    from rallypoint.messaging.models import Mailing
    from rallypoint.messaging.services.compose import from_addresses
    from rallypoint.segments.models import Segment

    segment, _ = Segment.objects.update_or_create(
        slug="bench-mail",
        defaults={
            "name": "Bench: mail",
            "definition": {
                "match": "all",
                "conditions": [{"type": "source", "sources": [SOURCE]}],
                "exclude_segments": [],
            },
        },
    )
    mailing = Mailing.objects.create(
        name=f"Bench {name}",
        subject="{{ first_name | Friend }}, this weekend in {{ city | your town }}",
        preview_text="Two events near you, and one thing you can do today",
        from_name="Bench Campaign",
        from_address=from_addresses()[0].address,
        body_html=BODY.replace("{site}", settings.SITE_URL),
    )
    mailing.include_segments.set([segment])
    return mailing


# --- the baseline -----------------------------------------------------------------------------


def phase_baseline(args) -> dict:
    """Pre-render PRE_RENDERED messages of the mailing (untimed), then send N with smtplib."""
    import smtplib

    from rallypoint.messaging.models import Delivery
    from rallypoint.messaging.services.render import MailingTemplate, email_message, merge_values
    from rallypoint.people.models import EmailAddress, Person

    mailing = bench_mailing("baseline")
    template = MailingTemplate(mailing)
    rendered = []
    people = Person.objects.filter(source=SOURCE).order_by("pk")[:PRE_RENDERED]
    addresses = dict(
        EmailAddress.objects.filter(person__in=people, primary=True).values_list(
            "person_id", "address"
        )
    )
    for person in people:
        delivery = Delivery(mailing=mailing, person=person, address=addresses[person.pk])
        values = merge_values(person, email=delivery.address, place=("Denver", "80202"))
        message = email_message(
            mailing, template.render(values=values, delivery=delivery), to=delivery.address
        )
        raw = message.message().as_bytes(linesep="\r\n")
        rendered.append((message.from_email, delivery.address, raw))
    mailing.delete()
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", args.port, timeout=10) as smtp:
        for i in range(args.people):
            sender, to, raw = rendered[i % len(rendered)]
            smtp.sendmail(sender, [to], raw)
    elapsed = time.perf_counter() - started
    return {"seconds": elapsed, "messages": args.people, "started_at": None}


# --- the pipeline -----------------------------------------------------------------------------


def phase_snapshot(args) -> dict:
    """Both steps of the snapshot, in this process (what the snapshot tasks run)."""
    from django.db import connection

    from rallypoint.messaging.services.delivery import mailing_send, mailing_snapshot

    mailing = bench_mailing("snapshot")
    started = time.perf_counter()
    result = mailing_send(mailing)
    counted = time.perf_counter()
    first = mailing_snapshot(mailing.pk)
    first_done = time.perf_counter()
    rest = mailing_snapshot(mailing.pk) if not first.done else first
    done = time.perf_counter()
    return {
        "audience": result.audience,
        "targeted": rest.targeted,
        "send_seconds": counted - started,
        "first_seconds": first_done - counted,
        "rest_seconds": done - first_done,
        "snapshot_seconds": done - started,
        "vendor": connection.vendor,
    }


def phase_pipeline(args) -> dict:
    """`mailing_send` here, then everything else in a real task worker (`rallypoint db_worker`
    polling every second, as `rallypoint serve` runs it), sending to the sink."""
    from django.db import connection
    from django_tasks_db.models import DBTaskResult

    from rallypoint.messaging.models import Delivery, Mailing
    from rallypoint.messaging.services.delivery import mailing_send

    DBTaskResult.objects.all().delete()  # nothing queued by earlier runs
    mailing = bench_mailing("pipeline")
    env = {**os.environ, "TASK_BACKEND": "db", "EMAIL_URL": f"smtp://127.0.0.1:{args.port}"}
    worker = subprocess.Popen(
        [sys.executable, "-m", "rallypoint", "db_worker", "--queue-name", "default"]
        + ["--interval", "1"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    time.sleep(5)  # the worker is up and polling
    started_wall = time.time()
    started = time.perf_counter()
    result = mailing_send(mailing)
    while True:
        time.sleep(0.2)
        row = Mailing.objects.filter(pk=mailing.pk).values("status", "finished_at").get()
        if row["status"] == "sent":
            break
        if worker.poll() is not None:
            sys.exit("the task worker stopped")
    done = time.perf_counter()
    worker.terminate()
    worker.wait(timeout=30)
    worker_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    mailing.refresh_from_db()
    statuses = {
        s: Delivery.objects.filter(mailing=mailing, status=s).count()
        for s in ("sent", "pending", "failed", "skipped")
    }
    Mailing.objects.filter(pk=mailing.pk).update(name="Bench pipeline (done)")
    return {
        "audience": result.audience,
        "targeted": mailing.total_targeted,
        "statuses": statuses,
        "seconds": done - started,
        "started_at": started_wall,
        "worker_peak_rss_mb": worker_rss,
        "vendor": connection.vendor,
    }


PHASES = {
    "load": phase_load,
    "baseline": phase_baseline,
    "pipeline": phase_pipeline,
    "snapshot": phase_snapshot,
}


def run_phase(name: str, args, port: int) -> dict:
    command = [sys.executable, __file__, "--phase", name, "--people", str(args.people)]
    command += ["--port", str(port)]
    if args.snapshot_only:
        command.append("--snapshot-only")
    done = subprocess.run(command, capture_output=True, text=True)
    sys.stderr.write(done.stderr)
    if done.returncode:
        sys.exit(f"phase {name} failed")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--snapshot-only", action="store_true", help="Time the snapshot only.")
    parser.add_argument("--phase", choices=sorted(PHASES), help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--sink", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--stats", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sink:
        run_sink(args.sink, args.stats)
        return
    if args.phase:
        setup_django(args.people, task_backend="db" if args.phase == "pipeline" else "dummy")
        outcome = PHASES[args.phase](args)
        outcome["peak_rss_mb"] = peak_rss_mb()
        print(json.dumps(outcome))
        return

    run_phase("load", args, 0)
    snapshot = run_phase("snapshot", args, 0)
    print(
        f"{snapshot['vendor']}, {args.people:,} people: snapshot of {snapshot['targeted']:,}"
        f" deliveries in {snapshot['snapshot_seconds']:.1f} s (mailing_send's checks and count"
        f" {snapshot['send_seconds']:.1f} s, first step {snapshot['first_seconds']:.1f} s, the"
        f" rest {snapshot['rest_seconds']:.1f} s); peak RSS {snapshot['peak_rss_mb']:.0f} MB"
    )
    if args.snapshot_only:
        return
    sink = Sink()
    try:
        # The baseline runs before and after the pipeline: on a shared machine the load moves,
        # and the ratio is taken to the mean of the two.
        before = run_phase("baseline", args, sink.port)
        base_sink = sink.take()
        pipeline = run_phase("pipeline", args, sink.port)
        pipe_sink = sink.take()
        after = run_phase("baseline", args, sink.port)
        sink.take()
    finally:
        sink.stop()
    rates = [b["messages"] / b["seconds"] for b in (before, after)]
    base_rate = sum(rates) / 2
    rate = pipeline["targeted"] / pipeline["seconds"]
    sending = pipe_sink["last"] - pipe_sink["first"]
    send_rate = (pipe_sink["count"] - 1) / sending if sending > 0 else 0.0
    first = pipe_sink["first"] - pipeline["started_at"]
    print(f"{pipeline['vendor']}, {args.people:,} people ({pipeline['targeted']:,} subscribed)")
    print(
        f"  baseline (smtplib, pre-rendered, 1 connection): {base_rate:,.0f} msg/s"
        f" (before {rates[0]:,.0f}, after {rates[1]:,.0f}); sink got {base_sink['count']:,};"
        f" peak RSS {before['peak_rss_mb']:.0f} MB"
    )
    print(
        f"  pipeline, send to sent: {rate:,.0f} msg/s = {rate / base_rate:.2f} of the baseline;"
        f" first to last message: {send_rate:,.0f} msg/s = {send_rate / base_rate:.2f}"
    )
    print(
        f"  first message {first:.2f} s after send; task worker peak RSS"
        f" {pipeline['worker_peak_rss_mb']:.0f} MB; sink got {pipe_sink['count']:,} messages,"
        f" {pipe_sink['distinct_ids']:,} distinct Message-IDs; deliveries {pipeline['statuses']}"
    )
    print(
        "  targets: >= 0.50 of the baseline, peak RSS < 300 MB and flat with list size,"
        " first message < 5 s"
    )


if __name__ == "__main__":
    main()
