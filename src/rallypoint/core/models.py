import uuid

from django.conf import settings
from django.db import models


class TimeStampedModel(models.Model):
    """Base for records that the API exposes: a stable public uuid and created/modified times."""

    uuid = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    modified_at = models.DateTimeField(auto_now=True, db_index=True)

    class Meta:
        abstract = True


class AuditEntry(models.Model):
    """Who changed what, when, with the before/after data. Written by services via log_action."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    action = models.CharField(max_length=100)
    object_type = models.CharField(max_length=100)
    object_id = models.CharField(max_length=64)
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["object_type", "object_id", "-created_at"])]
        verbose_name_plural = "audit entries"

    def __str__(self) -> str:
        return f"{self.action} {self.object_type}:{self.object_id}"


class OutboundEmail(models.Model):
    """An email the platform decided to send. The send task takes its id, claims it, sends it
    and marks it sent, so a task that runs twice (worker restart, retry) does not send twice.
    `dedupe_key` stops a service from queueing the same message twice ("rsvp-reminder:42:24h")."""

    to = models.CharField(max_length=254)
    subject = models.CharField(max_length=300)
    body_text = models.TextField()
    body_html = models.TextField(blank=True)
    # [{"filename": "event.ics", "content": "...", "mimetype": "text/calendar"}]
    attachments = models.JSONField(default=list, blank=True)
    dedupe_key = models.CharField(max_length=200, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # Extra headers sent with the message (List-Unsubscribe for a supporter's address).
    headers = models.JSONField(default=dict, blank=True)
    # The lease of the worker sending it: set by a conditional UPDATE and committed before the
    # mail server is contacted, so no transaction or row lock is held during the send.
    claimed_at = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.subject} → {self.to}"


class OutboxEvent(models.Model):
    """Something that happened, written in the same transaction as the rows it describes and read
    after commit, in order, by each outbox consumer (rallypoint.core.outbox). No domain knowledge:
    a kind, the record it is about (by label and pk) and a small JSON payload."""

    uuid = models.UUIDField(default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=50)
    subject_type = models.CharField(max_length=100, blank=True)  # "people.person"
    subject_id = models.CharField(max_length=64, blank=True)
    payload = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.pk} {self.kind} {self.subject_type}:{self.subject_id}"


class OutboxCursor(models.Model):
    """How far one outbox consumer has read: every event up to `position` is handled, except the
    ids in `gaps` ([id, unix time first missed]), which were not yet committed when the consumer
    passed them and are picked up if they appear later."""

    consumer = models.CharField(max_length=100, unique=True)
    position = models.BigIntegerField(default=0)
    gaps = models.JSONField(default=list, blank=True)
    modified_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["consumer"]

    def __str__(self) -> str:
        return f"{self.consumer} at {self.position}"
