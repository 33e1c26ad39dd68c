"""Benchmark: a campaign's spread at the scale of a national campaign.

    .venv/bin/python bench/spread.py [--people 1000000] [--part summary|celf|all] [--write]

What it does, against PostgreSQL on 127.0.0.1 (BENCH_DATABASE_URL to change):
  1. creates its own database (rp_bench_spread), migrates it, and — once; kept for later runs
     unless --rebuild — loads a synthetic campaign of --people people with COPY
     (people.rows.insert_rows): 2% of them start on their own (roots), every other person is
     brought in by someone who still has room to recruit (out-degrees drawn from a power law,
      exponent 2.8: 0.88 recruits on average, most people bringing nobody, a few hundreds; a
     cascade ends when its people have used their room, and the next person starts a new one),
     through one of several channels; each person's first act, the recruiter's "recruit"
     credit for every edge, and a second act for a third of the people, over 120 days;
  2. --part summary: the spread summary (insights.services.grid.spread_summary, the numbers of
     the insights pages, `rallypoint insights spread` and the API) timed cold (empty cache:
     every query and the walk of the forest) and warm (the cached summary, as every page
     view within SPREAD_CACHE_SECONDS after the first), and recomputed with a warm database
     (use_cache=False); baselines measured in the same run: a plain count of the campaign's
     edges and one of its acts (a scan of each table: the floor of any read of them);
  3. --part celf: whom to ask next, IMM for k = 50 on a synthetic forest of 100,000 people
     (bench/spread_celf.py's), with the simulated reach of the chosen set against the "most
     recruits so far" rule's;
  4. prints a table with the peak RSS of the process, and with --write replaces its section of
     bench/README.md.
"""

import argparse
import math
import os
import random
import resource
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))
import postgres_setup  # noqa: E402

DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/rp_bench_spread"
SECTION = "### Spread summary (bench/spread.py)"
SLUG = "bench-spread"
CHANNELS = [("facebook", 30), ("x", 15), ("whatsapp", 20), ("email", 20), ("sms", 10), ("", 5)]
ROOT_SHARE = 0.02
EXPONENT = 2.8
MAX_DEGREE = 500
DAYS = 120
CHUNK = 50_000


def setup_django(url: str) -> None:
    postgres_setup.setup_django(url, var_dir="/tmp/rp-bench-spread-var")


# --- the synthetic campaign --------------------------------------------------------------------


def out_degree(rng: random.Random) -> int:
    """A power-law number of recruits: P(k) ∝ (k + 1)^-EXPONENT, most people bring nobody."""
    u = rng.random()
    k = int((1 - u) ** (-1 / (EXPONENT - 1))) - 1
    return min(k, MAX_DEGREE)


def grid_generate(n: int, seed: int) -> tuple[list[int], list[str], list[float]]:
    """(recruiter index or -1 for a root, channel, arrival in days) for each of n people, in
    arrival order: someone with room left recruits the next person, breadth first."""
    rng = random.Random(seed)
    names = [c for c, _ in CHANNELS]
    weights = [w for _, w in CHANNELS]
    recruiter = [-1] * n
    channel = [""] * n
    room: list[int] = []  # people with room left, oldest first
    left = [0] * n
    head = 0
    for i in range(n):
        while head < len(room) and left[room[head]] == 0:
            head += 1
        if head < len(room) and rng.random() > ROOT_SHARE:
            r = room[head]
            recruiter[i] = r
            channel[i] = rng.choices(names, weights)[0]
            left[r] -= 1
        left[i] = out_degree(rng)
        if left[i]:
            room.append(i)
    arrival = sorted(rng.random() * DAYS for _ in range(n))
    return recruiter, channel, arrival


