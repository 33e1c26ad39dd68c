from django.db import models
from django.db.models import Q


class Recruitment(models.Model):
    """An edge of the social grid: `recruiter` brought `recruit` in, on `channel`."""

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
        ordering = ["-created_at"]
        constraints = [
            # First touch wins: one recruiter per recruit per campaign (and one outside campaigns).
            models.UniqueConstraint(
                fields=["recruit", "campaign"],
                name="recruit_once_per_campaign",
                condition=Q(campaign__isnull=False),
            ),
            models.UniqueConstraint(
                fields=["recruit"],
                name="recruit_once_without_campaign",
                condition=Q(campaign__isnull=True),
            ),
            models.CheckConstraint(
                condition=~Q(recruiter=models.F("recruit")), name="no_self_recruit"
            ),
        ]
        indexes = [models.Index(fields=["recruiter", "campaign"])]

    def __str__(self) -> str:
        return f"{self.recruiter_id}→{self.recruit_id} ({self.channel})"

    @property
    def channel_label(self) -> str:
        from rallypoint.ledger.models import Channel

        return dict(Channel.choices).get(self.channel, self.channel)
