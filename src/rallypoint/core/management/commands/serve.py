"""`rallypoint serve`: the web server (gunicorn, gthread) and a task worker in one command; the
worker is restarted when it dies, and both stop with the web server or with this command.

Ctrl+C in a terminal signals the whole foreground process group. The web server and the worker
run in process groups of their own, so only this command hears it and stops them in order: each
gets one SIGTERM (gunicorn finishes its requests, the worker its current task), and nothing is
interrupted in the middle of starting up or of a task (which printed tracebacks, and marked the
running task failed). Ctrl+C again stops the worker at once."""

import argparse
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from rallypoint.core.processes import exit_with_parent

logger = logging.getLogger("rallypoint.serve")
POLL_SECONDS = 0.5
WORKER_STABLE_SECONDS = 60
WORKER_RESTART_MAX_SECONDS = 60.0
# After SIGTERM: how long the web server may take (its --graceful-timeout is 10 s), and how long
# the worker may take to finish the task it is running before it is told again (which stops
# the task, marked failed) and then killed.
WEB_STOP_SECONDS = 15.0
WORKER_STOP_SECONDS = 30.0
KILL_WAIT_SECONDS = 5.0


class Command(BaseCommand):
    help = "Serve the web app with gunicorn (gthread) and run a task worker beside it."

    def add_arguments(self, parser):
        parser.add_argument("--host", default=os.environ.get("HOST", "127.0.0.1"))
        parser.add_argument("--port", default=os.environ.get("PORT", "8000"))
        parser.add_argument(
            "--workers",
            type=int,
            default=int(os.environ.get("WEB_CONCURRENCY", "1")),
            help="gunicorn worker processes (WEB_CONCURRENCY). More than 1 needs REDIS_URL for "
            "shared rate limits.",
        )
        parser.add_argument(
            "--threads",
            type=int,
            default=int(os.environ.get("WEB_THREADS", "32")),
            help="threads per worker (WEB_THREADS); keep it well above WRITE_CONCURRENCY so "
            "pages are served while writes wait for their slot.",
        )
        parser.add_argument(
            "--reuse-port",
            action=argparse.BooleanOptionalAction,
            default=os.environ.get("WEB_REUSE_PORT", "1") != "0",
            help="with more than one worker, give each its own listening socket (SO_REUSEPORT) "
            "so the kernel spreads connections evenly over them (WEB_REUSE_PORT=0 to turn off).",
        )
        parser.add_argument("--no-worker", action="store_true", help="Serve the web only.")

    def handle(self, *args, host, port, workers, threads, reuse_port, no_worker, **options):
        python = sys.executable
        web = [
            *gunicorn_command(
                python,
                host=host,
                port=port,
                workers=workers,
                threads=threads,
                reuse_port=reuse_port,
            ),
            "--access-logfile",
            "-",
            "--graceful-timeout",
            "10",
        ]
        # The children read their settings afresh: with HOST and PORT as served here, a
        # SITE_URL left unset follows --host/--port too.
        env = {**os.environ, "HOST": str(host), "PORT": str(port)}
        supervisor = Supervisor(
            web=web, worker=None if no_worker else worker_command(python), say=self.stdout.write
        )
        signal.signal(signal.SIGTERM, supervisor.stop)
        signal.signal(signal.SIGINT, supervisor.interrupt)
        signal.signal(signal.SIGHUP, supervisor.stop)  # the terminal was closed
        supervisor.start(env)
        self.stdout.write(f"Rallypoint is serving on http://{host}:{port}/ (Ctrl+C to stop)")
        clean = supervisor.run()
        if supervisor.interrupted:
            self.stdout.write("Stopped.")
        if not clean:
            sys.exit(1)


