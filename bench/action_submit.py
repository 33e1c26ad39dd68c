"""Benchmark: the public petition POST under load, against a baseline of one INSERT per request.

    .venv/bin/python bench/action_submit.py [--duration 15] [--connections 32]

What it does, all on 127.0.0.1:
  1. creates its own PostgreSQL database (rp_bench_actions; BENCH_DATABASE_URL to change),
     migrates it and seeds a live campaign, a live petition and --existing people;
  2. starts gunicorn (gthread, like `rallypoint serve`) with the product settings plus a small
     overlay (bench/action_submit_settings.py) that adds the baseline view at /bench/insert/;
  3. runs `wrk` (apt-get install wrk) with --connections for --duration seconds each:
       a. the baseline: POST /bench/insert/ (parse the form, one ORM INSERT);
       b. the petition: POST /act/<slug>/ with a CSRF token and ref/ch fields, 70% new people and
          30% existing ones, every one carrying some supporter's share code;
       c. the petition again, with the mission page (GET /campaigns/<slug>/) loaded at the same
          time by a second wrk;
  4. prints requests/s, p50/p99 latency and the ratio to the baseline, checks every response
     was the expected one, and can append the figures to bench/README.md (--write).

Every load run is bounded in time (wrk -d, plus a subprocess timeout) and in count (each wrk
thread stops making new people after --max-per-thread and reuses existing ones). The per-IP
rate limit is switched off for the run with ACTION_RATE_LIMIT=0/1 (see docs/actions.md).
"""

import argparse
import http.cookiejar
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

from rallypoint.core.management.commands.serve import gunicorn_command

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PYTHON = sys.executable
DEFAULT_DB = "postgres://postgres@127.0.0.1:5432/rp_bench_actions"

SEED = r"""
import json, sys
from rallypoint.mission.models import Campaign
from rallypoint.actions.models import Action
from rallypoint.people.models import Person, EmailAddress
n = int(sys.argv[1])
campaign = Campaign.objects.create(name="Bench campaign", slug="bench-campaign", status="live")
action = Action.objects.create(kind="petition", campaign=campaign, title="Bench petition",
    slug="bench-petition", status="live", targets=[{"name": "Bench target"}],
    petition_text="Benchmarks for everyone.", goal=100000)
people = Person.objects.bulk_create(
    [Person(given_name=f"Seed{i}", family_name="Person") for i in range(n)], batch_size=2000)
EmailAddress.objects.bulk_create([EmailAddress(person=p, address=f"seed{i}@bench.example.org",
    address_normalized=f"seed{i}@bench.example.org", primary=True)
    for i, p in enumerate(people)], batch_size=2000)
codes = list(Person.objects.order_by("id").values_list("share_code", flat=True))
print(json.dumps({"slug": action.slug, "campaign": campaign.slug, "codes": codes}))
"""

