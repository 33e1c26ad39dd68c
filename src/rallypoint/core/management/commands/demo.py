"""`rallypoint demo`: a believable campaign to explore. Each app adds its part in `<app>/demo.py`
with a `build(ctx)` function; they run in INSTALLED_APPS order (people first)."""

import random

from django.core.management.base import BaseCommand

from rallypoint.core.demo_support import DemoContext, demo_build, demo_exists


class Command(BaseCommand):
    help = "Load the demo campaign (with --if-empty, only into a database without it)."

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
        demo_build(ctx)
        ctx.print_login()
