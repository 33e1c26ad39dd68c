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
    status = models.CharField(
        max_length=20, choices=ImportStatus.choices, default=ImportStatus.DRAFT, db_index=True
    )
    total_rows = models.PositiveIntegerField(null=True, blank=True)  # estimated from lines
    # The checkpoint: data rows (skipped ones included) already committed, in file order.
    rows_done = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    updated_count = models.PositiveIntegerField(default=0)
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
