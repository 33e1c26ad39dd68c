"""`rallypoint serve`: the web server (gunicorn, gthread) and a task worker in one command."""

import argparse
import os
import signal
import socket
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand


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
        processes = [subprocess.Popen(web)]
        if not no_worker:
            processes.append(subprocess.Popen(worker_command(python)))
        self.stdout.write(f"Rallypoint is serving on http://{host}:{port}/ (Ctrl+C to stop)")

        def stop(*_):
            for proc in processes:
                if proc.poll() is None:
                    proc.send_signal(signal.SIGTERM)

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        try:
            while all(proc.poll() is None for proc in processes):
                time.sleep(0.5)
        finally:
            stop()
            for proc in processes:
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    proc.kill()
        codes = [proc.returncode for proc in processes]
        if any(code not in (0, -signal.SIGTERM, -signal.SIGINT) for code in codes):
            sys.exit(1)


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
