"""Import benchmark: N synthetic supporters through the real import path, against a baseline.

    .venv/bin/python bench/import_people.py                 # 1,000,000 rows, SQLite
    .venv/bin/python bench/import_people.py --rows 50000    # a short run
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/rp_bench_import \\
        .venv/bin/python bench/import_people.py --reset

The file has realistic names, unique emails, real US ZIP codes, phones for 40% of rows, tags
for 30%; 10% of rows are people already in the database (matched by email, some by phone only)
and 1% are bad rows (no contact, invalid email, impossible phone, over-long name).

The import runs in a child process exactly like `rallypoint people import` (import_job_create →
import_job_start → import_job_run, in its batches), so its peak RSS is measured alone: the
peak of that process plus the peak of the process it forks to read and validate the file.
The baseline, in the same run on the same database: PostgreSQL `COPY` of the same file into a
bare table with a unique index on email; on SQLite, `executemany` of the file's rows into such a
table in one transaction. Printed: rows/s for both, the ratio, and the import's peak RSS.

On PostgreSQL the people tables are vacuumed (untimed) after `--reset` and after the floor,
whose rows are rolled back: the import starts on tables without dead rows, as it would where
autovacuum had run.
"""

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HEADER = ["email", "first_name", "last_name", "zip", "phone", "tags"]
DOMAINS = ["gmail.com"] * 6 + ["yahoo.com"] * 2 + ["hotmail.com", "outlook.com", "aol.com"]
DOMAINS += ["icloud.com", "comcast.net", "proton.me", "example.org"]
TAGS = ["volunteer", "donor", "host", "canvass 2024", "phonebank", "student", "union"]
BAD_KINDS = ["no contact", "invalid email", "impossible phone", "over-long name"]


def setup_django(var_dir: Path | None = None) -> None:
    root = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(root / "src"))
    if var_dir is not None:
        os.environ["RALLYPOINT_VAR_DIR"] = str(var_dir)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rallypoint.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


def place_pool(rng: random.Random):
    """(zip, area code) pairs for real, standard US ZIP codes with a dialable area code."""
    import phonenumbers
    import zipcodes

    valid_area: dict[str, bool] = {}
    pool = []
    for row in zipcodes.list_all():
        if row["zip_code_type"] != "STANDARD" or not row["active"] or not row["area_codes"]:
            continue
        area = row["area_codes"][0]
        if area not in valid_area:
            number = phonenumbers.parse(f"+1{area}2345678")
            valid_area[area] = phonenumbers.is_valid_number(number)
        if valid_area[area]:
            pool.append((row["zip_code"], area))
    rng.shuffle(pool)
    return pool


def person_rows(n: int, rng: random.Random, pool, prefix: str):
    from faker.providers.person.en_US import Provider

    first_names, last_names = list(Provider.first_names), list(Provider.last_names)
    for i in range(n):
        first, last = rng.choice(first_names), rng.choice(last_names)
        postal, area = pool[i % len(pool)]
        email = f"{first}.{last}.{prefix}{i}@{rng.choice(DOMAINS)}".lower()
        phone = ""
        if rng.random() < 0.4:
            phone = f"({area}) {rng.randint(200, 999)}-{rng.randint(0, 9999):04d}"
        tags = ", ".join(rng.sample(TAGS, rng.randint(1, 2))) if rng.random() < 0.3 else ""
        yield [email, first, last, postal, phone, tags]


def write_file(path: Path, n: int, existing: list[list[str]], rng: random.Random, pool) -> None:
    """N rows: 10% are `existing` people (same email, other case; or phone only), 1% bad."""
    n_existing = len(existing)
    n_bad = n // 100
    kinds = ["new"] * (n - n_existing - n_bad) + ["existing"] * n_existing + ["bad"] * n_bad
    rng.shuffle(kinds)
    fresh = person_rows(n, rng, pool, "n")
    existing_iter = iter(existing)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        for i, kind in enumerate(kinds):
            row = next(fresh)
            if kind == "existing":
                row = list(next(existing_iter))
                if row[4] and rng.random() < 0.2:
                    row[0] = ""  # matched by phone alone
                else:
                    row[0] = row[0].upper() if rng.random() < 0.5 else row[0]
                row[2] = row[2] + "-Smith" if rng.random() < 0.3 else row[2]
            elif kind == "bad":
                bad = BAD_KINDS[i % len(BAD_KINDS)]
                if bad == "no contact":
                    row[0] = row[4] = ""
                elif bad == "invalid email":
                    row[0] = row[0].replace("@", " at ")
                elif bad == "impossible phone":
                    row[4] = "555-01"
                else:
                    row[1] = "X" * 150
            writer.writerow(row)