SUBMIT_LUA = r"""
-- Each request: a petition POST with a CSRF token, a share code in ?ref= and a channel.
local csrf, cookie, slug = "%(csrf)s", "%(cookie)s", "%(slug)s"
local codes = {%(codes)s}
local channels = {"facebook", "email", "whatsapp", "x", "sms", "direct", "bluesky"}
local nonce, max_new, existing = "%(nonce)s", %(max_new)d, %(existing)d
local threads, counter = {}, 0
made = 0  -- a global of each thread's state, so that done() can read it (thread:get)
-- setup() runs in wrk's main script state: it numbers the threads and gives each its own
-- global `tid` (a chunk-level `local tid` would shadow it, so that every thread made the same
-- "new" addresses, in step, and most new signers collided with a concurrent twin).
local next_tid = 0

function setup(thread)
  next_tid = next_tid + 1
  thread:set("tid", next_tid)
  table.insert(threads, thread)
end

function init(args)
  math.randomseed(os.time() + tid * 7919)
  statuses = {}
end

request = function()
  counter = counter + 1
  local email
  if math.random() < 0.7 and made < max_new then
    made = made + 1
    email = string.format("n%%s-%%d-%%d@bench.example.org", nonce, tid, counter)
  else
    email = string.format("seed%%d@bench.example.org", math.random(0, existing - 1))
  end
  local code = codes[math.random(#codes)]
  local ch = channels[math.random(#channels)]
  -- ref/ch travel in the form's hidden fields, as on the page reached through ?ref=CODE&ch=…
  local body = "csrfmiddlewaretoken=" .. csrf .. "&given_name=Bench&family_name=Runner&email="
    .. email .. "&postal_code=80202&comment=&ref=" .. code .. "&ch=" .. ch
  local path = "/act/" .. slug .. "/"
  return wrk.format("POST", path, {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = "csrftoken=" .. cookie,
  }, body)
end

response = function(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

done = function(summary, latency, requests)
  local new_people = 0
  for _, thread in ipairs(threads) do
    new_people = new_people + thread:get("made")
  end
  io.write("RESULT " .. string.format(
    '{"requests": %%d, "seconds": %%f, "p50_ms": %%f, "p99_ms": %%f, "errors": %%d, '
    .. '"new_people": %%d}',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.status + summary.errors.timeout, new_people) .. "\n")
end
"""

BASELINE_LUA = r"""
local counter = 0
request = function()
  counter = counter + 1
  local body = "given_name=Bench&family_name=Runner&email=b" .. counter
    .. "@bench.example.org&postal_code=80202&comment="
  return wrk.format("POST", "/bench/insert/",
    {["Content-Type"] = "application/x-www-form-urlencoded"}, body)
end
done = function(summary, latency, requests)
  io.write("RESULT " .. string.format(
    '{"requests": %d, "seconds": %f, "p50_ms": %f, "p99_ms": %f, "errors": %d}',
    summary.requests, summary.duration / 1e6, latency:percentile(50) / 1000,
    latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.status + summary.errors.timeout) .. "\n")
end
"""

GET_LUA = """
request = function()
  return wrk.format("GET", wrk.path)
end
done = """ + BASELINE_LUA.split("done = ", 1)[1]


NOTES = """\
Baseline: POST /bench/insert/ (form parsed, one ORM INSERT, 204). Petition: POST /act/<slug>/
with a CSRF token and a share code, 70% new people and 30% existing ones; answered with the
302 to the thank-you page. The thank-you email is rendered later by a task (only its task row
is written in the request). CPU ms/request: CPU time of the gunicorn processes and of the
PostgreSQL backends serving the bench database during the run, divided by its requests. The
machine's two cores are shared with PostgreSQL, wrk and whatever else runs, so compare ratios
and CPU per request, not absolute rates; the baseline's own rate moves the most.

Signatures that arrive at the same moment are written together (actions.services.signatures,
submission_record_together; core.concurrency.write_together): the first request to arrive
while no batch is being written takes up to SIGNATURE_BATCH_MAX (16) waiting signatures and
writes them in one transaction, through the same write as a lone signature
(`signatures_write`): the people are matched or created together (people.services,
match_or_create_many), then one referrer lookup for all share codes, one look for the known
people's earlier signatures, one INSERT of the submissions, one of the recruitment edges (read
back, since the insert skips an edge stored earlier), one of the acts with the sharers'
"recruit" acts, and one task row for all the thank-you emails. A lone signature is a batch of
one. Everything goes through the ORM's public API (bulk_create, querysets); a batch pays the
ORM's compile cost once for all its rows, and PostgreSQL prepares the statements (server-side
binding, on by default; DATABASE_SERVER_SIDE_BINDING=0 in the environment runs the benchmark
without it). Earlier runs, and what changed their figures: docs/performance.md.
"""


