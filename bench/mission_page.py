"""Benchmark: the public mission page (three goals, live progress, feed, leaderboard, ways to
help) against a minimal Django view, measured in the same run.

    .venv/bin/python bench/mission_page.py [--duration 10] [--connections 32] [--acts 100000]
                                           [--with-submissions] [--write]

What it does, all on 127.0.0.1:
  1. creates its own PostgreSQL database (rp_bench_mission; BENCH_DATABASE_URL to change),
     migrates it and seeds a live campaign with three goals (one limited to Ohio), a live
     petition, --people supporters and --acts ledger rows spread over 60 days;
  2. times the goal-progress aggregate itself, uncached, over those rows (and prints its plan);
  3. starts gunicorn (gthread, like `rallypoint serve`) with the product settings plus an
     overlay (bench/mission_page_settings.py) adding the baseline view at /bench/minimal/;
  4. runs `wrk` for --duration seconds each: the baseline, then the mission page, then
     (--with-submissions) the mission page while a second wrk (--submit-connections) posts
     petition signatures with share codes (the request mix of bench/action_submit.py);
  5. prints requests/s, p50/p99 and the ratio to the baseline; --write puts them in
     bench/README.md under its own heading.
"""

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

from action_submit import (
    DEFAULT_THREADS,
    DEFAULT_WORKERS,
    GET_LUA,
    SUBMIT_LUA,
    bench_env,
    csrf_pair,
    database_prepare,
    wait_ready,
    write_slots_label,
    wrk,
)

from rallypoint.core.management.commands.serve import gunicorn_command

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PYTHON = sys.executable
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/rp_bench_mission"

SEED = r"""
import json, random, sys
from datetime import timedelta
from django.utils import timezone
from rallypoint.actions.models import Action
from rallypoint.ledger.models import Activity
from rallypoint.mission.models import Campaign, Goal
from rallypoint.people.models import EmailAddress, Person, PostalAddress

people_n, acts_n = int(sys.argv[1]), int(sys.argv[2])
rng, now = random.Random(2008), timezone.now()
campaign = Campaign.objects.create(name="Bench mission", slug="bench-mission", status="live",
    summary="Three goals and a busy ledger.", story="<p>Benchmarks for everyone.</p>")
Goal.objects.bulk_create([
    Goal(campaign=campaign, kind="sign", target=100000, position=0,
         deadline=now + timedelta(days=30)),
    Goal(campaign=campaign, kind="pledge", target=50000, position=1),
    Goal(campaign=campaign, kind="sign", target=10000, region="OH", position=2),
])
action = Action.objects.create(kind="petition", campaign=campaign, title="Bench petition",
    slug="bench-petition", status="live", targets=[{"name": "Bench target"}],
    petition_text="Benchmarks for everyone.", goal=100000)
people = Person.objects.bulk_create(
    [Person(given_name=f"Seed{i}", family_name="Person") for i in range(people_n)],
    batch_size=5000)
EmailAddress.objects.bulk_create([EmailAddress(person=p, address=f"seed{i}@bench.example.org",
    address_normalized=f"seed{i}@bench.example.org", primary=True)
    for i, p in enumerate(people)], batch_size=5000)
PostalAddress.objects.bulk_create([PostalAddress(person=p, primary=True,
    region="OH" if rng.random() < 0.1 else "CO", locality="Columbus", postal_code="43215")
    for p in people], batch_size=5000)
kinds = ["sign"] * 60 + ["pledge"] * 25 + ["share"] * 15
Activity.objects.bulk_create((Activity(person=rng.choice(people), kind=rng.choice(kinds),
    campaign=campaign, points=1, created_at=now - timedelta(seconds=rng.randint(0, 60 * 86400)))
    for _ in range(acts_n)), batch_size=5000)
codes = list(Person.objects.order_by("id").values_list("share_code", flat=True)[:2000])
print(json.dumps({"campaign": campaign.slug, "slug": action.slug, "codes": codes}))
"""