def seed_existing(rows: list[list[str]]) -> None:
    from rallypoint.people.bulk import people_bulk_upsert
    from rallypoint.people.services import PersonData

    for start in range(0, len(rows), 5000):
        batch = [
            (
                i,
                PersonData(
                    email=r[0], given_name=r[1], family_name=r[2], postal_code=r[3], phone=r[4]
                ),
            )
            for i, r in enumerate(rows[start : start + 5000])
        ]
        people_bulk_upsert(batch)


def baseline(path: Path) -> float:
    """Seconds to load the file into a bare table with a unique index on email."""
    from django.db import connection, transaction

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_baseline")
        cursor.execute(
            "CREATE TABLE bench_baseline (email text, first_name text, last_name text,"
            " zip text, phone text, tags text)"
        )
        cursor.execute("CREATE UNIQUE INDEX bench_baseline_email ON bench_baseline (email)")
    started = time.perf_counter()
    if connection.vendor == "postgresql":
        with transaction.atomic(), connection.cursor() as cursor, open(path, "rb") as handle:
            sql = "COPY bench_baseline FROM STDIN WITH (FORMAT csv, HEADER true)"
            with cursor.cursor.copy(sql) as copy:
                while chunk := handle.read(1 << 20):
                    copy.write(chunk)
    else:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            next(reader)
            rows = ([r[0] or None, *r[1:]] for r in reader)
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO bench_baseline VALUES (%s, %s, %s, %s, %s, %s)", rows
                )
    seconds = time.perf_counter() - started
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE bench_baseline")
    return seconds


def _copy_text(value) -> str:
    """One value in COPY's text format."""
    if value is None:
        return "\\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, (list, dict)):
        value = json.dumps(value)
    text = value.isoformat() if hasattr(value, "isoformat") else str(value)
    for raw, escaped in (("\\", "\\\\"), ("\t", "\\t"), ("\n", "\\n"), ("\r", "\\r")):
        text = text.replace(raw, escaped)
    return text


