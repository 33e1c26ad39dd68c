"""Segment count benchmark: "tag X and within 25 miles of a ZIP code and subscribed".

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/rp_bench_segments \\
        .venv/bin/python bench/segment_count.py            # 1,000,000 people
    .venv/bin/python bench/segment_count.py --people 100000   # SQLite, a short run

Loads N people (once; reused while the count matches): a primary address at a real US ZIP
code (spread over all standard codes, plus a 3% cluster around Denver), an email that is
subscribed for 90% of them, 1–3 tags out of 12 (tag "volunteer" on ~20%). Then counts the segment
through segments.queries.segment_people — the one query every tool uses — 7 times and prints
the cold and warm times, the target (under 300 ms on PostgreSQL) and the query plan.
"""

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

TAGS = ["volunteer", "donor", "host", "student", "union", "phonebank", "canvass", "senior"]
TAGS += ["teacher", "nurse", "parent", "veteran"]
CENTER = "80202"  # Denver


def setup_django() -> None:
    root = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(root / "src"))
    if not os.environ.get("DATABASE_URL"):
        os.environ.setdefault(
            "RALLYPOINT_VAR_DIR", str(Path(tempfile.gettempdir()) / "rp-bench-segments")
        )
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rallypoint.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


def load(n: int, rng: random.Random) -> None:
    import zipcodes
    from django.db import transaction

    from rallypoint.core.geo import lookup_postal_code
    from rallypoint.people.models import EmailAddress, Person, PostalAddress, Tag, Tagging
    from rallypoint.people.rows import insert_rows

    codes = [
        z["zip_code"]
        for z in zipcodes.list_all()
        if z["zip_code_type"] == "STANDARD" and z["active"] and z["lat"]
    ]
    denver = [c for c in codes if c.startswith(("800", "801", "802"))]
    tag_ids = [Tag.objects.get_or_create(name=name)[0].pk for name in TAGS]
    chunk = 20_000
    for start in range(0, n, chunk):
        size = min(chunk, n - start)
        with transaction.atomic():
            ids = insert_rows(
                Person,
                ["given_name", "family_name", "source"],
                [("Pat", f"Person{start + i}", "bench") for i in range(size)],
                returning=True,
            )
            emails, addresses, taggings = [], [], []
            for i, pk in enumerate(ids):
                status = "subscribed" if rng.random() < 0.9 else "unsubscribed"
                address = f"p{start + i}@example.org"
                emails.append((pk, address, address, True, status))
                code = rng.choice(denver) if rng.random() < 0.03 else rng.choice(codes)
                place = lookup_postal_code(code)
                addresses.append(
                    (
                        pk,
                        True,
                        code,
                        place.locality,
                        place.region,
                        "US",
                        place.latitude,
                        place.longitude,
                    )
                )
                chosen = {tag_ids[0]} if rng.random() < 0.2 else set()
                chosen |= set(rng.sample(tag_ids[1:], rng.randint(0, 2)))
                taggings.extend((pk, t) for t in chosen)
            insert_rows(
                EmailAddress,
                ["person_id", "address", "address_normalized", "primary", "status"],
                emails,
            )
            insert_rows(
                PostalAddress,
                [
                    "person_id",
                    "primary",
                    "postal_code",
                    "locality",
                    "region",
                    "country",
                    "latitude",
                    "longitude",
                ],
                addresses,
            )
            insert_rows(Tagging, ["person_id", "tag_id"], taggings)
        print(f"  loaded {start + size:,} people", end="\r", flush=True)
    print()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--seed", type=int, default=2008)
    args = parser.parse_args()
    setup_django()
    from django.core.management import call_command
    from django.db import connection

    from rallypoint.people.models import Person, Tag
    from rallypoint.segments.definition import definition_clean
    from rallypoint.segments.models import Segment
    from rallypoint.segments.queries import segment_people

    call_command("migrate", verbosity=0)
    have = Person.objects.count()
    if have != args.people:
        if have:
            sys.exit(f"The database has {have:,} people, not {args.people:,}: use an empty one.")
        t = time.perf_counter()
        load(args.people, random.Random(args.seed))
        with connection.cursor() as cursor:
            # What autovacuum does soon after a load: statistics, and the visibility map
            # that lets PostgreSQL answer from indexes alone.
            cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
        print(f"loaded {args.people:,} people in {time.perf_counter() - t:.0f} s")

    definition = definition_clean(
        {
            "conditions": [
                {"type": "tags", "mode": "any", "tags": [Tag.objects.get(name="volunteer").pk]},
                {"type": "near", "postal_code": CENTER, "radius": 25, "unit": "mi"},
                {"type": "email_status", "statuses": ["subscribed"]},
            ]
        }
    )
    segment, _ = Segment.objects.update_or_create(
        slug="bench-denver-volunteers",
        defaults={"name": "Bench: Denver volunteers", "definition": definition},
    )
    timings, count = [], None
    for _ in range(args.runs):
        started = time.perf_counter()
        count = segment_people(segment).count()
        timings.append((time.perf_counter() - started) * 1000)
    print(
        f"{connection.vendor}, {args.people:,} people: segment count = {count:,};"
        f" cold {timings[0]:.0f} ms, warm median {statistics.median(timings[1:]):.0f} ms,"
        f" max {max(timings):.0f} ms (target < 300 ms on PostgreSQL)"
    )
    query = segment_people(segment).order_by().values("pk").query
    sql, params = query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT COUNT(*) FROM ({sql}) s", params
            )
        else:
            cursor.execute(f"EXPLAIN QUERY PLAN SELECT COUNT(*) FROM ({sql}) s", params)
        print("\n".join(str(row[-1]) for row in cursor.fetchall()))


if __name__ == "__main__":
    main()
