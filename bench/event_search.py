"""Benchmark: the event finder at the 2008 platform's scale, and RSVPs to one popular event.

    .venv/bin/python bench/event_search.py [--events 200000] [--rsvps 2000000] [--write]

What it does, against PostgreSQL on 127.0.0.1 (BENCH_DATABASE_URL to change):
  1. creates its own database (rp_bench_events), migrates it, and — once; kept for later runs
     unless --rebuild — loads --events events over real US postal codes (weighted to big
     metros, like the supporters), starting from 2 weeks ago to a year ahead, and --rsvps RSVPs
     from --people people, all with COPY;
  2. search: "within 25 miles of <postal code>, next 30 days", first page (20 rows) plus the
     count the pager shows, through events.queries.event_search — the same call as the page —
     median and p95 of --repeat runs per postal code; baseline: the same first page with no
     place filter (date window only, soonest first);
  3. RSVP throughput: --concurrency threads send --attempts RSVPs (new people, through
     events.services.rsvp_record_together, as the RSVP form and the API do: RSVPs arriving at
     the same moment in one process are written together, the event row locked once per
     group) to one event with --capacity seats; the outcome is checked (exactly --capacity
     seats taken, the rest waitlisted).
     Baseline in the same run: the same threads doing one plain INSERT of an RSVP row each;
  4. prints a table, and with --write replaces its section of bench/README.md.
"""

import argparse
import json
import os
import random
import statistics
import sys
import threading
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
import postgres_setup  # noqa: E402

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/rp_bench_events"
SECTION = "### Event search and RSVP throughput"
PROBES = ["10001", "80202", "60601", "94110", "59001"]


def setup_django(url: str) -> None:
    postgres_setup.setup_django(url, var_dir="/tmp/rp-bench-events-var")


def _copy_value(field, value):
    if value is None:
        return None
    if field.get_internal_type() == "JSONField":
        return json.dumps(value)
    return value


def copy_rows(model, rows, overrides_for):
    """COPY rows into `model`'s table: every concrete column gets the model default unless
    `overrides_for(i)` gives it (so columns other apps add later are filled too)."""
    from django.db import connection

    fields = list(model._meta.concrete_fields)
    columns = [f.column for f in fields]
    defaults = {}
    for f in fields:
        if f.has_default() and not callable(f.default):
            defaults[f.attname] = f.default
        elif f.null:
            defaults[f.attname] = None
        elif f.get_internal_type() in (
            "CharField",
            "TextField",
            "SlugField",
            "EmailField",
            "URLField",
        ):
            defaults[f.attname] = ""
    callables = {f.attname: f.default for f in fields if f.has_default() and callable(f.default)}
    now = datetime.now(UTC)
    quoted = ", ".join(f'"{c}"' for c in columns)
    sql = f'COPY "{model._meta.db_table}" ({quoted}) FROM STDIN'
    with connection.cursor() as cursor:
        raw = cursor.cursor
        with raw.copy(sql) as copy:
            for i in range(rows):
                values = overrides_for(i)
                row = []
                for f in fields:
                    if f.attname in values:
                        v = values[f.attname]
                    elif f.attname in callables:
                        v = callables[f.attname]()
                    elif f.attname in ("created_at", "modified_at"):
                        v = now
                    else:
                        v = defaults.get(f.attname)
                    row.append(_copy_value(f, v))
                copy.write_row(row)


