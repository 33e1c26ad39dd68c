"""Insights' own records: accounts on other platforms with their audience over time, and the
results of the heavy computations (spread backtest, whom to ask next) kept per campaign and
window. Everything else insights shows is read from the ledger."""

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

from rallypoint.core.models import TimeStampedModel


class Platform(models.TextChoices):
    FACEBOOK = "facebook", "Facebook"
    X = "x", "X (Twitter)"
    INSTAGRAM = "instagram", "Instagram"
    TIKTOK = "tiktok", "TikTok"
    YOUTUBE = "youtube", "YouTube"
    BLUESKY = "bluesky", "Bluesky"
    MASTODON = "mastodon", "Mastodon"
    THREADS = "threads", "Threads"
    OTHER = "other", "Other"


class PresenceAccount(TimeStampedModel):
    """An account on a platform: the campaign's own or a rival campaign's."""

    platform = models.CharField(max_length=20, choices=Platform.choices)
    handle = models.CharField(max_length=200)
    url = models.URLField(max_length=500, blank=True)
    is_own = models.BooleanField(default=True)
    # For a rival's account: whose it is ("Clinton 2008"). Own accounts leave it blank.
    rival_name = models.CharField(max_length=120, blank=True)
    campaign = models.ForeignKey(
        "mission.Campaign",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="presence_accounts",
    )
    # Whether `rallypoint insights_fetch_presence` may update it (when its platform's fetcher
    # is switched on); what the last attempt said.
    fetch = models.BooleanField(default=True)
    last_fetched_at = models.DateTimeField(null=True, blank=True)
    last_fetch_error = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["platform", "-is_own", "rival_name", "handle"]
        constraints = [
            models.UniqueConstraint(
                "platform", Lower("handle"), name="presence_account_platform_handle_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.get_platform_display()} {self.handle}"

    @property
    def owner_label(self) -> str:
        if not self.is_own:
            return self.rival_name or "Rival"
        return self.campaign.name if self.campaign_id and self.campaign else "Our campaign"


class SnapshotSource(models.TextChoices):
    MANUAL = "manual", "Entered by hand"
    CSV = "csv", "CSV import"
    FETCH = "fetch", "Fetched"


class AudienceSnapshot(models.Model):
    """An account's audience (followers, friends, subscribers) on one day."""

    account = models.ForeignKey(PresenceAccount, on_delete=models.CASCADE, related_name="snapshots")
    day = models.DateField()
    audience = models.PositiveBigIntegerField()
    posts = models.PositiveBigIntegerField(null=True, blank=True)
    engagement = models.PositiveBigIntegerField(null=True, blank=True)
    source = models.CharField(
        max_length=10, choices=SnapshotSource.choices, default=SnapshotSource.MANUAL
    )
    recorded_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["account", "-day"]
        constraints = [
            models.UniqueConstraint(fields=["account", "day"], name="audience_snapshot_per_day"),
        ]

    def __str__(self) -> str:
        return f"{self.account_id} {self.day}: {self.audience}"


class RunKind(models.TextChoices):
    BACKTEST = "backtest", "Spread backtest"
    ASK = "ask", "Whom to ask next"


class RunStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"
    FAILED = "failed", "Failed"


class InsightRun(models.Model):
    """One heavy computation for a campaign and time window: asked for from a page, done by a
    task, its progress and result kept here. A later page view reuses the newest finished run
    for the same campaign, window, parameters and data (`data_mark`)."""

    kind = models.CharField(max_length=20, choices=RunKind.choices)
    campaign = models.ForeignKey(
        "mission.Campaign", on_delete=models.CASCADE, related_name="insight_runs"
    )
    since = models.DateTimeField(null=True, blank=True)
    until = models.DateTimeField(null=True, blank=True)
    params = models.JSONField(default=dict, blank=True)
    # What the data looked like when the run was asked for (new acts or edges make a new mark).
    data_mark = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=10, choices=RunStatus.choices, default=RunStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0)  # percent
    message = models.CharField(max_length=300, blank=True)
    result = models.JSONField(null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["campaign", "kind", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.kind} {self.campaign_id} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in {RunStatus.DONE, RunStatus.FAILED}