def bench_env(db_url: str, var_dir: str, settings_module: str, port: int) -> dict[str, str]:
    """The environment of a benchmark server: its own database and var dir, no rate limit,
    database task queue, quiet logs."""
    env = {
        **os.environ,
        "DATABASE_URL": db_url,
        "RALLYPOINT_VAR_DIR": var_dir,
        "SECRET_KEY": "bench-only-secret-key-" + "x" * 40,
        "DJANGO_SETTINGS_MODULE": settings_module,
        "PYTHONPATH": f"{BENCH}{os.pathsep}{os.environ.get('PYTHONPATH', '')}",
        "ACTION_RATE_LIMIT": "0/1",
        "TASK_BACKEND": "db",
        "LOG_LEVEL": "WARNING",
        "DEBUG": "0",
        "SITE_URL": f"http://127.0.0.1:{port}",
    }
    env.pop("REDIS_URL", None)
    return env


def sh(cmd, env, **kwargs):
    return subprocess.run(cmd, env=env, cwd=ROOT, check=True, text=True, **kwargs)


def database_prepare(url: str) -> None:
    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    for sql in (f"DROP DATABASE IF EXISTS {name} WITH (FORCE)", f"CREATE DATABASE {name}"):
        subprocess.run(["psql", admin, "-qc", sql], check=True)


def new_people_count(url: str, nonce: str) -> int:
    """People whose address one petition run (its nonce) made up."""
    sql = f"SELECT count(*) FROM people_emailaddress WHERE address LIKE 'n{int(nonce)}-%'"
    out = subprocess.run(["psql", url, "-tAc", sql], check=True, capture_output=True, text=True)
    return int(out.stdout.strip())


def wait_ready(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url, timeout=2).read()
            return
        except Exception:
            time.sleep(0.5)
    raise SystemExit(f"server did not answer at {url}")


def csrf_pair(page_url: str) -> tuple[str, str]:
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    html = opener.open(page_url, timeout=10).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)
    cookie = next(c.value for c in jar if c.name == "csrftoken")
    return token, cookie


