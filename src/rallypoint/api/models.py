import hashlib

from django.conf import settings
from django.db import models
from django.db.models import Q


class Scope(models.TextChoices):
    READ_ONLY = "read-only", "Read only"
    READ_WRITE = "read-write", "Read and write"


def key_hash(raw_key: str) -> str:
    """Keys carry 256 random bits, so a plain sha256 is enough: no salt or slow hash needed."""
    return hashlib.sha256(raw_key.encode()).hexdigest()


class ApiKey(models.Model):
    """A key an organizer gave to another tool. Only its hash is stored; it is shown once."""

    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, db_index=True)  # first characters, for recognising
    key_hash = models.CharField(max_length=64, unique=True)
    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.READ_ONLY)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                "name", condition=Q(revoked_at__isnull=True), name="apikey_active_name_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    @property
    def can_write(self) -> bool:
        return self.is_active and self.scope == Scope.READ_WRITE
