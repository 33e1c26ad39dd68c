"""Local groups: supporters form a team for their area, run events and talk to each other."""

from django.db import models
from django.db.models import Q

from rallypoint.core.models import TimeStampedModel


class GroupStatus(models.TextChoices):
    PENDING = "pending", "Waiting for approval"
    ACTIVE = "active", "Active"
    REJECTED = "rejected", "Not approved"
    MERGED = "merged", "Merged into another group"


class JoinPolicy(models.TextChoices):
    OPEN = "open", "Anyone can join"
    APPROVAL = "approval", "Leaders approve new members"


class Group(TimeStampedModel):
    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=120, unique=True)
    description = models.TextField(blank=True)
    # The area: a postal code and radius, or a named region ("Western Slope").
    postal_code = models.CharField(max_length=20, blank=True)
    radius_km = models.PositiveIntegerField(default=16)
    region = models.CharField(max_length=100, blank=True)
    locality = models.CharField(max_length=100, blank=True)
    latitude = models.FloatField(null=True, blank=True)
    longitude = models.FloatField(null=True, blank=True)
    join_policy = models.CharField(
        max_length=10, choices=JoinPolicy.choices, default=JoinPolicy.OPEN
    )
    status = models.CharField(
        max_length=10, choices=GroupStatus.choices, default=GroupStatus.PENDING, db_index=True
    )
    campaign = models.ForeignKey(
        "mission.Campaign", null=True, blank=True, on_delete=models.SET_NULL, related_name="groups"
    )
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_groups"
    )

    class Meta:
        ordering = ["name", "id"]
        indexes = [
            models.Index(
                fields=["latitude", "longitude"],
                name="group_active_where",
                condition=Q(status="active"),
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.status == GroupStatus.ACTIVE

    @property
    def area_line(self) -> str:
        if self.locality or self.region:
            place = ", ".join(p for p in (self.locality, self.region) if p)
        else:
            place = self.postal_code
        if self.postal_code and self.radius_km:
            miles = round(self.radius_km / 1.609344)
            return f"{place} and {miles} miles around"
        return place


class MemberRole(models.TextChoices):
    LEADER = "leader", "Leader"
    MEMBER = "member", "Member"


class MemberStatus(models.TextChoices):
    ACTIVE = "active", "Member"
    PENDING = "pending", "Asked to join"
    LEFT = "left", "Left"


class Membership(TimeStampedModel):
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="memberships")
    person = models.ForeignKey(
        "people.Person", on_delete=models.CASCADE, related_name="group_memberships"
    )
    role = models.CharField(max_length=10, choices=MemberRole.choices, default=MemberRole.MEMBER)
    status = models.CharField(
        max_length=10, choices=MemberStatus.choices, default=MemberStatus.ACTIVE
    )

    class Meta:
        ordering = ["-role", "created_at", "id"]
        constraints = [models.UniqueConstraint(fields=["group", "person"], name="membership_once")]
        indexes = [
            models.Index(fields=["group", "status", "role"]),
            models.Index(fields=["person", "status"]),
        ]

    def __str__(self) -> str:
        return f"{self.person_id} {self.role} of {self.group_id}"

    @property
    def is_leader(self) -> bool:
        return self.role == MemberRole.LEADER and self.status == MemberStatus.ACTIVE


class Announcement(TimeStampedModel):
    group = models.ForeignKey(Group, on_delete=models.CASCADE, related_name="announcements")
    author = models.ForeignKey(
        "people.Person", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    title = models.CharField(max_length=200)
    body = models.TextField()
    recipients = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["group", "-created_at"])]

    def __str__(self) -> str:
        return self.title
