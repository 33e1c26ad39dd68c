from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "SMS"
    FACEBOOK = "facebook", "Facebook"
    X = "x", "X"
    WHATSAPP = "whatsapp", "WhatsApp"
    BLUESKY = "bluesky", "Bluesky"
    MASTODON = "mastodon", "Mastodon"
    DIRECT = "direct", "Direct link"
    OTHER = "other", "Other"


class Activity(models.Model):
    """One act by one person. Progress, leaderboards, feeds and spread analytics read this."""

    # The ForeignKeys below have no index of their own: each leads one of the composite indexes
    # in Meta, which serves the same lookups (and FK cascades) for one index write less per act.
    person = models.ForeignKey(
        "people.Person", on_delete=models.CASCADE, related_name="activities", db_index=False
    )
    kind = models.CharField(max_length=30)
    campaign = models.ForeignKey(
        "mission.Campaign",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="activities",
        db_index=False,
    )
    target_type = models.ForeignKey(
        ContentType,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,
    )
    target_id = models.CharField(max_length=64, blank=True)
    target = GenericForeignKey("target_type", "target_id")
    points = models.IntegerField(default=0)
    # Amount for money-like kinds (cents for donations); 1 for everything else. Goals sum it.
    quantity = models.BigIntegerField(default=1)
    referrer = models.ForeignKey(
        "people.Person",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="referred_activities",
        db_index=False,
    )
    channel = models.CharField(max_length=20, blank=True, choices=Channel.choices)
    # Its own index: the organizer overview lists the newest acts across all campaigns.
    created_at = models.DateTimeField(db_index=True)
    details = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "activities"
        indexes = [
            models.Index(fields=["campaign", "kind", "created_at"]),
            models.Index(fields=["person", "-created_at"]),
            models.Index(fields=["referrer", "campaign"]),
            models.Index(fields=["target_type", "target_id"]),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.kind} @ {self.created_at:%Y-%m-%d %H:%M}"

    @property
    def kind_label(self) -> str:
        from .kinds import kind_label

        return kind_label(self.kind)


class Recruitment(models.Model):
    """An edge of the social grid: `recruiter` brought `recruit` in, on `channel`. Written with
    the recruit's first act for the campaign (ledger.services.activity_record)."""

    # No index of its own: (recruiter, campaign) in Meta leads with it.
    recruiter = models.ForeignKey(
        "people.Person", on_delete=models.CASCADE, related_name="recruits", db_index=False
    )
    recruit = models.ForeignKey(
        "people.Person", on_delete=models.CASCADE, related_name="recruited_by"
    )
    campaign = models.ForeignKey(
        "mission.Campaign",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="recruitments",
    )
    channel = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField(db_index=True)

    class Meta:
        # The table kept its name from when the model lived in `sharing`.
        db_table = "sharing_recruitment"
        ordering = ["-created_at"]
        constraints = [
            # First touch wins: one recruiter per recruit per campaign (and one outside campaigns).
            models.UniqueConstraint(
                fields=["recruit", "campaign"],
                name="recruit_once_per_campaign",
                condition=models.Q(campaign__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["recruit"],
                name="recruit_once_without_campaign",
                condition=models.Q(campaign__isnull=True),
            ),
            models.CheckConstraint(
                condition=~models.Q(recruiter=models.F("recruit")), name="no_self_recruit"
            ),
        ]
        indexes = [models.Index(fields=["recruiter", "campaign"])]

    def __str__(self) -> str:
        return f"{self.recruiter_id}→{self.recruit_id} ({self.channel})"

    @property
    def channel_label(self) -> str:
        return dict(Channel.choices).get(self.channel, self.channel)
