"""Helper processes end with their parent: the process an import forks to read and validate
its file stops when the importing process dies, however it dies, and on SIGTERM.

Real processes: a Python process runs an import's prepare process over a large file (which
waits, its queue full, for the writes that never come) and prints its pid."""

import contextlib
import multiprocessing
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods() or not Path("/proc").is_dir(),
    reason="needs fork and /proc",
)

IMPORTING = """
import os, signal, sys, time, django
django.setup()
from django.conf import settings
from rallypoint.imports.models import ImportJob
from rallypoint.imports.services import _prepared_elsewhere

if sys.argv[1] == "graceful":
    # As the task worker does: SIGTERM means "finish the current task first".
    signal.signal(signal.SIGTERM, lambda *_: None)
path = settings.MEDIA_ROOT / "imports" / "people.csv"
path.parent.mkdir(parents=True, exist_ok=True)
rows = "".join(f"p{i}@example.org,First{i},Last{i}\\n" for i in range(20000))
path.write_text("Email,First name,Last name\\n" + rows)
job = ImportJob(
    file="imports/people.csv",
    headers=["Email", "First name", "Last name"],
    mapping={"0": "email", "1": "given_name", "2": "family_name"},
)
with _prepared_elsewhere(job, 10) as batches:
    next(batches)
    import multiprocessing
    (child,) = multiprocessing.active_children()
    print(child.pid, flush=True)
    time.sleep(120)
"""


def _start(tmp_path: Path, mode: str) -> tuple[subprocess.Popen, int]:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "rallypoint.settings",
        "RALLYPOINT_VAR_DIR": str(tmp_path / "var"),
    }
    parent = subprocess.Popen(
        [sys.executable, "-c", IMPORTING, mode],
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    line = parent.stdout.readline()
    assert line.strip().isdigit(), "the importing process printed its helper's pid"
    return parent, int(line)


def _running(pid: int) -> bool:
    """Alive and not a zombie (an exited child nobody has reaped yet)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


def _ended_within(pid: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if not _running(pid):
            return True
        time.sleep(0.05)
    return False


def _clean_up(parent: subprocess.Popen, child: int) -> None:
    for pid in (parent.pid, child):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    parent.wait(timeout=10)
    parent.stdout.close()


def test_import_prepare_process_ends_when_the_importing_process_is_killed(tmp_path):
    parent, child = _start(tmp_path, "plain")
    try:
        time.sleep(0.5)
        assert _running(child)
        os.kill(parent.pid, signal.SIGKILL)
        assert _ended_within(child, 10)
    finally:
        _clean_up(parent, child)


def test_import_prepare_process_ends_on_sigterm_despite_the_workers_handler(tmp_path):
    parent, child = _start(tmp_path, "graceful")
    try:
        time.sleep(0.5)
        assert _running(child)
        os.kill(child, signal.SIGTERM)
        assert _ended_within(child, 10)
        assert parent.poll() is None  # the importing process is not touched
    finally:
        _clean_up(parent, child)
