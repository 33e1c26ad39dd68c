from django.db import models

from rallypoint.core.models import TimeStampedModel
from rallypoint.ledger.kinds import kind_noun, per_unit


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
    # Organizer's pre-written share texts per channel, e.g. {"x": "...", "email_subject": "..."};
    # missing keys fall back to sharing.kit.DEFAULT_SHARE_TEXTS.
    share_texts = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name

    @property
    def is_live(self) -> bool:
        return self.status == CampaignStatus.LIVE

    @property
    def picture_url(self) -> str:
        """The uploaded image, else the image URL, else ""."""
        if self.image:
            return self.image.url
        return self.image_url


class Goal(TimeStampedModel):
    """A number the whole campaign moves together: "10,000 signatures by May 1"."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="goals")
    kind = models.CharField(max_length=30)  # a ledger.kinds code; checked by the services
    title = models.CharField(max_length=200, blank=True)  # default: "10,000 signatures"
    # In display units: dollars for donations (the ledger counts cents), acts for everything else.
    target = models.PositiveBigIntegerField()
    deadline = models.DateTimeField(null=True, blank=True)
    # Only acts by people whose primary address is in this region (state code, e.g. "OH").
    region = models.CharField(max_length=100, blank=True)
    # Only acts by people in this saved audience (segments.queries.segment_people).
    segment = models.ForeignKey(
        "segments.Segment", null=True, blank=True, on_delete=models.SET_NULL, related_name="goals"
    )
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(target__gt=0), name="goal_target_positive")
        ]

    def __str__(self) -> str:
        return self.display_title

    @property
    def noun(self) -> str:
        return kind_noun(self.kind)

    @property
    def per_unit(self) -> int:
        return per_unit(self.kind)

    @property
    def display_title(self) -> str:
        if self.title:
            return self.title
        return f"{self.target:,} {self.noun}{self.scope}"

    @property
    def scope(self) -> str:
        """ " from OH", " from Ohio volunteers", or "" for everyone."""
        parts = [self.region] if self.region else []
        if self.segment_id:
            parts.append(self.segment.name)
        return f" from {' · '.join(parts)}" if parts else ""


class GoalMilestone(models.Model):
    """A goal passed 25, 50, 75 or 100% of its target (recorded once, by the outbox consumer in
    mission.milestones, which also tells the organizers)."""

    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="milestones")
    percent = models.PositiveSmallIntegerField()
    amount = models.PositiveBigIntegerField()  # the goal's count when the milestone was seen
    reached_at = models.DateTimeField()

    class Meta:
        ordering = ["goal", "percent"]
        constraints = [
            models.UniqueConstraint(fields=["goal", "percent"], name="goal_milestone_once")
        ]

    def __str__(self) -> str:
        return f"{self.goal} passed {self.percent}%"