PROGRESS_TIMING = r"""
import json, statistics, time
from django.db import connection
from rallypoint.ledger.models import Activity
from rallypoint.mission.models import Campaign
from rallypoint.mission.queries import goals_progress_counts
campaign = Campaign.objects.get(slug="bench-mission")
goals = list(campaign.goals.all())
goals_progress_counts(goals, use_cache=False)
times = []
for _ in range(15):
    t = time.perf_counter()
    counts = goals_progress_counts(goals, use_cache=False)
    times.append((time.perf_counter() - t) * 1000)
sql, params = Activity.objects.filter(
    campaign=campaign, kind__in=["sign", "pledge"]).values("kind").query.sql_with_params()
with connection.cursor() as cursor:
    cursor.execute("EXPLAIN " + sql, params)
    plan = " / ".join(row[0].strip() for row in cursor.fetchall()[:4])
print(json.dumps({"median_ms": statistics.median(times), "counts": list(counts.values()),
                  "plan": plan}))
"""


def sh(cmd, env, **kwargs):
    return subprocess.run(cmd, env=env, cwd=ROOT, check=True, text=True, **kwargs)


def manage_shell(env, code: str, *argv: str) -> dict:
    script = f"import sys; sys.argv=['', {', '.join(repr(a) for a in argv)}]\n{code}"
    out = sh([PYTHON, "-m", "rallypoint", "shell", "-c", script], env, capture_output=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=10, help="seconds per run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--workers", type=int, default=DEFAULT_WORKERS, help="gunicorn worker processes"
    )
    parser.add_argument(
        "--threads", type=int, default=DEFAULT_THREADS, help="gunicorn threads per worker"
    )
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--acts", type=int, default=100_000, help="ledger rows seeded")
    parser.add_argument("--with-submissions", action="store_true")
    parser.add_argument(
        "--submit-connections",
        type=int,
        default=32,
        help="wrk connections posting signatures during --with-submissions",
    )
    parser.add_argument("--port", type=int, default=8792)
    parser.add_argument("--write", action="store_true", help="put results in bench/README.md")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("This benchmark drives the server with wrk: apt-get install wrk")

    db_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
    var_dir = tempfile.mkdtemp(prefix="rp-bench-mission-")
    env = bench_env(db_url, var_dir, "mission_page_settings", args.port)
    print(f"database {db_url}; var {var_dir}")
    database_prepare(db_url)
    sh([PYTHON, "-m", "rallypoint", "migrate", "-v0"], env)
    print(f"seeding {args.people:,} people and {args.acts:,} acts …")
    seeded = manage_shell(env, SEED, str(args.people), str(args.acts))
    progress = manage_shell(env, PROGRESS_TIMING)
    print(
        f"progress of 3 goals over {args.acts:,} acts, uncached: "
        f"{progress['median_ms']:.1f} ms (counts {progress['counts']})\nplan: {progress['plan']}"
    )

    base = f"http://127.0.0.1:{args.port}"
    # Started as `rallypoint serve` starts it (a listening socket per worker when several).
    server = subprocess.Popen(
        [
            *gunicorn_command(
                PYTHON,
                host="127.0.0.1",
                port=args.port,
                workers=args.workers,
                threads=args.threads,
                reuse_port=True,
            ),
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=ROOT,
        start_new_session=True,
    )
    mission_url = f"{base}/campaigns/{seeded['campaign']}/"
    results: dict[str, dict] = {}
    try:
        wait_ready(mission_url)
        html = urllib.request.urlopen(mission_url, timeout=10).read().decode()
        if html.count('class="goal') < 3 or "Bench petition" not in html:
            raise SystemExit("the mission page did not show its three goals and the petition")
        print("warming up …")
        wrk(mission_url, GET_LUA, connections=args.connections, duration=2)
        wrk(base + "/bench/minimal/", GET_LUA, connections=args.connections, duration=2)
        print("baseline: minimal view …")
        results["baseline"] = wrk(
            base + "/bench/minimal/", GET_LUA, connections=args.connections, duration=args.duration
        )
        print("mission page …")
        results["mission"] = wrk(
            mission_url, GET_LUA, connections=args.connections, duration=args.duration
        )
        if args.with_submissions:
            token, cookie = csrf_pair(f"{base}/act/{seeded['slug']}/")
            submit_lua = SUBMIT_LUA % {
                "csrf": token,
                "cookie": cookie,
                "slug": seeded["slug"],
                "codes": ",".join(f'"{c}"' for c in seeded["codes"]),
                "nonce": str(time.time_ns()),
                "max_new": 50_000,
                "existing": args.people,
            }
            box: dict[str, dict] = {}
            writer = threading.Thread(
                target=lambda: box.update(
                    submit=wrk(
                        base + "/",
                        submit_lua,
                        connections=args.submit_connections,
                        duration=args.duration,
                    )
                )
            )
            print("mission page while petition signatures are posted …")
            writer.start()
            results["mission_during_submissions"] = wrk(
                mission_url, GET_LUA, connections=args.connections, duration=args.duration
            )
            writer.join(timeout=args.duration + 60)
            results["submissions_meanwhile"] = box.get("submit", {})
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
    report(results, progress, args)


def report(results: dict, progress: dict, args) -> None:
    base = results["baseline"]["rps"]
    lines = [
        "| run | requests/s | ratio to baseline | p50 ms | p99 ms | errors |",
        "|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        if not r:
            continue
        errors = r["errors"] + r["bad_status"]
        lines.append(
            f"| {name} | {r['rps']:.0f} | {r['rps'] / base:.2f} | {r['p50_ms']:.1f} | "
            f"{r['p99_ms']:.1f} | {errors} |"
        )
    table = "\n".join(lines)
    print(table)
    target = results.get("mission_during_submissions") or results["mission"]
    print(f"mission page: {target['rps']:.0f} req/s (target ≥1,500 while submissions run)")
    if args.write:
        readme = BENCH / "README.md"
        text = readme.read_text() if readme.exists() else "# Benchmarks\n"
        load = os.getloadavg()[0]
        section = (
            "## Mission page (bench/mission_page.py)\n\n"
            f"Last run {time.strftime('%Y-%m-%d')}: PostgreSQL, gunicorn gthread "
            f"{args.workers}×{args.threads}"
            f"{' (a listening socket per worker)' if args.workers > 1 else ''}, "
            f"WRITE_CONCURRENCY {write_slots_label()}, "
            f"wrk {args.connections} connections, "
            f"{args.duration} s per run, {args.acts:,} ledger rows, "
            f"{args.submit_connections} connections posting signatures during submissions, "
            "on this machine "
            f"({os.cpu_count()} cores, load average {load:.1f} before the run). The baseline is "
            "a view with no query and no template behind the same middleware.\n\n"
            f"{table}\n\n"
            f"Goal progress (three goals, one limited to a region) aggregated from "
            f"{args.acts:,} ledger rows without the cache: {progress['median_ms']:.1f} ms "
            "median; the page caches it for 5 seconds (core.cache), so under load it runs at most "
            "once per 5 s per cache (per process with the default local-memory cache, once for "
            "all processes with Redis).\n\n"
            "An anonymous page request runs no query and renders nothing: the page is "
            "rendered at most once per 5 s per cache, and for 1 s after each render the "
            "finished response is answered from the cache before the middleware stack "
            "(core.shared_pages), which is why it can beat the baseline view that walks the "
            "middleware. While "
            "signatures are posted, both kinds of request share gunicorn's threads and the two "
            "cores with PostgreSQL. Each process writes signatures in at most "
            "WRITE_CONCURRENCY batches at once (signatures that arrive together are written "
            "together by one thread; the others wait for their answer without using the CPU), "
            "so with more threads than write slots page requests find a free thread at once "
            "instead of queueing behind signatures (docs/deployment.md, Busy days).\n"
        )
        pattern = re.compile(r"## Mission page \(bench/mission_page.py\).*?(?=\n## |\Z)", re.S)
        text = (
            pattern.sub(section.rstrip("\n") + "\n", text)
            if pattern.search(text)
            else (text.rstrip("\n") + "\n\n" + section)
        )
        readme.write_text(text)


if __name__ == "__main__":
    main()