class Supervisor:
    """The web server and the task worker as children of this process.

    The task worker is restarted when it dies (after 1 s, then 2, 4… up to
    WORKER_RESTART_MAX_SECONDS while it keeps dying within WORKER_STABLE_SECONDS of its
    start), and the web server is left alone meanwhile: tasks wait in their queue, pages keep
    being served. When the web server dies, or on SIGTERM/SIGINT/SIGHUP, both are stopped:
    one SIGTERM each, then a wait (the worker finishes its current task). Both children run
    in process groups of their own, so a Ctrl+C reaches this process only; they get SIGTERM
    if this process dies, even by SIGKILL (core.processes)."""

    def __init__(
        self, *, web: list[str], worker: list[str] | None, say: Callable[[str], Any] = print
    ):
        self.web_command = web
        self.worker_command = worker
        self.say = say
        self.web: subprocess.Popen | None = None
        self.worker: subprocess.Popen | None = None
        self.stopping = False
        self.interrupted = 0  # how many times Ctrl+C was pressed
        self.restart_delay = 0.0
        self.worker_started = 0.0
        self.restart_at: float | None = None
        self.env: dict[str, str] = dict(os.environ)

    def start(self, env: dict[str, str]) -> None:
        self.env = env
        self.web = self._spawn(self.web_command)
        if self.worker_command is not None:
            self._start_worker()

    def stop(self, *_) -> None:
        """Ask both children to stop (once: a second SIGTERM would stop the worker's task)."""
        if self.stopping:
            return
        self.stopping = True
        self._signal(signal.SIGTERM)

    def interrupt(self, *_) -> None:
        """Ctrl+C: stop; pressed again, stop the worker's current task at once."""
        self.interrupted += 1
        if self.interrupted == 1:
            self.say("\nStopping Rallypoint… (press Ctrl+C again to stop at once)")
            self.stop()
        elif self.interrupted == 2:
            self.say("Stopping at once: a task still running is stopped and marked failed.")
            self._signal(signal.SIGTERM)

    def _signal(self, signum: int) -> None:
        for proc in (self.web, self.worker):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signum)  # a child that has just ended is skipped

    def run(self) -> bool:
        """Supervise until the web server stops or we are told to stop. True for a clean
        stop (every child ended by our signal or on its own with status 0)."""
        assert self.web is not None
        try:
            while not self.stopping and self.web.poll() is None:
                self._tend_worker()
                time.sleep(POLL_SECONDS)
            if not self.stopping:
                logger.error(
                    "The web server stopped (exit status %s): stopping.", self.web.returncode
                )
        finally:
            self.stop()
            self._wait(self.web, WEB_STOP_SECONDS)
            if self.worker is not None and self._wait(self.worker, 1.0) is None:
                self.say("Waiting for the task worker to finish its current task…")
                if self._wait(self.worker, WORKER_STOP_SECONDS - 1.0) is None:
                    self.worker.send_signal(signal.SIGTERM)  # the task stops, marked failed
                    self._wait(self.worker, KILL_WAIT_SECONDS)
            for proc in (self.web, self.worker):
                if proc is not None and proc.poll() is None:
                    proc.kill()
                    proc.wait()
        codes = [self.web.returncode]
        if self.worker is not None and self.restart_at is None:
            codes.append(self.worker.returncode)  # a worker that died was already reported
        return all(code in (0, -signal.SIGTERM, -signal.SIGINT) for code in codes)

    def _tend_worker(self) -> None:
        if self.worker is None or self.stopping:
            return
        now = time.monotonic()
        if self.restart_at is not None:
            if now >= self.restart_at:
                self.restart_at = None
                self._start_worker()
            return
        code = self.worker.poll()
        if code is None:
            return
        self.restart_delay = worker_restart_delay(
            previous=self.restart_delay, ran_for=now - self.worker_started
        )
        self.restart_at = now + self.restart_delay
        logger.warning(
            "The task worker stopped (exit status %s): starting it again in %g s.",
            code,
            self.restart_delay,
        )

    def _start_worker(self) -> None:
        assert self.worker_command is not None
        self.worker = self._spawn(self.worker_command)
        self.worker_started = time.monotonic()

    @staticmethod
    def _wait(proc: subprocess.Popen | None, seconds: float) -> int | None:
        """Wait up to `seconds` for `proc` to end (signals keep being handled meanwhile);
        its exit status, or None while it runs."""
        if proc is None:
            return 0
        deadline = time.monotonic() + seconds
        while proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        return proc.poll()

    def _spawn(self, command: list[str]) -> subprocess.Popen:
        parent = os.getpid()
        return subprocess.Popen(
            command,
            env=self.env,
            # A process group of its own: the terminal's Ctrl+C (sent to the foreground group)
            # reaches this process only, which stops the children in order.
            process_group=0,
            # This process runs no other thread, which is what preexec_fn needs to be safe.
            preexec_fn=lambda: exit_with_parent(parent_pid=parent, watch=False),
        )


def worker_restart_delay(*, previous: float, ran_for: float) -> float:
    """Seconds to wait before starting the task worker again: 1, then twice the last wait
    while it keeps dying young (a broken database, a bad deploy), at most
    WORKER_RESTART_MAX_SECONDS; 1 again after a run of WORKER_STABLE_SECONDS or more."""
    if previous <= 0 or ran_for >= WORKER_STABLE_SECONDS:
        return 1.0
    return min(previous * 2, WORKER_RESTART_MAX_SECONDS)


def gunicorn_command(
    python: str, *, host: str, port: str | int, workers: int, threads: int, reuse_port: bool
) -> list[str]:
    """gunicorn with gthread workers. With several workers and `reuse_port`, each worker opens
    its own listening socket with SO_REUSEPORT and the kernel hands new connections to them
    evenly; on one shared socket, whichever worker wakes first accepts, and a burst of
    keep-alive connections can all land on one process (one core's worth of Python) while the
    other idles. bench/action_submit.py saw 32 connections split 32/0 and 31/1 that way."""
    command = [
        python,
        "-m",
        "gunicorn",
        "rallypoint.wsgi:application",
        "--bind",
        f"{host}:{port}",
        "--worker-class",
        "gthread",
        "--workers",
        str(workers),
        "--threads",
        str(threads),
    ]
    if reuse_port and workers > 1 and hasattr(socket, "SO_REUSEPORT"):
        command.append("--reuse-port")
    return command


def worker_command(python: str) -> list[str]:
    manage = [python, "-m", "rallypoint"]
    if settings.TASK_BACKEND == "rq":
        return [*manage, "rqworker", "default", "--job-class", "django_tasks_rq.Job"]
    return [*manage, "db_worker", "--queue-name", "default", "--interval", "1"]
