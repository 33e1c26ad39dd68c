"""`rallypoint serve`'s gunicorn command: with several workers each gets its own listening
socket, so connections are spread over the processes instead of landing on whichever wakes
first."""

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rallypoint.core.management.commands.serve import gunicorn_command, worker_restart_delay

HERE = Path(__file__).resolve().parent


def test_reuse_port_with_several_workers_only():
    several = gunicorn_command("py", host="h", port=1, workers=2, threads=8, reuse_port=True)
    assert "--reuse-port" in several
    assert several[several.index("--workers") + 1] == "2"
    one = gunicorn_command("py", host="h", port=1, workers=1, threads=8, reuse_port=True)
    assert "--reuse-port" not in one
    off = gunicorn_command("py", host="h", port=1, workers=2, threads=8, reuse_port=False)
    assert "--reuse-port" not in off


def test_worker_restart_delay_doubles_while_the_worker_dies_young():
    delays, previous = [], 0.0
    for _ in range(8):
        previous = worker_restart_delay(previous=previous, ran_for=5)
        delays.append(previous)
    assert delays == [1, 2, 4, 8, 16, 32, 60, 60]
    assert worker_restart_delay(previous=60, ran_for=61) == 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _listening_sockets(port: int) -> set[str]:
    """Inodes of the TCP sockets listening on 127.0.0.1:`port` (Linux /proc/net/tcp)."""
    inodes = set()
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, state, inode = fields[1], fields[3], fields[9]
        if state == "0A" and int(local.split(":")[1], 16) == port:
            inodes.add(inode)
    return inodes


def _pid(port: int, conn: http.client.HTTPConnection) -> int:
    conn.request("GET", "/")
    return int(conn.getresponse().read())


@pytest.mark.skipif(not hasattr(socket, "SO_REUSEPORT"), reason="needs SO_REUSEPORT")
def test_connections_opened_at_once_reach_both_workers():
    port = _free_port()
    command = gunicorn_command(
        sys.executable, host="127.0.0.1", port=port, workers=2, threads=4, reuse_port=True
    )
    command[command.index("rallypoint.wsgi:application")] = "pid_app:application"
    server = subprocess.Popen(
        [*command, "--chdir", str(HERE), "--log-level", "warning"], start_new_session=True
    )
    try:
        deadline = time.monotonic() + 20
        workers: set[int] = set()
        while len(workers) < 2 and time.monotonic() < deadline:
            # Both workers must be listening before the burst: wait until each has answered.
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
                workers.add(_pid(port, conn))
                conn.close()
            except OSError:
                time.sleep(0.1)
        assert len(workers) == 2, "both workers answer"
        if Path("/proc/net/tcp").exists():
            # Each worker listens on a socket of its own (one shared socket without the flag).
            assert len(_listening_sockets(port)) >= 2
        # A burst of 24 keep-alive connections, as a load generator (or a proxy's pool) opens
        # them. The kernel spreads them by address and port: all 24 on one worker has a
        # probability of 2 in 2**24.
        conns = [http.client.HTTPConnection("127.0.0.1", port, timeout=5) for _ in range(24)]
        for conn in conns:
            conn.connect()
        pids = [_pid(port, conn) for conn in conns]
        # Keep-alive: a connection stays with the worker that accepted it.
        assert [_pid(port, conn) for conn in conns] == pids
        assert set(pids) == workers
        for conn in conns:
            conn.close()
    finally:
        server.terminate()
        server.wait(timeout=15)


# --- Crash isolation: `rallypoint serve` with its real web server and task worker -------------

SERVE_ENV_CLEARED = ("HOST", "PORT", "SITE_URL", "REDIS_URL", "TASK_BACKEND", "DATABASE_URL")


@pytest.fixture(scope="module")
def serve_env(tmp_path_factory):
    """An install with its database migrated, as `make run` leaves it."""
    var = tmp_path_factory.mktemp("serve") / "var"
    env = {k: v for k, v in os.environ.items() if k not in SERVE_ENV_CLEARED}
    env.update(RALLYPOINT_VAR_DIR=str(var), DJANGO_SETTINGS_MODULE="rallypoint.settings")
    subprocess.run(
        [sys.executable, "-m", "rallypoint", "migrate", "--no-input", "-v0"],
        env=env,
        check=True,
        timeout=300,
    )
    return env


