"""Django on a PostgreSQL database of the benchmark's own, for bench scripts that need one."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def setup_django(url: str, *, var_dir: str) -> None:
    """Create the database named by `url` if it is missing, set Django up on it (no task
    worker, no mail, warnings only) and migrate."""
    import psycopg

    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            conn.execute(f'CREATE DATABASE "{name}"')
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("RALLYPOINT_VAR_DIR", var_dir)
    os.environ["TASK_BACKEND"] = "dummy"
    os.environ["EMAIL_URL"] = "dummy://"
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rallypoint.settings")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