def floor(path: Path) -> tuple[float, int]:
    """Seconds to write, with no Python work in the timed part, what the import writes for the
    file's new people: their person, email, phone, address and tagging rows, into the real
    tables (indexes, constraints, foreign keys), one batch insert per table (COPY on
    PostgreSQL, executemany on SQLite). Rows are validated, geocoded and laid out untimed
    beforehand; the transaction is rolled back afterwards (its commit is not counted)."""
    import uuid

    from django.db import connection, transaction
    from django.utils import timezone

    from rallypoint.core.geo import lookup_postal_code
    from rallypoint.people.models import (
        EmailAddress,
        Person,
        PhoneNumber,
        PostalAddress,
        Tagging,
        new_share_codes,
    )
    from rallypoint.people.normalize import email_key
    from rallypoint.people.services import PersonData, tag_get_or_create

    known = set(EmailAddress.objects.values_list("address_normalized", flat=True))
    people = []
    with open(path, newline="", encoding="utf-8") as handle:
        reader = csv.reader(handle)
        next(reader)
        for email, first, last, postal, phone, tags in reader:
            if not email or email_key(email) in known:
                continue  # matched (an update) or phone only: not in the floor
            data = PersonData(
                email=email,
                phone=phone,
                given_name=first,
                family_name=last,
                postal_code=postal,
                tags=[t for t in tags.split(",") if t.strip()],
            )
            try:
                people.append(data.validated())
            except Exception:  # noqa: BLE001, S112 - bad rows are not written
                continue
    tag_ids = {name: tag_get_or_create(name).pk for name in TAGS}
    with connection.cursor() as cursor:
        cursor.execute("SELECT COALESCE(MAX(id), 0) FROM people_person")
        first_id = cursor.fetchone()[0] + 1_000_000
    now = timezone.now()
    codes = new_share_codes(len(people))
    rows: dict = {m: [] for m in (Person, EmailAddress, PhoneNumber, PostalAddress, Tagging)}
    for i, data in enumerate(people):
        pid = first_id + i
        rows[Person].append(
            {
                "id": pid,
                "uuid": uuid.uuid4(),
                "given_name": data.given_name,
                "family_name": data.family_name,
                "source": "bench",
                "share_code": codes[i],
            }
        )
        rows[EmailAddress].append(
            {
                "person_id": pid,
                "address": data.email,
                "address_normalized": email_key(data.email),
                "primary": True,
                "status": "subscribed",
            }
        )
        if data.phone:
            rows[PhoneNumber].append(
                {
                    "person_id": pid,
                    "number": data.phone,
                    "primary": True,
                    "number_type": data.phone_type,
                    "sms_capable": data.phone_type in {"mobile", "voip"},
                }
            )
        place = lookup_postal_code(data.postal_code)
        rows[PostalAddress].append(
            {
                "person_id": pid,
                "primary": True,
                "postal_code": data.postal_code,
                "locality": place.locality if place else "",
                "region": place.region if place else "",
                "latitude": place and place.latitude,
                "longitude": place and place.longitude,
                "accuracy": "approximate" if place else "",
            }
        )
        for name in data.tags:
            rows[Tagging].append(
                {"uuid": uuid.uuid4(), "person_id": pid, "tag_id": tag_ids[name.strip()]}
            )
    postgres = connection.vendor == "postgresql"
    statements = []
    for model, dicts in rows.items():
        fields = [
            f for f in model._meta.concrete_fields if not (f.primary_key and model is not Person)
        ]
        defaults = {f.attname: f.get_default() for f in fields}
        for f in fields:
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                defaults[f.attname] = now
        table = connection.ops.quote_name(model._meta.db_table)
        names = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        full = [[d.get(f.attname, defaults[f.attname]) for f in fields] for d in dicts]
        if postgres:
            text = "".join("\t".join(map(_copy_text, r)) + "\n" for r in full)
            statements.append((f"COPY {table} ({names}) FROM STDIN", text))
        else:
            prepared = [
                [
                    None if v is None else f.get_db_prep_save(v, connection)
                    for f, v in zip(fields, r, strict=True)
                ]
                for r in full
            ]
            marks = ", ".join(["%s"] * len(fields))
            statements.append((f"INSERT INTO {table} ({names}) VALUES ({marks})", prepared))
    connection.close()
    started = time.perf_counter()
    try:
        with transaction.atomic(), connection.cursor() as cursor:
            for sql, data in statements:
                if postgres:
                    with cursor.cursor.copy(sql) as copy:
                        copy.write(data.encode())
                else:
                    cursor.executemany(sql, data)
            seconds = time.perf_counter() - started
            raise _Rollback
    except _Rollback:
        pass
    return seconds, len(people)


class _Rollback(Exception):
    pass


PEOPLE_TABLES = [
    "people_person",
    "people_emailaddress",
    "people_phonenumber",
    "people_postaladdress",
    "people_tagging",
    "imports_importchange",
    "core_auditentry",
]