def _as_in_a_terminal() -> None:
    # A shell starts programs with Ctrl+C's default effect (a test runner may ignore it).
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Served:
    def __init__(self, env: dict[str, str], log: Path):
        self.port = _free_port()
        self.log = log
        with open(log, "wb") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "rallypoint", "serve", "--port", str(self.port)],
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,
                preexec_fn=_as_in_a_terminal,
            )

    def ctrl_c(self) -> None:
        """What Ctrl+C in a terminal does: SIGINT to the foreground process group (serve's)."""
        os.killpg(self.process.pid, signal.SIGINT)

    def children(self) -> dict[str, int]:
        """The web server's and the task worker's pids (direct children of serve)."""
        found = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
                cmdline = (stat.parent / "cmdline").read_bytes().split(b"\0")
            except (FileNotFoundError, ProcessLookupError):
                continue
            if int(fields[1]) != self.process.pid or fields[0] == "Z":
                continue
            if b"gunicorn" in cmdline:
                found["web"] = int(stat.parent.name)
            elif b"db_worker" in cmdline:
                found["worker"] = int(stat.parent.name)
        return found

    def wait_until(self, condition, seconds: float = 60):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if value := condition():
                return value
            time.sleep(0.1)
        raise AssertionError(f"not within {seconds} s; serve said:\n{self.log.read_text()}")

    def answers(self) -> bool:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            conn.request("GET", "/accounts/login/")
            status = conn.getresponse().status
            conn.close()
        except OSError:
            return False
        return status == 200

    def started(self) -> dict[str, int]:
        self.wait_until(self.answers)
        return self.wait_until(lambda: (c := self.children()).keys() == {"web", "worker"} and c)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def _running(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


needs_proc = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs /proc")


@needs_proc
def test_serve_restarts_a_killed_worker_and_keeps_the_web_server(serve_env, tmp_path):
    served = Served(serve_env, tmp_path / "serve.log")
    try:
        first = served.started()
        os.kill(first["worker"], signal.SIGKILL)
        restarted = served.wait_until(
            lambda: (
                (c := served.children()).get("worker", first["worker"]) != first["worker"] and c
            ),
            seconds=20,
        )
        assert restarted["web"] == first["web"]
        assert served.process.poll() is None
        assert served.answers()
        assert (
            "The task worker stopped (exit status -9): starting it again in 1 s."
            in served.log.read_text()
        )
        # The children run with the port served, so a SITE_URL left unset follows --port.
        worker_env = Path(f"/proc/{restarted['worker']}/environ").read_bytes().split(b"\0")
        assert f"PORT={served.port}".encode() in worker_env
        served.stop()
        assert served.process.returncode == 0
        assert not _running(first["web"]) and not _running(restarted["worker"])
    finally:
        served.stop()


@needs_proc
def test_serve_stops_everything_when_the_web_server_dies(serve_env, tmp_path):
    served = Served(serve_env, tmp_path / "serve.log")
    try:
        first = served.started()
        os.kill(first["web"], signal.SIGKILL)
        assert served.process.wait(timeout=30) == 1
        assert not _running(first["worker"])
        assert "The web server stopped (exit status -9): stopping." in served.log.read_text()
    finally:
        served.stop()


@needs_proc
def test_serve_killed_takes_its_web_server_and_worker_with_it(serve_env, tmp_path):
    served = Served(serve_env, tmp_path / "serve.log")
    try:
        first = served.started()
        os.kill(served.process.pid, signal.SIGKILL)
        served.process.wait(timeout=10)
        for pid in first.values():
            served.wait_until(lambda pid=pid: not _running(pid), seconds=20)
    finally:
        if any(_running(pid) for pid in served.children().values()):
            os.killpg(served.process.pid, signal.SIGKILL)
        served.stop()


# --- Ctrl+C: `make run` in a terminal ----------------------------------------------------------


@needs_proc
def test_ctrl_c_right_after_start_stops_both_without_a_traceback(serve_env, tmp_path):
    served = Served(serve_env, tmp_path / "serve.log")
    try:
        # The moment serve says it serves, its children are still importing Django.
        served.wait_until(lambda: "Ctrl+C to stop" in served.log.read_text(), seconds=60)
        served.ctrl_c()
        assert served.process.wait(timeout=40) == 0
        log = served.log.read_text()
        assert "Traceback" not in log
        assert "KeyboardInterrupt" not in log
        assert "Stopping Rallypoint" in log
        assert log.rstrip().endswith("Stopped.")
        assert served.children() == {}
    finally:
        served.stop()


@needs_proc
def test_ctrl_c_with_the_worker_idle_stops_both_cleanly(serve_env, tmp_path):
    served = Served(serve_env, tmp_path / "serve.log")
    try:
        first = served.started()
        served.wait_until(lambda: "Starting worker" in served.log.read_text(), seconds=30)
        served.ctrl_c()
        assert served.process.wait(timeout=40) == 0
        log = served.log.read_text()
        assert "Traceback" not in log
        assert log.count("Stopping Rallypoint") == 1
        assert not _running(first["web"]) and not _running(first["worker"])
    finally:
        served.stop()


def _shell(env: dict[str, str], code: str) -> str:
    """Run Python code in `rallypoint shell` against the served site; its output."""
    done = subprocess.run(
        [sys.executable, "-m", "rallypoint", "shell", "-c", code],
        env=env,
        check=True,
        timeout=120,
        capture_output=True,
        text=True,
        cwd=HERE.parents[1],
    )
    return done.stdout


def _enqueue_slow_task(env: dict[str, str], seconds: float) -> None:
    _shell(env, f"from tests.core.slow_task import slow; slow.enqueue({seconds})")


def _task_states(env: dict[str, str]) -> list[str]:
    code = (
        "import json; from django_tasks_db.models import DBTaskResult as R; "
        "print(json.dumps(list(R.objects.filter(task_path='tests.core.slow_task.slow')"
        ".values_list('status', flat=True))))"
    )
    return json.loads(_shell(env, code).strip().splitlines()[-1])


@needs_proc
def test_ctrl_c_while_the_worker_runs_a_task_lets_it_finish(serve_env, tmp_path):
    served = Served(serve_env, tmp_path / "serve.log")
    try:
        first = served.started()
        _enqueue_slow_task(served_env := serve_env, 4)
        served.wait_until(lambda: "slow task: started" in served.log.read_text(), seconds=30)
        served.ctrl_c()
        assert served.process.wait(timeout=60) == 0
        log = served.log.read_text()
        assert "Traceback" not in log
        assert "Waiting for the task worker to finish its current task" in log
        assert log.index("slow task: done") < log.index("Stopped.")
        assert _task_states(served_env) == ["SUCCESSFUL"]
        assert not _running(first["web"]) and not _running(first["worker"])
    finally:
        served.stop()