def cpu_seconds(server_pid: int, db_name: str) -> tuple[float, float]:
    """CPU seconds used so far by the gunicorn processes (the server's session) and by the
    PostgreSQL backends connected to the bench database (Linux /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    web = db = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        used = (int(fields[11]) + int(fields[12])) / tick  # utime + stime
        if int(fields[3]) == server_pid or int(entry.name) == server_pid:  # session id
            web += used
        elif cmdline.startswith("postgres:") and f" {db_name} " in cmdline:
            db += used
    return web, db


# As docs/deployment.md recommends: one process per core, 32 threads each (rallypoint serve).
DEFAULT_WORKERS = os.cpu_count() or 1
DEFAULT_THREADS = 32


def write_slots_label() -> str:
    return os.environ.get("WRITE_CONCURRENCY", "2 (default)")


def wrk(url: str, script: str, *, connections: int, duration: int, threads: int = 2) -> dict:
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(script)
    cmd = [
        "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{duration}s",
        "--timeout",
        "5s",
        "-s",
        f.name,
        url,
    ]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 30).stdout
    os.unlink(f.name)
    line = next((ln for ln in out.splitlines() if ln.startswith("RESULT ")), None)
    if line is None:
        raise SystemExit(f"wrk gave no result:\n{out}")
    result = json.loads(line[len("RESULT ") :])
    result["rps"] = result["requests"] / result["seconds"]
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    result["bad_status"] = int(non2xx.group(1)) if non2xx else 0
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--duration", type=int, default=15, help="seconds per run")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument(
        "--workers", type=int, default=DEFAULT_WORKERS, help="gunicorn worker processes"
    )
    parser.add_argument(
        "--threads", type=int, default=DEFAULT_THREADS, help="gunicorn threads per worker"
    )
    parser.add_argument("--existing", type=int, default=5000, help="people seeded beforehand")
    parser.add_argument("--max-per-thread", type=int, default=50_000, help="new people cap")
    parser.add_argument("--port", type=int, default=8791)
    parser.add_argument("--write", action="store_true", help="append results to bench/README.md")
    parser.add_argument(
        "--no-mission", action="store_true", help="skip the run with the mission page loaded"
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="alternate baseline and petition runs this many times; the round with the median "
        "ratio is reported, with every round's ratio and p99",
    )
    args = parser.parse_args()
    args.load_before = os.getloadavg()[0]
    if not shutil.which("wrk"):
        raise SystemExit("This benchmark drives the server with wrk: apt-get install wrk")

    db_url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_DB)
    var_dir = tempfile.mkdtemp(prefix="rp-bench-actions-")
    env = bench_env(db_url, var_dir, "action_submit_settings", args.port)
    print(f"database {db_url}; var {var_dir}")
    database_prepare(db_url)
    sh([PYTHON, "-m", "rallypoint", "migrate", "-v0"], env)
    sh([PYTHON, "-m", "rallypoint", "collectstatic", "--noinput", "-v0"], env)
    seeded = json.loads(
        sh(
            [
                PYTHON,
                "-m",
                "rallypoint",
                "shell",
                "-c",
                f"import sys; sys.argv=['', '{args.existing}']\n{SEED}",
            ],
            env,
            capture_output=True,
        )
        .stdout.strip()
        .splitlines()[-1]
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
    results: dict[str, dict] = {}
    try:
        wait_ready(f"{base}/act/{seeded['slug']}/")
        token, cookie = csrf_pair(f"{base}/act/{seeded['slug']}/")
        codes = seeded["codes"][:2000]

        def submit_lua(nonce: str) -> str:
            """The petition script with a fresh nonce: every run signs up people no earlier
            run (warm-up included) has created, so "new" people are really new."""
            return SUBMIT_LUA % {
                "csrf": token,
                "cookie": cookie,
                "slug": seeded["slug"],
                "codes": ",".join(f'"{c}"' for c in codes),
                "nonce": nonce,
                "max_new": args.max_per_thread,
                "existing": args.existing,
            }

        def petition(run) -> dict:
            """A petition run (`run` takes the script), checked: every new address the script
            sent made one new person (a request still in flight when wrk stopped may or may not
            have), so the run measured new signers, not collisions between them."""
            nonce = str(time.time_ns())
            result = run(submit_lua(nonce))
            created = new_people_count(db_url, nonce)
            sent = result["new_people"]
            if not sent - args.connections <= created <= sent:
                raise SystemExit(
                    f"the petition run sent {sent} new addresses but {created} people were made"
                )
            return result

        mission_url = f"{base}/campaigns/{seeded['campaign']}/"
        try:
            urllib.request.urlopen(mission_url, timeout=5).read()
            has_mission = True
        except Exception:
            has_mission = False
        print("warming up …")
        petition(lambda script: wrk(base + "/", script, connections=args.connections, duration=3))
        wrk(base + "/", BASELINE_LUA, connections=args.connections, duration=2)
        db_name = db_url.rsplit("/", 1)[1]

        def measured(script: str) -> dict:
            """A wrk run plus the CPU the web and database processes spent per request."""
            web0, db0 = cpu_seconds(server.pid, db_name)
            result = wrk(base + "/", script, connections=args.connections, duration=args.duration)
            web1, db1 = cpu_seconds(server.pid, db_name)
            result["web_cpu_ms"] = 1000 * (web1 - web0) / max(result["requests"], 1)
            result["db_cpu_ms"] = 1000 * (db1 - db0) / max(result["requests"], 1)
            return result

        rounds = []
        for number in range(1, max(args.rounds, 1) + 1):
            print(f"round {number}: baseline, one INSERT per request …")
            baseline_run = measured(BASELINE_LUA)
            print(f"round {number}: petition POST …")
            petition_run = petition(measured)
            rounds.append((petition_run["rps"] / baseline_run["rps"], baseline_run, petition_run))
            print(
                f"round {number}: baseline {baseline_run['rps']:.0f} req/s "
                f"({baseline_run['web_cpu_ms']:.2f} + {baseline_run['db_cpu_ms']:.2f} ms CPU), "
                f"petition {petition_run['rps']:.0f} req/s "
                f"({petition_run['web_cpu_ms']:.2f} + {petition_run['db_cpu_ms']:.2f} ms CPU, "
                f"p99 {petition_run['p99_ms']:.0f} ms): ratio {rounds[-1][0]:.2f}"
            )
        rounds.sort(key=lambda item: item[0])
        _, results["baseline"], results["petition"] = rounds[len(rounds) // 2]
        args.rounds_seen = [(ratio, petition["p99_ms"]) for ratio, _, petition in rounds]
        if has_mission and not args.no_mission:
            print("petition POST with the mission page loaded at the same time …")
            box: dict[str, dict] = {}
            t = threading.Thread(
                target=lambda: box.update(
                    mission=wrk(
                        mission_url, GET_LUA, connections=args.connections, duration=args.duration
                    )
                )
            )
            t.start()
            results["petition_with_mission"] = petition(
                lambda script: wrk(
                    base + "/", script, connections=args.connections, duration=args.duration
                )
            )
            t.join(timeout=args.duration + 60)
            results["mission_during_submissions"] = box.get("mission", {})
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
    report(results, args)


def report(results: dict, args) -> None:
    base = results["baseline"]["rps"]
    lines = [
        "| run | requests/s | ratio to baseline | p50 ms | p99 ms | errors "
        "| CPU ms/request: web + database |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        if not r:
            continue
        errors = r["errors"] + r["bad_status"]
        cpu = f"{r['web_cpu_ms']:.2f} + {r['db_cpu_ms']:.2f}" if "web_cpu_ms" in r else "(shared)"
        lines.append(
            f"| {name} | {r['rps']:.0f} | {r['rps'] / base:.2f} | {r['p50_ms']:.1f} | "
            f"{r['p99_ms']:.1f} | {errors} | {cpu} |"
        )
    table = "\n".join(lines)
    seen = getattr(args, "rounds_seen", [])
    if len(seen) > 1:
        table += (
            f"\n\nBaseline and petition alternated {len(seen)} times; the table shows the round "
            "with the median ratio. Every round (ratio, petition p99): "
            + ", ".join(f"{ratio:.2f} / {p99:.0f} ms" for ratio, p99 in seen)
            + "."
        )
    print(table)
    petition = results["petition"]
    print(
        f"petition: {petition['rps'] / base:.0%} of baseline (target ≥35%), "
        f"p99 {petition['p99_ms']:.0f} ms (target <250 ms)"
    )
    if "mission_during_submissions" in results:
        print(
            f"mission page during submissions: "
            f"{results['mission_during_submissions'].get('rps', 0):.0f} req/s (target ≥1,500)"
        )
    if args.write:
        readme = BENCH / "README.md"
        text = readme.read_text() if readme.exists() else "# Benchmarks\n"
        section = (
            "## Actions: petition submit (bench/action_submit.py)\n\n"
            f"Last run {time.strftime('%Y-%m-%d')}: PostgreSQL (server-side binding "
            f"{'off' if os.environ.get('DATABASE_SERVER_SIDE_BINDING') == '0' else 'on'}), "
            "gunicorn gthread "
            f"{args.workers}×{args.threads}"
            f"{' (a listening socket per worker)' if args.workers > 1 else ''}, "
            f"WRITE_CONCURRENCY {write_slots_label()}, "
            f"SIGNATURE_BATCH_MAX {os.environ.get('SIGNATURE_BATCH_MAX', '16 (default)')}, "
            f"wrk {args.connections} connections, {args.duration} s per run, "
            f"on this machine ({os.cpu_count()} cores, load average "
            f"{args.load_before:.1f} before the run).\n\n"
            f"{table}\n\n" + NOTES
        )
        pattern = re.compile(r"## Actions: petition submit.*?(?=\n#{2,3} |\Z)", re.S)
        text = (
            pattern.sub(section.rstrip("\n") + "\n", text)
            if pattern.search(text)
            else (text.rstrip("\n") + "\n\n" + section)
        )
        readme.write_text(text)


if __name__ == "__main__":
    main()