def load(args) -> None:
    import zipcodes
    from django.db import connection

    from rallypoint.events.models import Event, Rsvp
    from rallypoint.people.models import Person

    if Event.objects.count() >= args.events and not args.rebuild:
        print(f"Using the {Event.objects.count():,} events already loaded.")
        return
    t0 = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE events_rsvp, events_eventhost, events_event, people_person CASCADE"
        )
    from rallypoint.people.demo import METROS

    rng = random.Random(2008)
    places = [
        z
        for z in zipcodes.filter_by(active=True, zip_code_type="STANDARD")
        if z["state"] not in {"PR", "VI", "GU", "AS", "MP", "AA", "AE", "AP"}
    ]
    metro = [z for z in places if z["zip_code"][:3] in METROS]
    now = datetime.now(UTC)

    def person(i):
        return {
            "id": i + 1,
            "given_name": "Bench",
            "family_name": f"P{i}",
            "share_code": f"b{i:09d}",
        }

    copy_rows(Person, args.people, person)
    print(f"  {args.people:,} people in {time.perf_counter() - t0:.0f}s")
    types = [
        "house_party",
        "canvass",
        "phone_bank",
        "rally",
        "meeting",
        "fundraiser",
        "training",
        "other",
    ]

    def event(i):
        z = rng.choice(metro if rng.random() < 0.7 else places)
        start = now + timedelta(minutes=rng.randint(-14 * 24 * 60, 365 * 24 * 60))
        virtual = rng.random() < 0.1
        return {
            "id": i + 1,
            "title": f"Event {i}",
            "event_type": rng.choice(types),
            "location_mode": "virtual" if virtual else "in_person",
            "postal_code": "" if virtual else z["zip_code"],
            "locality": "" if virtual else z["city"].title(),
            "region": z["state"],
            "latitude": None if virtual else float(z["lat"]),
            "longitude": None if virtual else float(z["long"]),
            "starts_at": start,
            "ends_at": start + timedelta(hours=2),
            "timezone": z.get("timezone") or "America/New_York",
            "visibility": rng.choices(["public", "unlisted", "private"], [92, 5, 3])[0],
            "status": "cancelled" if rng.random() < 0.03 else "confirmed",
            "approval": "approved",
            "reminder_minutes": [],
            "seats_taken": 0,
            "capacity": rng.choice([None, 10, 20, 50]),
        }

    copy_rows(Event, args.events, event)
    print(f"  {args.events:,} events in {time.perf_counter() - t0:.0f}s")
    per_event = args.rsvps // args.events

    def rsvp(i):
        event_id = i // per_event + 1
        # Distinct people per event: a stride walk through the people table.
        person_id = (event_id * 7919 + (i % per_event) * 104729) % args.people + 1
        return {
            "id": i + 1,
            "event_id": event_id,
            "person_id": person_id,
            "status": "accepted",
            "guests": 0,
            "source": "bench",
        }

    copy_rows(Rsvp, per_event * args.events, rsvp)
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE events_event e SET seats_taken = c.n FROM "
            "(SELECT event_id, count(*) n FROM events_rsvp GROUP BY event_id) c "
            "WHERE c.event_id = e.id"
        )
        for table in ("people_person", "events_event", "events_rsvp"):
            cursor.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT max(id) FROM {table}))"
            )
        cursor.execute("VACUUM ANALYZE events_event")
        cursor.execute("VACUUM ANALYZE events_rsvp")
        cursor.execute("VACUUM ANALYZE people_person")
    print(f"  {per_event * args.events:,} RSVPs, analyzed, in {time.perf_counter() - t0:.0f}s")


def timed(fn, repeat):
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    return statistics.median(times), times[max(0, int(len(times) * 0.95) - 1)]


def bench_search(args) -> list[tuple[str, float, float, str]]:
    from django.core.paginator import Paginator

    from rallypoint.events.queries import EventSearch, event_search

    until = date.today() + timedelta(days=30)
    rows = []

    def first_page(search):
        def run():
            qs, _ = event_search(search)
            page = Paginator(qs, 20).get_page(1)
            return list(page.object_list), page.paginator.count

        return run

    base = EventSearch(date_to=until)
    first_page(base)()  # warm caches
    median, p95 = timed(first_page(base), args.repeat)
    baseline = median
    rows.append(("baseline: next 30 days, no place filter, soonest first", median, p95, ""))
    for code in PROBES:
        for mode in ("all", "in_person"):
            search = EventSearch(postal_code=code, radius=25, unit="mi", date_to=until, mode=mode)
            found, count = first_page(search)()
            median, p95 = timed(first_page(search), args.repeat)
            label = "in person and online" if mode == "all" else "in person"
            rows.append(
                (
                    f"{code} within 25 mi, next 30 days ({label}): {count:,} found",
                    median,
                    p95,
                    f"{median / baseline:.1f}×",
                )
            )
    rows[0] = (*rows[0][:3], "1.0×")
    return rows


