"""`rallypoint events_sweep`: send due reminders and credit hosts now (safe to run from cron
every few minutes), and restart the self-renewing sweep in the task queue if it was lost."""

from django.core.management.base import BaseCommand

from rallypoint.events.services import events_sweep, sweep_ensure_scheduled


class Command(BaseCommand):
    help = "Send due event reminders and credit hosts of past events (idempotent)."

    def handle(self, *args, **options):
        result = events_sweep()
        restarted = sweep_ensure_scheduled()
        self.stdout.write(
            f"Reminders sent: {result['reminders']}; hosts credited: {result['hosts_credited']}"
            + ("; sweep task scheduled." if restarted else ".")
        )
