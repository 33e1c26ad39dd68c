"""Mailings and their deliveries.

A Mailing is what an organizer composes (subject, body, audience). Sending it snapshots the
audience into one Delivery per recipient (unique per mailing and person); workers claim
deliveries in batches with a lease, send them outside any transaction and mark them sent. Opens,
clicks, bounces, complaints and unsubscribes land on the delivery (and, for the last three, on
the person's email address), so the report is a handful of aggregates over one table.
"""

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from rallypoint.core.models import TimeStampedModel


class MailingStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SCHEDULED = "scheduled", "Scheduled"
    CALCULATING = "calculating", "Preparing the audience"
    SENDING = "sending", "Sending"
    PAUSED = "paused", "Paused"
    CANCELLED = "cancelled", "Cancelled"
    SENT = "sent", "Sent"


# The OSDI message status of each (paused and cancelled are both "stopped" there).
OSDI_STATUS = {
    MailingStatus.DRAFT: "draft",
    MailingStatus.SCHEDULED: "scheduled",
    MailingStatus.CALCULATING: "calculating",
    MailingStatus.SENDING: "sending",
    MailingStatus.PAUSED: "stopped",
    MailingStatus.CANCELLED: "stopped",
    MailingStatus.SENT: "sent",
}


class MailKind(models.TextChoices):
    """What a mailing is about: the preference page lets a supporter stop one kind and keep the
    others. Transactional mail (receipts, reminders) is not a mailing and has no kind."""

    NEWS = "news", "Campaign news"
    ACTIONS = "actions", "Petitions and calls to action"
    EVENTS = "events", "Events near you"
    FUNDRAISING = "fundraising", "Fundraising"


class AbMetric(models.TextChoices):
    CLICKS = "clicks", "Clicks"
    OPENS = "opens", "Opens"


