"""`rallypoint mailings_send`: a sending worker in the foreground, for a dedicated mail machine
or to finish a mailing by hand. Any number can run beside each other and beside the task
worker: each delivery is claimed by one of them at a time."""

from django.core.management.base import BaseCommand

from rallypoint.messaging.services.delivery import mailings_send_until_done


class Command(BaseCommand):
    help = "Send mailings that are sending (all, or one), until nothing is left or forever."

    def add_arguments(self, parser):
        parser.add_argument("--mailing", type=int, help="Only this mailing (its id).")
        parser.add_argument(
            "--forever",
            action="store_true",
            help="Keep waiting for work instead of stopping when nothing is left to send.",
        )

    def handle(self, *args, mailing, forever, **options):
        result = mailings_send_until_done(mailing_id=mailing, idle_exit=not forever)
        self.stdout.write(f"Sent {result.sent}, failed {result.failed}, skipped {result.skipped}.")
