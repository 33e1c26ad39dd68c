"""`rallypoint demo`: a believable campaign to explore. Each app adds its part in `<app>/demo.py`
with a `build(ctx)` function; they run in INSTALLED_APPS order (people first)."""

import importlib
import random

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import transaction

from rallypoint.core.demo_support import DemoContext, demo_exists


class Command(BaseCommand):
    help = "Load the demo campaign (skipped when it is already there unless --force)."

    def add_arguments(self, parser):
        parser.add_argument("--people", type=int, default=2400)
        parser.add_argument("--seed", type=int, default=2008)
        parser.add_argument(
            "--if-empty", action="store_true", help="Only load into an empty database."
        )

    def handle(self, *args, people, seed, if_empty, **options):
        if if_empty and demo_exists():
            self.stdout.write("Demo data is already loaded.")
            return
        ctx = DemoContext(rng=random.Random(seed), people_count=people, stdout=self.stdout)
        for config in apps.get_app_configs():
            if not config.name.startswith("rallypoint."):
                continue
            try:
                module = importlib.import_module(f"{config.name}.demo")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.demo":
                    raise
                continue
            with transaction.atomic():
                module.build(ctx)
        ctx.print_login()
