from django.db import models

from rallypoint.core.models import TimeStampedModel


class CampaignStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    LIVE = "live", "Live"
    CLOSED = "closed", "Closed"


class Campaign(TimeStampedModel):
    """The shared mission people rally behind."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    summary = models.CharField(max_length=300, blank=True)
    story = models.TextField(blank=True)  # sanitised HTML (nh3) — see mission.services
    image = models.ImageField(upload_to="campaigns/", blank=True)
    image_url = models.URLField(blank=True)
    starts_at = models.DateTimeField(null=True, blank=True)
    ends_at = models.DateTimeField(null=True, blank=True)
    status = models.CharField(
        max_length=10, choices=CampaignStatus.choices, default=CampaignStatus.DRAFT, db_index=True
    )
    # Overrides of ledger.kinds default points, e.g. {"sign": 2}.
    points = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name
