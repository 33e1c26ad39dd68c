"""`rallypoint outbox_process`: hand outbox events to their consumers (what a crashed worker or a
failing consumer left behind) and delete old events every consumer has read. Safe to run from
cron every few minutes, beside running workers."""

from django.core.management.base import BaseCommand

from rallypoint.core.outbox import outbox_process, outbox_prune


class Command(BaseCommand):
    help = "Hand unread outbox events to their consumers and prune old read ones (idempotent)."

    def handle(self, *args, **options):
        self.stdout.write(f"Outbox events handled: {outbox_process()}")
        self.stdout.write(f"Outbox events pruned: {outbox_prune()}")
