import secrets

from django.conf import settings
from django.db import models

from rallypoint.core.models import TimeStampedModel


class EventType(models.TextChoices):
    PERSON_CREATED = "person.created", "A person is added"
    PERSON_UPDATED = "person.updated", "A person's record changes"
    SIGNATURE = "signature", "Someone signs a petition"
    SUBMISSION = "submission", "Someone submits a form"
    ATTENDANCE = "attendance", "Someone RSVPs to an event"
    DONATION = "donation", "Someone donates"
    UNSUBSCRIBE = "unsubscribe", "Someone unsubscribes"


# The OSDI key each event's record is sent under.
EVENT_KEYS = {
    EventType.PERSON_CREATED: "osdi:person",
    EventType.PERSON_UPDATED: "osdi:person",
    EventType.SIGNATURE: "osdi:signature",
    EventType.SUBMISSION: "osdi:submission",
    EventType.ATTENDANCE: "osdi:attendance",
    EventType.DONATION: "osdi:donation",
    EventType.UNSUBSCRIBE: "osdi:person",
}


def new_secret() -> str:
    return "whsec_" + secrets.token_urlsafe(32)


class Hook(TimeStampedModel):
    """An address that wants to hear about some kinds of events."""

    name = models.CharField(max_length=100)
    url = models.URLField(max_length=500)
    event_types = models.JSONField(default=list)
    secret = models.CharField(max_length=100, default=new_secret)
    is_active = models.BooleanField(default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Since when every attempt has failed (cleared by a success); 24 h of this disables the hook.
    failing_since = models.DateTimeField(null=True, blank=True)
    disabled_at = models.DateTimeField(null=True, blank=True)
    disabled_reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["name", "id"]

    def __str__(self) -> str:
        return self.name

    def wants(self, event_type: str) -> bool:
        return self.is_active and event_type in self.event_types

    def get_event_types_display(self) -> list[str]:
        labels = dict(EventType.choices)
        return [labels.get(t, t) for t in self.event_types]


class PendingEvent(models.Model):
    """An event waiting for its hook's next batch."""

    hook = models.ForeignKey(Hook, on_delete=models.CASCADE, related_name="pending_events")
    event_type = models.CharField(max_length=30)
    payload = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["hook", "id"])]

    def __str__(self) -> str:
        return f"{self.event_type} → hook {self.hook_id}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Waiting to be sent"
    SENDING = "sending", "Sending"
    DELIVERED = "delivered", "Delivered"
    FAILED = "failed", "Gave up"


class Delivery(TimeStampedModel):
    """One signed POST of a batch of events, with its attempts and the receiver's answer. The body
    is fixed when the batch is made, so every retry sends the same bytes."""

    hook = models.ForeignKey(Hook, on_delete=models.CASCADE, related_name="deliveries")
    body = models.TextField()
    event_types = models.JSONField(default=list)
    event_count = models.PositiveIntegerField(default=0)
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    give_up_at = models.DateTimeField(null=True, blank=True)  # retries stop after this
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    response_code = models.PositiveIntegerField(null=True, blank=True)
    response_excerpt = models.CharField(max_length=500, blank=True)
    error = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name_plural = "deliveries"
        indexes = [
            models.Index(fields=["hook", "-created_at"]),
            models.Index(fields=["status", "next_attempt_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.hook_id}:{self.pk} {self.status}"
