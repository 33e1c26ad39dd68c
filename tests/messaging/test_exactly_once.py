"""Every recipient gets one message: with a sending worker killed (SIGKILL) in the middle of a
mailing and started again, and with two workers sending the same mailing at once, on SQLite
and on PostgreSQL.

The workers are real processes (`rallypoint mailings_send`) sending over SMTP to a local sink
(aiosmtpd), which counts what it accepted per recipient and Message-ID. A killed worker may
leave messages the server accepted but that were not marked sent yet (services.delivery, "The
one window"): they are sent again once the lease runs out, with the same Message-ID. So after a
kill, each recipient has one distinct Message-ID, the expected one, and the copies are at most
one unmarked group.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from django.db import connection

from rallypoint.messaging.services.delivery import MARK_EVERY

ROOT = Path(__file__).resolve().parents[2]
RECIPIENTS = 150
BATCH = 10

# Committed rows, which the worker processes can see (PostgreSQL); the SQLite variant uses a file
# database of its own.
pytestmark = [pytest.mark.timeout(300), pytest.mark.django_db(transaction=True)]


class World:
    """A database other processes can reach, and the commands run against it."""

    def __init__(self, env: dict[str, str]):
        self.env = env

    def run(self, *args: str) -> dict:
        done = subprocess.run(
            [sys.executable, "-m", "tests.messaging.exactly_once_world", *args],
            env=self.env,
            cwd=ROOT,
            check=True,
            timeout=120,
            capture_output=True,
            text=True,
        )
        return json.loads(done.stdout.strip().splitlines()[-1])

    def worker(self) -> subprocess.Popen:
        return subprocess.Popen(
            [sys.executable, "-m", "rallypoint", "mailings_send", "--mailing", str(self.mailing)],
            env=self.env,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def setup(self) -> None:
        self.mailing = self.run("setup", str(RECIPIENTS))["mailing"]


def _env(smtp_sink, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env.update(
        DJANGO_SETTINGS_MODULE="rallypoint.settings",
        TASK_BACKEND="dummy",  # the workers under test do the sending, nothing else
        EMAIL_URL=smtp_sink.url,
        MAILING_BATCH=str(BATCH),
        LOG_LEVEL="WARNING",
        **extra,
    )
    return env


@pytest.fixture(scope="module")
def migrated_sqlite(tmp_path_factory):
    """A migrated SQLite file (WAL, as installs run it), copied for each test."""
    var = tmp_path_factory.mktemp("mail-sqlite")
    env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    env.update(RALLYPOINT_VAR_DIR=str(var), TASK_BACKEND="immediate")
    subprocess.run(
        [sys.executable, "-m", "rallypoint", "migrate", "-v0"],
        env=env,
        check=True,
        timeout=240,
        cwd=ROOT,
    )
    return var


@pytest.fixture(params=["sqlite", "postgresql"])
def world(request, smtp_sink, tmp_path):
    if request.param == "sqlite":
        var = tmp_path / "var"
        shutil.copytree(request.getfixturevalue("migrated_sqlite"), var)
        world = World(_env(smtp_sink, RALLYPOINT_VAR_DIR=str(var)))
    else:
        if connection.vendor != "postgresql":
            pytest.skip("needs PostgreSQL: run with DATABASE_URL=postgres://…")
        settings = connection.settings_dict
        url = (
            f"postgres://{settings['USER']}:{settings['PASSWORD'] or ''}@{settings['HOST']}:"
            f"{settings['PORT'] or 5432}/{settings['NAME']}"
        )
        world = World(_env(smtp_sink, DATABASE_URL=url, RALLYPOINT_VAR_DIR=str(tmp_path)))
    world.setup()
    return world


def _finish(process: subprocess.Popen, timeout: float = 120) -> str:
    out, err = process.communicate(timeout=timeout)
    assert process.returncode == 0, err
    return out


def _assert_each_recipient_once(world: World, smtp_sink, *, copies_max: int) -> None:
    report = world.run("report", str(world.mailing))
    assert report["status"] == "sent"
    assert report["deliveries"] == {"sent": RECIPIENTS}
    expected = report["message_ids"]
    received = smtp_sink.by_recipient()
    assert sorted(received) == sorted(expected)
    for address, messages in received.items():
        # However often it arrived, it is one message: the same Message-ID every time.
        assert {m.message_id for m in messages} == {expected[address]}, address
    copies = sum(len(messages) for messages in received.values()) - RECIPIENTS
    assert 0 <= copies <= copies_max


def test_worker_killed_mid_send_and_restarted_every_recipient_once(world, smtp_sink):
    smtp_sink.delay = 0.01
    kills = 0
    for kill_after in (30, 80):
        worker = world.worker()
        assert smtp_sink.wait_for(kill_after, timeout=60), worker.communicate(timeout=5)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
        kills += 1
        # The dead worker's claims run out (as MAILING_LEASE_SECONDS later).
        world.run("expire", str(world.mailing))
    assert smtp_sink.count() < RECIPIENTS  # it was killed mid-send
    _finish(world.worker())
    # Per kill at most one unmarked group (and the message in flight) arrives twice.
    _assert_each_recipient_once(world, smtp_sink, copies_max=kills * (MARK_EVERY + 1))


def test_two_workers_at_once_every_recipient_exactly_once(world, smtp_sink):
    smtp_sink.delay = 0.02
    first, second = world.worker(), world.worker()
    outputs = [_finish(first), _finish(second)]
    _assert_each_recipient_once(world, smtp_sink, copies_max=0)
    sent = [int(out.split("Sent ")[1].split(",")[0]) for out in outputs]
    assert sum(sent) == RECIPIENTS
    assert Counter(m.to for m in smtp_sink.all()).most_common(1)[0][1] == 1


def test_a_second_worker_started_late_finds_nothing_to_send_twice(world, smtp_sink):
    _finish(world.worker())
    late = _finish(world.worker())
    assert "Sent 0," in late
    _assert_each_recipient_once(world, smtp_sink, copies_max=0)
