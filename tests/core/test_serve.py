"""`rallypoint serve`'s gunicorn command: with several workers each gets its own listening
socket, so connections are spread over the processes instead of landing on whichever wakes
first."""

import http.client
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rallypoint.core.management.commands.serve import gunicorn_command

HERE = Path(__file__).resolve().parent


def test_reuse_port_with_several_workers_only():
    several = gunicorn_command("py", host="h", port=1, workers=2, threads=8, reuse_port=True)
    assert "--reuse-port" in several
    assert several[several.index("--workers") + 1] == "2"
    one = gunicorn_command("py", host="h", port=1, workers=1, threads=8, reuse_port=True)
    assert "--reuse-port" not in one
    off = gunicorn_command("py", host="h", port=1, workers=2, threads=8, reuse_port=False)
    assert "--reuse-port" not in off


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