def vacuum() -> None:
    """PostgreSQL: clear the dead rows that --reset's DELETE and the floor's rollback leave in
    the people tables (untimed). Otherwise, where autovacuum is off or has not come round yet,
    the import would look up and insert among them, and they pile up from run to run."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM {', '.join(PEOPLE_TABLES)}")


def peak_rss_mb() -> float:
    """This program's own peak RSS. (getrusage would also count the parent's pages that the
    child shared between fork and exec.)"""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child_import(path: str) -> None:
    """Run in a separate process: the import alone, as `rallypoint people import` runs it."""
    setup_django()
    from rallypoint.imports.services import import_job_create, import_job_run, import_job_start

    started = time.perf_counter()
    job = import_job_create(file=Path(path))
    job = import_job_start(job=job, mapping=job.mapping, source="bench", enqueue=False)
    job = import_job_run(job_id=job.pk)
    seconds = time.perf_counter() - started
    print(
        json.dumps(
            {
                "peak_rss_mb": peak_rss_mb(),
                # The forked process that reads and validates the file, if one ran (its pages
                # shared with this one are counted twice: an upper bound).
                "workers_peak_rss_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
                / 1024,
                "seconds": seconds,
                "rows": job.rows_done,
                "created": job.created_count,
                "updated": job.updated_count,
                "skipped": job.skipped_count,
                "status": job.status,
            }
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("n", nargs="?", type=int, default=1_000_000)
    parser.add_argument("--rows", type=int, help="Same as N, for short runs.")
    parser.add_argument("--seed", type=int, default=2008)
    parser.add_argument("--reset", action="store_true", help="Empty the people tables first.")
    parser.add_argument(
        "--no-floor", action="store_true", help="Skip the writes-only floor measurement."
    )
    parser.add_argument("--child-import", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child_import:
        child_import(args.child_import)
        return
    n = args.rows or args.n
    work = Path(tempfile.mkdtemp(prefix="rp-bench-import-"))
    if not os.environ.get("DATABASE_URL"):
        os.environ["RALLYPOINT_VAR_DIR"] = str(work / "var")
    setup_django()
    from django.core.management import call_command
    from django.db import connection

    from rallypoint.imports.models import ImportJob
    from rallypoint.people.models import Person

    call_command("migrate", verbosity=0)
    if Person.objects.exists():
        if not args.reset:
            sys.exit("The people table is not empty: use an empty database or pass --reset.")
        # The jobs first: their change rows point at people.
        ImportJob.objects.all().delete()
        with connection.cursor() as cursor:
            tables = ["people_tagging", "people_emailaddress", "people_phonenumber"]
            tables += ["people_postaladdress", "core_auditentry", "people_person"]
            for table in tables:
                cursor.execute(f"DELETE FROM {table}")
        vacuum()

    rng = random.Random(args.seed)
    pool = place_pool(rng)
    existing = list(person_rows(n // 10, rng, pool, "e"))
    path = work / "people.csv"
    t = time.perf_counter()
    write_file(path, n, existing, rng, pool)
    print(
        f"{connection.vendor}: {n:,} rows, {path.stat().st_size / 1e6:.0f} MB written in "
        f"{time.perf_counter() - t:.0f} s; seeding {len(existing):,} existing people…"
    )
    seed_existing(existing)

    base_seconds = baseline(path)
    base_rate = n / base_seconds
    name = "COPY" if connection.vendor == "postgresql" else "executemany"
    print(f"baseline ({name}, unique email index): {base_seconds:.1f} s, {base_rate:,.0f} rows/s")
    floor_rate = 0.0
    if not args.no_floor:
        floor_seconds, floor_people = floor(path)
        vacuum()  # the floor's rolled-back rows are not the import's to step over
        floor_rate = n / floor_seconds
        print(
            f"floor ({name} of the {floor_people:,} new people's validated rows straight into the"
            f" five real tables, rolled back): {floor_seconds:.1f} s, {floor_rate:,.0f} file rows/s"
            f" ({floor_rate / base_rate:.1%} of the baseline)"
        )
    connection.close()

    child = subprocess.run(
        [sys.executable, __file__, "--child-import", str(path)],
        capture_output=True,
        text=True,
        env={**os.environ, "TASK_BACKEND": "dummy"},
    )
    if child.returncode != 0:
        sys.exit(child.stderr)
    result = json.loads(child.stdout.strip().splitlines()[-1])
    peak_mb = result["peak_rss_mb"] + result["workers_peak_rss_mb"]
    rate = n / result["seconds"]
    print(
        f"import: {result['seconds']:.1f} s, {rate:,.0f} rows/s — created {result['created']:,},"
        f" updated {result['updated']:,}, skipped {result['skipped']:,} ({result['status']})"
    )
    print(f"ratio import / baseline: {rate / base_rate:.1%}")
    if floor_rate:
        print(f"ratio import / floor: {rate / floor_rate:.1%}")
    print(
        f"peak RSS of the import: {peak_mb:.0f} MB (import process {result['peak_rss_mb']:.0f}"
        f" MB + validating process {result['workers_peak_rss_mb']:.0f} MB)"
    )
    path.unlink()


if __name__ == "__main__":
    main()
