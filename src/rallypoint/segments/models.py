from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

from rallypoint.core.models import TimeStampedModel

from .definition import empty_definition


class Segment(TimeStampedModel):
    """A saved, named audience. It stays live: its members are computed from `definition`
    (see segments.definition) every time, by segments.queries.segment_people."""

    name = models.CharField(max_length=120)
    slug = models.SlugField(max_length=140, unique=True)
    description = models.CharField(max_length=300, blank=True)
    definition = models.JSONField(default=empty_definition)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(Lower("name"), name="segment_name_ci_unique")]

    def __str__(self) -> str:
        return self.name
