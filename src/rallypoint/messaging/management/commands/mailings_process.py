"""`rallypoint mailings_process`: the timed work of mailings (scheduled starts, A/B decisions,
sending that a crash stopped). Safe to run from cron every minute, beside running workers."""

from django.core.management.base import BaseCommand

from rallypoint.messaging.services.delivery import mailings_process


class Command(BaseCommand):
    help = (
        "Start scheduled mailings that are due, decide due A/B tests and restart sending that "
        "a crashed worker left (idempotent)."
    )

    def handle(self, *args, **options):
        done = mailings_process().as_dict()
        self.stdout.write("Mailings: " + ", ".join(f"{k} {v}" for k, v in done.items()))
