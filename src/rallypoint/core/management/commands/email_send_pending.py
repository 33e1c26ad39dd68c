"""`rallypoint email_send_pending`: send messages a crashed or refused send left unsent (safe to
run from cron every few minutes, beside running workers)."""

from django.core.management.base import BaseCommand

from rallypoint.core.mail import email_send_pending


class Command(BaseCommand):
    help = "Send queued emails left unsent by a crash or a refusing mail server (idempotent)."

    def handle(self, *args, **options):
        self.stdout.write(f"Emails sent: {email_send_pending()}")