class Mailing(TimeStampedModel):
    name = models.CharField(max_length=200, help_text="For organizers only; never shown to people.")
    subject = models.CharField(max_length=300, blank=True)
    preview_text = models.CharField(max_length=200, blank=True)
    from_name = models.CharField(max_length=100, blank=True)
    # One of settings.MAILING_FROM_ADDRESSES (checked by the services).
    from_address = models.EmailField(blank=True)
    reply_to = models.EmailField(blank=True)
    body_html = models.TextField(blank=True)  # sanitised with nh3 by the services
    kind = models.CharField(max_length=20, choices=MailKind.choices, default=MailKind.NEWS)
    campaign = models.ForeignKey(
        "mission.Campaign", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    include_segments = models.ManyToManyField("segments.Segment", blank=True, related_name="+")
    exclude_segments = models.ManyToManyField("segments.Segment", blank=True, related_name="+")
    # Tracking can also be switched off for every mailing with settings.MAILING_TRACKING.
    track_opens = models.BooleanField(default=True)
    track_clicks = models.BooleanField(default=True)

    status = models.CharField(
        max_length=20, choices=MailingStatus.choices, default=MailingStatus.DRAFT, db_index=True
    )
    scheduled_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)  # OSDI sent_start_date
    finished_at = models.DateTimeField(null=True, blank=True)  # OSDI sent_end_date
    # People in the snapshot (after suppression): fixed once the audience is taken.
    total_targeted = models.PositiveIntegerField(null=True, blank=True)

    # A/B subject test: with variants, `ab_sample_percent` of the audience gets them first, split
    # evenly; after `ab_wait_minutes` the variant with the most `ab_metric` wins and the rest of
    # the audience gets the winner's subject.
    ab_sample_percent = models.PositiveSmallIntegerField(default=0)
    ab_wait_minutes = models.PositiveIntegerField(default=240)
    ab_metric = models.CharField(max_length=10, choices=AbMetric.choices, default=AbMetric.CLICKS)
    ab_decide_at = models.DateTimeField(null=True, blank=True)
    ab_winner = models.ForeignKey(
        "MailingVariant", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return self.name


class MailingVariant(models.Model):
    """One subject of an A/B test (label "A", "B", …)."""

    mailing = models.ForeignKey(Mailing, on_delete=models.CASCADE, related_name="variants")
    label = models.CharField(max_length=2)
    subject = models.CharField(max_length=300)

    class Meta:
        ordering = ["label"]
        constraints = [
            models.UniqueConstraint(fields=["mailing", "label"], name="mailing_variant_unique")
        ]

    def __str__(self) -> str:
        return f"{self.label}: {self.subject}"


class DeliveryStatus(models.TextChoices):
    PENDING = "pending", "Waiting"  # in the snapshot, not sent yet
    HELD = "held", "Held for the A/B winner"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"  # given up for good (hard refusal or too many attempts)
    SKIPPED = "skipped", "Skipped"  # suppressed between the snapshot and the send


class Delivery(models.Model):
    """One recipient of one mailing. Written by the snapshot (one set-based insert); claimed by
    a worker with a lease; the only row that says whether this person got this mailing."""

    mailing = models.ForeignKey(Mailing, on_delete=models.CASCADE, related_name="deliveries")
    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="+")
    address = models.CharField(max_length=254)  # the address it goes to, as of the snapshot
    variant = models.ForeignKey(
        MailingVariant, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Public id for tracking links, the open pixel and VERP bounce addresses.
    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    status = models.CharField(
        max_length=10, choices=DeliveryStatus.choices, default=DeliveryStatus.PENDING
    )
    # The lease of the worker sending it (see messaging.services.delivery).
    claimed_at = models.DateTimeField(null=True, blank=True)
    claim_token = models.CharField(max_length=32, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    provider_message_id = models.CharField(max_length=200, blank=True, db_index=True)

    # What happened next.
    delivered_at = models.DateTimeField(null=True, blank=True)
    opened_at = models.DateTimeField(null=True, blank=True)  # first open of any kind
    human_opened_at = models.DateTimeField(null=True, blank=True)  # first open by a person
    open_count = models.PositiveIntegerField(default=0)
    clicked_at = models.DateTimeField(null=True, blank=True)  # first human click
    bounce = models.CharField(
        max_length=4, blank=True, choices=[("hard", "Hard bounce"), ("soft", "Soft bounce")]
    )
    bounced_at = models.DateTimeField(null=True, blank=True)
    complained_at = models.DateTimeField(null=True, blank=True)
    unsubscribed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["mailing", "person"], name="delivery_once_per_person")
        ]
        indexes = [
            models.Index(fields=["mailing", "status"], name="delivery_mailing_status"),
            # The route's sliding hour (services.delivery.hourly_room): what was sent in the
            # last hour, and what is claimed and about to be sent.
            models.Index(
                fields=["sent_at"], condition=Q(sent_at__isnull=False), name="delivery_sent_at"
            ),
            models.Index(
                fields=["claimed_at"],
                condition=Q(status="pending") & ~Q(claim_token=""),
                name="delivery_in_flight",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.mailing_id} → {self.address}"


class MailingLink(models.Model):
    """A link of a mailing's body. Click redirects go only to these (no open redirect)."""

    mailing = models.ForeignKey(Mailing, on_delete=models.CASCADE, related_name="links")
    position = models.PositiveSmallIntegerField()
    url = models.URLField(max_length=2000)

    class Meta:
        ordering = ["position"]
        constraints = [
            models.UniqueConstraint(fields=["mailing", "position"], name="mailing_link_unique")
        ]

    def __str__(self) -> str:
        return self.url


class Click(models.Model):
    """A recipient's first click on one link (recorded once per recipient and link)."""

    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="clicks")
    link = models.ForeignKey(MailingLink, on_delete=models.CASCADE, related_name="clicks")
    at = models.DateTimeField()
    machine = models.BooleanField(default=False)  # a scanner or proxy, by the documented rule

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["delivery", "link"], name="click_once_per_link")
        ]

    def __str__(self) -> str:
        return f"{self.delivery_id} → {self.link_id}"


class MailPreference(models.Model):
    """A kind of mail (MailKind) a person has stopped. No row: they get it."""

    person = models.ForeignKey("people.Person", on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=MailKind.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["person", "kind"], name="mail_preference_unique")
        ]

    def __str__(self) -> str:
        return f"{self.person_id} stopped {self.kind}"


class SoftBounce(models.Model):
    """Soft bounces per address since its last delivered message: at
    settings.MAILING_SOFT_BOUNCE_LIMIT the address is suppressed as bouncing."""

    address_normalized = models.CharField(max_length=254, unique=True)
    count = models.PositiveSmallIntegerField(default=0)
    last_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.address_normalized}: {self.count}"


class MailImage(models.Model):
    """An image an organizer uploaded for a mailing, served at /mail/m/i/<token>.<extension>
    (services.images). Stored re-encoded: no camera metadata (location) leaves with it."""

    token = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    file = models.FileField(upload_to="mail-images/")
    content_type = models.CharField(max_length=30)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    size = models.PositiveIntegerField()  # bytes, as stored
    original_name = models.CharField(max_length=200, blank=True)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self) -> str:
        return self.original_name or str(self.token)
