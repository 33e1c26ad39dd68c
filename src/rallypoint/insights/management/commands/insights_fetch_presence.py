"""rallypoint insights_fetch_presence: today's audience of every listed account whose platform
has a fetcher switched on (INSIGHTS_FETCH_MASTODON, INSIGHTS_FETCH_BLUESKY,
INSIGHTS_YOUTUBE_API_KEY). Run it daily from cron; running it twice a day keeps the later
count."""

from django.core.management.base import BaseCommand

from rallypoint.insights.fetchers import fetchers_enabled
from rallypoint.insights.services.presence import presence_fetch


class Command(BaseCommand):
    help = "Fetch today's audience of listed accounts on platforms with a fetcher switched on."

    def add_arguments(self, parser):
        parser.add_argument("--account", type=int, action="append", help="Only this account id")

    def handle(self, *args, **options):
        enabled = fetchers_enabled()
        if not enabled:
            self.stdout.write(
                "No fetcher is switched on (INSIGHTS_FETCH_MASTODON, INSIGHTS_FETCH_BLUESKY, "
                "INSIGHTS_YOUTUBE_API_KEY): nothing to fetch."
            )
            return
        outcomes = presence_fetch(account_ids=options.get("account"))
        failed = 0
        for outcome in outcomes:
            name = f"{outcome.account.get_platform_display()} {outcome.account.handle}"
            if outcome.error:
                failed += 1
                self.stdout.write(f"{name}: {outcome.error}")
            else:
                self.stdout.write(f"{name}: {outcome.audience:,}")
        self.stdout.write(
            f"{len(outcomes) - failed} fetched, {failed} failed ({', '.join(enabled)} on)."
        )