def load(n: int, seed: int) -> None:
    from django.db import connection, transaction

    from rallypoint.ledger.models import Activity, Recruitment
    from rallypoint.mission.models import Campaign
    from rallypoint.people.models import Person
    from rallypoint.people.rows import insert_rows

    started = time.perf_counter()
    recruiter, channel, arrival = grid_generate(n, seed)
    print(f"  generated the grid in {time.perf_counter() - started:.1f} s")
    campaign = Campaign.objects.create(name="Bench: spread", slug=SLUG, status="live")
    start = datetime(2026, 1, 1, tzinfo=UTC)
    at = [start + timedelta(days=d) for d in arrival]
    ids: list[int] = []
    for lo in range(0, n, CHUNK):
        with transaction.atomic():
            ids += insert_rows(
                Person,
                ["given_name", "family_name", "source"],
                [("Pat", f"Grid{i}", "bench") for i in range(lo, min(lo + CHUNK, n))],
                returning=True,
            )
        print(f"  people {len(ids):,}", end="\r", flush=True)
    print()
    rng = random.Random(seed + 1)
    written = 0
    for lo in range(0, n, CHUNK):
        edges, acts = [], []
        for i in range(lo, min(lo + CHUNK, n)):
            r = recruiter[i]
            ch = channel[i]
            referrer = ids[r] if r >= 0 else None
            acts.append((ids[i], "sign", campaign.pk, 1, referrer, ch if r >= 0 else "", at[i]))
            if r >= 0:
                edges.append((ids[r], ids[i], campaign.pk, ch, at[i]))
                acts.append((ids[r], "recruit", campaign.pk, 5, None, ch, at[i]))
            if rng.random() < 1 / 3:
                later = at[i] + timedelta(days=rng.random() * 10)
                acts.append(
                    (
                        ids[i],
                        rng.choice(["rsvp", "share", "donate"]),
                        campaign.pk,
                        1,
                        None,
                        "",
                        later,
                    )
                )
        with transaction.atomic():
            insert_rows(
                Recruitment,
                ["recruiter_id", "recruit_id", "campaign_id", "channel", "created_at"],
                edges,
            )
            insert_rows(
                Activity,
                [
                    "person_id",
                    "kind",
                    "campaign_id",
                    "points",
                    "referrer_id",
                    "channel",
                    "created_at",
                ],
                acts,
            )
        written += len(acts)
        print(
            f"  people with their acts and edges {min(lo + CHUNK, n):,} ({written:,} acts)",
            end="\r",
            flush=True,
        )
    print()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")


# --- measuring ---------------------------------------------------------------------------------


def timed(fn, runs: int = 1) -> tuple[float, object]:
    """(median seconds over `runs`, the last result)."""
    times = []
    result = None
    for _ in range(runs):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times), result


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def part_summary(campaign, runs: int) -> list[tuple[str, float, str]]:
    """Rows (what, seconds, note) of the summary part."""
    from django.core.cache import cache
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse

    from rallypoint.insights.services.grid import spread_summary

    def count(table: str) -> int:
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {table} WHERE campaign_id = %s", [campaign.pk])
            return cursor.fetchone()[0]

    # A web process has its URLconf loaded (the summary reverses the campaign's page
    # addresses): load it here, so that the cold figure is not the import of every view.
    reverse("mission:detail", args=[campaign.slug])
    baseline, edges = timed(lambda: count("sharing_recruitment"), runs)
    acts_scan, acts = timed(lambda: count("ledger_activity"), runs)
    cache.clear()
    cold, summary = timed(lambda: spread_summary(campaign))
    rss_after_cold = peak_rss_mb()
    warm, same = timed(lambda: spread_summary(campaign), runs)
    assert same == summary, "the cached summary differs from the computed one"
    recomputed, again = timed(lambda: spread_summary(campaign, use_cache=False), runs)
    assert again == summary, "a recomputed summary differs from the first one"
    with CaptureQueriesContext(connection) as queries:
        spread_summary(campaign, use_cache=False)
    in_database = sum(float(q["time"]) for q in queries.captured_queries)
    s = summary
    largest = s.largest[0].size if s.largest else 0
    note = (
        f"{s.participants:,} participants, {s.recruits:,} recruits, K {s.k_factor:.3f}, "
        f"{len(s.generations)} generations, {s.cascades:,} cascades (largest {largest:,}), "
        f"structural virality {s.structural_virality:.2f}"
    )
    return [
        ("baseline: SELECT count(*) of the campaign's edges", baseline, f"{edges:,} edges"),
        ("SELECT count(*) of the campaign's acts", acts_scan, f"{acts:,} acts"),
        ("spread summary, cold (empty cache)", cold, note),
        ("spread summary, warm (cached)", warm, ""),
        ("spread summary recomputed, warm database (use_cache=False)", recomputed, ""),
        (
            "of which the queries (run and read by the driver)",
            in_database,
            f"{len(queries.captured_queries)} queries",
        ),
        ("peak RSS after the cold summary (MB)", rss_after_cold, ""),
    ]


def part_celf(campaign, runs: int) -> list[tuple[str, float, str]]:
    """Whom to ask next: IMM for k = 50 on bench/spread_celf.py's synthetic forest of 100,000
    people (no database: its graph is what insights.services.ask.campaign_graph builds), and
    the simulated reach of the chosen set and of the "most recruits so far" rule's."""
    import spread_celf

    from rallypoint.insights.services.ask import imm, reach_simulate, top_by

    graph, recruits = spread_celf.synthetic_forest(100_000, 2008)
    chose, chosen = timed(lambda: imm(graph, 50, model="ic", seed=2008))
    heuristic = top_by(recruits, 50, graph)
    ours = reach_simulate(graph, chosen, model="ic", runs=200, seed=2008)
    theirs = reach_simulate(graph, heuristic, model="ic", runs=200, seed=2008)
    return [
        (
            "whom to ask next: IMM, k = 50, 100,000 people (IC, ε = 0.3)",
            chose,
            f"reach {ours.mean:,.1f} against {theirs.mean:,.1f} for the most recruits so far "
            f"({ours.mean / theirs.mean:.3f}×), 200 simulations each",
        ),
        ("peak RSS after whom to ask next (MB)", peak_rss_mb(), ""),
    ]