def bench_rsvp(args) -> list[tuple[str, float, float, str]]:
    from django.db import connections, transaction
    from django.utils import timezone

    from rallypoint.events.models import Event, Rsvp
    from rallypoint.events.services import rsvp_create, rsvp_record_together
    from rallypoint.people.models import Person
    from rallypoint.people.services import PersonData

    start = timezone.now() + timedelta(days=3)
    run_id = uuid.uuid4().hex[:8]

    def make_event(title):
        return Event.objects.create(
            title=title,
            starts_at=start,
            ends_at=start + timedelta(hours=2),
            timezone="America/New_York",
            postal_code="10001",
            latitude=40.75,
            longitude=-73.99,
            capacity=args.capacity,
        )

    def hammer(work, n):
        """--concurrency workers in all: --processes forked processes of threads, like web
        processes of threads. Returns RSVPs per second."""
        import multiprocessing

        mp = multiprocessing.get_context("fork")
        counter, errors = mp.Value("i", 0), mp.Queue()
        per_process = max(1, args.concurrency // args.processes)

        def process_main():
            def worker():
                try:
                    while True:
                        with counter.get_lock():
                            i = counter.value
                            counter.value += 1
                        if i >= n:
                            return
                        work(i)
                except Exception as exc:
                    errors.put(repr(exc))
                finally:
                    connections.close_all()

            threads = [threading.Thread(target=worker) for _ in range(per_process)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()

        connections.close_all()
        processes = [mp.Process(target=process_main) for _ in range(args.processes)]
        t = time.perf_counter()
        for proc in processes:
            proc.start()
        for proc in processes:
            proc.join()
        elapsed = time.perf_counter() - t
        if not errors.empty():
            raise SystemExit(f"error during the run: {errors.get()}")
        return n / elapsed

    # Warm up in the parent, so forked workers don't each import every URLconf and template.
    warm = make_event("Warm-up")
    rsvp_create(event=warm, person_data=PersonData(email=f"warm{run_id}@example.org"))
    rsvp_create(event=warm, person_data=PersonData(email=f"warm{run_id}@example.org"))

    # Baseline: one plain INSERT per RSVP (person made beforehand, no lock, no matching).
    base_event = make_event("Baseline")
    people = Person.objects.bulk_create(
        [
            Person(given_name="Base", family_name=str(i), share_code=f"x{run_id}{i:05d}")
            for i in range(args.attempts)
        ]
    )

    def insert(i):
        with transaction.atomic():
            Rsvp.objects.create(event=base_event, person=people[i], status="accepted")

    baseline = hammer(insert, args.attempts)

    popular = make_event("Popular")

    def rsvp(i):
        rsvp_record_together(
            event=popular,
            person_data=PersonData(email=f"r{run_id}-{i}@example.org", given_name="R"),
            source="bench",
        )

    rate = hammer(rsvp, args.attempts)
    # The same work spread over one event per worker: what the lock costs is the difference.
    spread = [make_event(f"Spread {k}") for k in range(args.concurrency)]

    def rsvp_spread(i):
        rsvp_record_together(
            event=spread[i % len(spread)],
            person_data=PersonData(email=f"s{run_id}-{i}@example.org", given_name="S"),
            source="bench",
        )

    spread_rate = hammer(rsvp_spread, args.attempts)
    popular.refresh_from_db()
    accepted = Rsvp.objects.filter(event=popular, status="accepted").count()
    waiting = Rsvp.objects.filter(event=popular, status="waitlisted").count()
    ok = (popular.seats_taken, accepted, waiting) == (
        args.capacity,
        args.capacity,
        args.attempts - args.capacity,
    )
    check = "capacity held" if ok else f"MISMATCH: {popular.seats_taken=} {accepted=} {waiting=}"
    return [
        (f"baseline: one INSERT per RSVP, {args.concurrency} workers", baseline, 0, "1.0×"),
        (
            f"rsvp_record_together, one event, {args.concurrency} workers, "
            f"{args.attempts:,} tries for {args.capacity:,} seats ({check})",
            rate,
            0,
            f"{rate / baseline:.2f}×",
        ),
        (
            f"rsvp_record_together, {args.concurrency} workers spread over "
            f"{args.concurrency} events (no shared lock)",
            spread_rate,
            0,
            f"{spread_rate / baseline:.2f}×",
        ),
    ]


def write_readme(search_rows, rsvp_rows, args) -> None:
    readme = ROOT / "bench" / "README.md"
    text = readme.read_text() if readme.exists() else "# Benchmarks\n"
    lines = [
        SECTION,
        "",
        "`.venv/bin/python bench/event_search.py --write` on PostgreSQL:",
        f"{args.events:,} events, {args.rsvps:,} RSVPs, {args.people:,} people (loaded once",
        "with COPY). Target: the first page of “within 25 miles of a postal code, next 30 days”",
        f"under 150 ms. Search times are the median and p95 of {args.repeat} runs of",
        "`events.queries.event_search` (first page of 20 plus the count the pager shows); the",
        "baseline is the same window with no place filter. RSVPs through `rsvp_record_together`",
        "(as the RSVP form and the API send them) are written in groups of those arriving at the",
        "same moment in one process: the people matched or created together, the answers stored,",
        "the event locked once per group to settle capacity, the ledger acts, outbox events and",
        "one task for the confirmation emails written; workers are",
        f"{args.processes} forked processes of threads, WRITE_CONCURRENCY and RSVP_BATCH_MAX as",
        "set (defaults 2 and 16). Shared 2-core machine: expect noise.",
        "",
        "| search | median ms | p95 ms | vs baseline |",
        "|---|---|---|---|",
        *[f"| {label} | {m:.1f} | {p:.1f} | {ratio} |" for label, m, p, ratio in search_rows],
        "",
        "| writes | RSVPs/s | vs baseline |",
        "|---|---|---|",
        *[f"| {label} | {rate:.0f} | {ratio} |" for label, rate, _, ratio in rsvp_rows],
        "",
    ]
    section = "\n".join(lines)
    if SECTION in text:
        head, rest = text.split(SECTION, 1)
        tail = rest.split("\n### ", 1)
        text = head + section + ("\n### " + tail[1] if len(tail) > 1 else "")
    else:
        text = text.rstrip() + "\n\n" + section
    readme.write_text(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--rsvps", type=int, default=2_000_000)
    parser.add_argument("--people", type=int, default=400_000)
    parser.add_argument("--repeat", type=int, default=25)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--attempts", type=int, default=1500)
    parser.add_argument("--capacity", type=int, default=1000)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--skip-rsvp", action="store_true")
    parser.add_argument("--skip-search", action="store_true")
    parser.add_argument("--write", action="store_true", help="update bench/README.md")
    args = parser.parse_args()
    if args.write and (args.skip_search or args.skip_rsvp):
        parser.error("--write replaces the whole section: run both parts")
    setup_django(os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB))
    load(args)
    search_rows = [] if args.skip_search else bench_search(args)
    for label, median, p95, ratio in search_rows:
        print(f"{median:8.1f} ms  p95 {p95:8.1f} ms  {ratio:>6}  {label}")
    rsvp_rows = [] if args.skip_rsvp else bench_rsvp(args)
    for label, rate, _, ratio in rsvp_rows:
        print(f"{rate:8.0f} /s  {ratio:>6}  {label}")
    if args.write:
        write_readme(search_rows, rsvp_rows, args)
        print("bench/README.md updated.")


if __name__ == "__main__":
    main()
