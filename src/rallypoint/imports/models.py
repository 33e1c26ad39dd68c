from django.conf import settings
from django.db import models

from rallypoint.core.models import TimeStampedModel


class ImportStatus(models.TextChoices):
    DRAFT = "draft", "Waiting for column choices"
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Finished"
    FAILED = "failed", "Stopped by an error"
    CANCELLED = "cancelled", "Cancelled"


class ImportJob(TimeStampedModel):
    """One CSV file on its way into the people table. Progress and the resume checkpoint are
    written in the same transaction as each batch of rows, so they never disagree."""

    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    file = models.FileField(upload_to="imports/", max_length=300)
    original_name = models.CharField(max_length=255)
    file_size = models.BigIntegerField(default=0)
    # What the file turned out to be.
    encoding = models.CharField(max_length=40, default="utf-8")
    delimiter = models.CharField(max_length=1, default=",")
    quotechar = models.CharField(max_length=1, default='"')
    headers = models.JSONField(default=list, blank=True)
    sample_rows = models.JSONField(default=list, blank=True)
    # {"<column index>": "<field code>"}; see imports.mapping.FIELDS.
    mapping = models.JSONField(default=dict, blank=True)
    # Options chosen by the organizer.
    tags = models.JSONField(default=list, blank=True)
    source = models.CharField(max_length=200, blank=True)
    fill_blanks_only = models.BooleanField(default=False)
    # A row with a new email and a phone number someone already has updates that person
    # (instead of creating a new person reported as a possible duplicate).
    update_by_phone = models.BooleanField(default=False)
    status = models.CharField(
        max_length=20, choices=ImportStatus.choices, default=ImportStatus.DRAFT, db_index=True
    )
    total_rows = models.PositiveIntegerField(null=True, blank=True)  # estimated from lines
    # The checkpoint: data rows (skipped ones included) already committed, in file order.
    rows_done = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)  # rows that changed a known person
    unchanged_count = models.PositiveIntegerField(default=0)  # matched, nothing new
    duplicate_count = models.PositiveIntegerField(default=0)  # rows with another's phone number
    skipped_count = models.PositiveIntegerField(default=0)
    # The worker that owns the job right now, and when it last reported.
    run_token = models.CharField(max_length=32, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    run_started_at = models.DateTimeField(null=True, blank=True)
    run_start_rows = models.PositiveIntegerField(default=0)
    finished_at = models.DateTimeField(null=True, blank=True)
    error_message = models.TextField(blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return self.original_name

    @property
    def is_active(self) -> bool:
        return self.status in {ImportStatus.QUEUED, ImportStatus.RUNNING}

    @property
    def is_finished(self) -> bool:
        return self.status in {ImportStatus.DONE, ImportStatus.CANCELLED}


class ImportRowError(models.Model):
    """A row that was skipped, with its line in the file, the reason and the original cells."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="row_errors")
    line = models.PositiveIntegerField()
    reason = models.CharField(max_length=500)
    values = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["job", "line", "id"]
        indexes = [models.Index(fields=["job", "line"])]

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


class RowOutcome(models.TextChoices):
    CREATED = "created", "New person"
    UPDATED = "updated", "Updated"
    UNCHANGED = "unchanged", "Matched, nothing new"


class ImportChange(models.Model):
    """What one row of an import did: the person it created or changed, and the other person
    who already had its phone number when it may be a duplicate. Rows that matched someone and
    brought nothing new are kept only when they are possible duplicates."""

    job = models.ForeignKey(ImportJob, on_delete=models.CASCADE, related_name="changes")
    line = models.PositiveIntegerField()
    outcome = models.CharField(max_length=10, choices=RowOutcome.choices)
    # Named reverse relations, so that merging two people (people.services.person_merge, which
    # moves every reference) points these rows at the person kept.
    person = models.ForeignKey(
        "people.Person",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="import_changes",
    )
    duplicate_of = models.ForeignKey(
        "people.Person",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="import_duplicates",
    )

    class Meta:
        ordering = ["job", "line", "id"]
        indexes = [
            models.Index(fields=["job", "line"]),
            models.Index(fields=["job", "outcome", "line"]),
            models.Index(
                fields=["job", "line"],
                condition=models.Q(duplicate_of__isnull=False),
                name="imports_change_duplicates",
            ),
        ]

    def __str__(self) -> str:
        return f"line {self.line}: {self.outcome}"