def table(rows: list[tuple[str, float, str]], baseline: float) -> str:
    lines = ["| what | seconds | vs baseline | notes |", "|---|---|---|---|"]
    for what, seconds, note in rows:
        if what.startswith("peak RSS"):
            lines.append(f"| {what} | {seconds:,.0f} MB | | {note} |")
            continue
        ratio = seconds / baseline if baseline else math.nan
        shown = f"{seconds:.4f}" if seconds < 0.01 else f"{seconds:.3f}"
        lines.append(f"| {what} | {shown} | {ratio:,.2f}× | {note} |")
    return "\n".join(lines)


def write_readme(text: str) -> None:
    readme = ROOT / "bench" / "README.md"
    content = readme.read_text()
    if SECTION in content:
        before, rest = content.split(SECTION, 1)
        after = rest.split("\n### ", 1)
        content = before + text + ("\n### " + after[1] if len(after) > 1 else "\n")
    else:
        content = content.rstrip("\n") + "\n\n" + text + "\n"
    readme.write_text(content)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--part", choices=["summary", "celf", "all"], default="all")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=2008)
    parser.add_argument("--rebuild", action="store_true")
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
    setup_django(url)
    from django.db import connection

    from rallypoint.mission.models import Campaign
    from rallypoint.people.models import Person

    campaign = Campaign.objects.filter(slug=SLUG).first()
    have = Person.objects.count() if campaign else 0
    if args.rebuild or campaign is None or have != args.people:
        if have or campaign:
            with connection.cursor() as cursor:
                cursor.execute(
                    "TRUNCATE people_person, ledger_activity, sharing_recruitment, "
                    "mission_campaign RESTART IDENTITY CASCADE"
                )
        t = time.perf_counter()
        load(args.people, args.seed)
        print(f"loaded {args.people:,} people in {time.perf_counter() - t:.0f} s")
        campaign = Campaign.objects.get(slug=SLUG)
    rows: list[tuple[str, float, str]] = []
    if args.part in ("summary", "all"):
        rows += part_summary(campaign, args.runs)
    if args.part in ("celf", "all"):
        rows += part_celf(campaign, args.runs)
    baseline = rows[0][1] if rows else 0.0
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        version = cursor.fetchone()[0]
    load_average = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    cache = "Redis" if os.environ.get("REDIS_URL") else "local memory"
    text = "\n".join(
        [
            SECTION,
            "",
            f"`.venv/bin/python bench/spread.py --people {args.people} --part {args.part}` "
            f"on PostgreSQL {version.split()[0]}, cache in {cache}; "
            f"{datetime.now(UTC):%Y-%m-%d %H:%M} UTC, load average {load_average} at the end "
            "(2 cores shared with other work: compare ratios, not absolute times). Medians of "
            f"{args.runs} runs (the cold summary and IMM: one). Targets: the summary under 2 s, "
            "recomputed, once the database's caches are warm; IMM under 60 s.",
            "",
            table(rows, baseline),
            "",
            "The synthetic campaign: people arrive over 120 days, 2% start on their own, everyone "
            "else is brought in (breadth first) by someone with room left to recruit, out-degrees "
            "from a power law (exponent 2.8, 0.88 recruits a person on average: most bring nobody, "
            "a few bring hundreds), through Facebook, X, WhatsApp, email, SMS or no named channel; "
            'each person has their first act, each recruiter a "recruit" credit per recruit, '
            "and a third of the people a second act (about 2.2 acts a person). Cold: the "
            "first request after the cache expired; warm: every request within "
            "SPREAD_CACHE_SECONDS (120 s) after it, served from the cache "
            "(`core.cache.CachedValue`, one entry per campaign and window; the process has its "
            "URLconf loaded, as a web process has); recomputed: the same "
            "work as cold with the database's pages already in memory. The queries' row shows "
            "how much of a recompute is the database and the driver (the edges and the acts, "
            "each packed by PostgreSQL into one binary string per column: "
            "insights.services.columns); the rest is numpy (insights.services.forest).",
            "",
        ]
    )
    print(text)
    if args.write:
        write_readme(text)


if __name__ == "__main__":
    main()
