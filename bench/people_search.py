"""Benchmark: the organizer people list and search, and the Join POST, at a given list size.

    .venv/bin/python bench/people_search.py [--people 20000] [--repeat 20] [--write]

Runs in one process on a throwaway SQLite database in a temporary folder (DATABASE_URL to use
another database: it must be empty and disposable). Seeds --people people, each with an email,
a phone, an address over real ZIP codes and 0-2 tags, then times through Django's test client,
logged in as an organizer:
  - baseline: GET of the people list filtered to nobody (session, user and one empty query);
  - the first page of the people list (count + 25 rows with contacts and tags);
  - search by full email, by email prefix, by name, by last 4 phone digits, by tag, by ZIP;
  - a Join POST (match or create, ledger act, queued email).
Prints the median milliseconds and the ratio to the baseline; --write appends them to
bench/README.md.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup_django(tmp: str) -> None:
    os.environ.setdefault("RALLYPOINT_VAR_DIR", tmp)
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{tmp}/bench.sqlite3")
    os.environ.setdefault("TASK_BACKEND", "dummy")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rallypoint.settings")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.conf import settings

    settings.JOIN_RATE_LIMIT = (10**9, 60)
    settings.ALLOWED_HOSTS = ["testserver"]
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def seed(n: int) -> None:
    import random

    import zipcodes

    from rallypoint.core.geo import lookup_postal_code
    from rallypoint.people.models import (
        EmailAddress,
        Person,
        PhoneNumber,
        PostalAddress,
        Tag,
        Tagging,
    )

    rng = random.Random(7)
    zips = [z["zip_code"] for z in zipcodes.list_all() if z.get("zip_code_type") == "STANDARD"]
    zips = rng.sample(zips, 500)
    tags = [Tag.objects.create(name=name) for name in ("volunteer", "donor", "host", "captain")]
    people = Person.objects.bulk_create(
        [Person(given_name=f"Given{i}", family_name=f"Family{i % 997}") for i in range(n)],
        batch_size=5000,
    )
    EmailAddress.objects.bulk_create(
        [
            EmailAddress(
                person=p,
                address=f"person{i}@bench.example.org",
                address_normalized=f"person{i}@bench.example.org",
                primary=True,
            )
            for i, p in enumerate(people)
        ],
        batch_size=5000,
    )
    PhoneNumber.objects.bulk_create(
        [
            PhoneNumber(person=p, number=f"+1202{2000000 + i:07d}", primary=True)
            for i, p in enumerate(people)
        ],
        batch_size=5000,
    )
    addresses = []
    for p in people:
        place = lookup_postal_code(rng.choice(zips))
        if place:
            addresses.append(
                PostalAddress(
                    person=p,
                    primary=True,
                    postal_code=place.postal_code,
                    locality=place.locality,
                    region=place.region,
                    latitude=place.latitude,
                    longitude=place.longitude,
                )
            )
    PostalAddress.objects.bulk_create(addresses, batch_size=5000)
    Tagging.objects.bulk_create(
        [
            Tagging(person=p, tag=t)
            for p in people
            for t in rng.sample(tags, rng.choice([0, 0, 1, 2]))
        ],
        batch_size=5000,
    )


def timed(fn, repeat: int) -> float:
    fn()  # warm caches and templates
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        setup_django(tmp)
        from django.db import connection
        from django.test import Client

        from rallypoint.accounts.models import Role, User
        from rallypoint.people.models import PostalAddress

        started = time.perf_counter()
        seed(args.people)
        print(f"seeded {args.people:,} people in {time.perf_counter() - started:.1f}s")
        organizer = User.objects.create_user("bench@example.org", "x", role=Role.ORGANIZER)
        client = Client()
        client.force_login(organizer)
        some_zip = PostalAddress.objects.values_list("postal_code", flat=True).first()
        mid = args.people // 2

        def get(params):
            def run():
                response = client.get("/people/", params)
                assert response.status_code == 200, response.status_code

            return run

        counter = iter(range(10**9))

        def join():
            i = next(counter)
            response = Client().post(
                "/people/join/",
                {
                    "given_name": "New",
                    "email": f"new{i}@bench.example.org",
                    "postal_code": "80202",
                    "country": "US",
                },
            )
            assert response.status_code == 302, response.status_code

        cases = [
            ("baseline: list filtered to nobody (tag that no one has)", get({"tag": "nobody"})),
            ("people list, first page", get({})),
            ("search full email", get({"q": f"person{mid}@bench.example.org"})),
            ("search email prefix", get({"q": f"person{mid}@"})),
            ("search name", get({"q": f"Given{mid}"})),
            ("search last 4 phone digits", get({"q": f"{(2000000 + mid) % 10000:04d}"})),
            ("filter by tag", get({"tag": "captain"})),
            ("filter by ZIP", get({"postal_code": some_zip})),
            ("join POST (new person)", join),
        ]
        results = []
        for label, fn in cases:
            results.append((label, timed(fn, args.repeat)))
        base = results[0][1]
        vendor = connection.vendor
        lines = [f"| {label} | {ms:.1f} | {ms / base:.1f}× |" for label, ms in results]
        table = "\n".join(
            [
                f"### People list and search ({args.people:,} people, {vendor}, median of "
                f"{args.repeat})",
                "",
                "| what | ms | vs baseline |",
                "|---|---|---|",
                *lines,
            ]
        )
        print(table)
        if args.write:
            readme = ROOT / "bench" / "README.md"
            existing = readme.read_text() if readme.exists() else "# Benchmarks\n"
            readme.write_text(existing.rstrip("\n") + "\n\n" + table + "\n")


if __name__ == "__main__":
    main()
