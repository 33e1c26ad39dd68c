"""Benchmark: the OSDI API's people list, filters, deep pages and the signup helper.

    .venv/bin/python bench/api_osdi.py [--people 20000] [--repeat 15] [--write]

Runs in one process on a throwaway SQLite database in a temporary folder (DATABASE_URL to use
another database: it must be empty and disposable). Seeds --people people, each with an email,
a phone, an address and a tag, issues a read-write key, and times through Django's test client:
  - baseline: GET /api/v1/tags filtered to nothing (key check, rate limit, one count);
  - the first page of /people (25 people with emails, phones, addresses and taggings);
  - a deep page of /people (the middle of the list);
  - filter email_address eq '…' and modified_date gt '…' (an hour ago: a sync client's poll);
  - the signup helper POST: a new person, then an existing one;
  - the signup helper POST with an active webhook (the event is stored after commit; sending is
    the task worker's job, so tasks are collected, not run).
Prints the median milliseconds and the ratio to the baseline; --write appends them to
bench/README.md.

Targets: a page of 25 people within 15× the baseline (a ~2 ms request; the page's time is the
ORM building 25 people with four kinds of contacts), a deep page within 1.5× the first page, a
lookup by email within 6×, the signup helper within 10×, and a webhook adding at most 1.2× to
the signup helper (the record is rendered later, by the worker).
"""

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from datetime import timedelta
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

    settings.API_RATE_LIMIT = 10**9
    settings.ALLOWED_HOSTS = ["testserver"]
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def seed(n: int) -> None:
    from rallypoint.people.models import (
        EmailAddress,
        Person,
        PhoneNumber,
        PostalAddress,
        Tag,
        Tagging,
    )

    tag = Tag.objects.create(name="volunteer")
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
        [PhoneNumber(person=p, number=f"+1202555{i % 10000:04d}") for i, p in enumerate(people)],
        batch_size=5000,
    )
    PostalAddress.objects.bulk_create(
        [PostalAddress(person=p, primary=True, postal_code="80202", region="CO") for p in people],
        batch_size=5000,
    )
    Tagging.objects.bulk_create([Tagging(person=p, tag=tag) for p in people[::3]], batch_size=5000)


def timed(call, repeat: int) -> float:
    call()  # warm caches and the key's last-use stamp
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        setup_django(tmp)
        seed(args.people)
        from django.test import Client
        from django.utils import timezone

        from rallypoint.api.services import apikey_create
        from rallypoint.webhooks.services import hook_create

        _, raw = apikey_create(name="bench", scope="read-write")
        client = Client(HTTP_OSDI_API_TOKEN=raw)
        counter = iter(range(10**9))

        def get(path, **params):
            def call():
                response = client.get(path, params)
                assert response.status_code == 200, response.content[:300]

            return call

        def signup(existing: bool):
            def call():
                address = "person7@bench.example.org" if existing else f"new{next(counter)}@x.org"
                body = {"person": {"email_addresses": [{"address": address}]}, "add_tags": ["api"]}
                response = client.post("/api/v1/people", json.dumps(body), "application/json")
                assert response.status_code in (200, 201), response.content[:300]

            return call

        hour_ago = (timezone.now() - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
        middle = max(args.people // 50, 1)
        runs = [
            ("baseline: tags filtered to nothing", get("/api/v1/tags", filter="name eq 'none'")),
            ("people, first page of 25", get("/api/v1/people")),
            (f"people, page {middle}", get("/api/v1/people", page=middle)),
            (
                "filter email_address eq",
                get("/api/v1/people", filter="email_address eq 'person99@bench.example.org'"),
            ),
            (
                "filter modified_date gt (an hour ago)",
                get("/api/v1/people", filter=f"modified_date gt '{hour_ago}'"),
            ),
            ("signup helper, new person", signup(existing=False)),
            ("signup helper, existing person", signup(existing=True)),
        ]
        results = [(name, timed(call, args.repeat)) for name, call in runs]
        hook_create(
            name="bench",
            url="https://receiver.example.org/hook",
            event_types=["person.created", "person.updated"],
            actor=None,
        )
        results.append(
            (
                "signup helper, new person, with a webhook",
                timed(signup(existing=False), args.repeat),
            )
        )
        base = results[0][1]
        lines = [
            f"### OSDI API ({args.people:,} people, sqlite, median of {args.repeat})",
            "",
            f"`.venv/bin/python bench/api_osdi.py --people {args.people} --write` (one process, "
            "throwaway SQLite; Django test client, so no HTTP server time). Targets: a page of "
            "25 people within 15× the baseline, a deep page within 1.5× the first page, a "
            "lookup by email within 6×, the signup helper within 10×, a webhook adding at most "
            "1.2× to it (its record is rendered later by the worker). Shared 2-core machine: "
            "expect noise.",
            "",
            "| what | ms | vs baseline |",
            "|---|---|---|",
            *[f"| {name} | {ms:.1f} | {ms / base:.1f}× |" for name, ms in results],
            "",
        ]
        print("\n".join(lines))
        if args.write:
            with open(ROOT / "bench" / "README.md", "a") as readme:
                readme.write("\n" + "\n".join(lines))


if __name__ == "__main__":
    main()
