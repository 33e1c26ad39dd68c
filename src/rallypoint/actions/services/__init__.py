"""Writes of the actions tool, one module per intent: organizers shape actions (`actions`) and
their questions (`questions`); supporters put their names to them (`signatures`, the one write
path of a signature, pledge or form answer); the thank-you email follows (`thanks`)."""

from .actions import (
    ACTION_FIELDS,
    ALLOWED_TAGS,
    RESERVED_SLUGS,
    action_close,
    action_create,
    action_publish,
    action_update,
    html_clean,
    slug_available,
    slug_suggest,
    targets_from_text,
)
from .questions import MAX_TEXT_ANSWER, answers_clean, questions_set
from .signatures import (
    MAX_COMMENT,
    Signature,
    SubmissionResult,
    signature_check,
    signatures_write,
    submission_record,
    submission_record_together,
    submissions_record,
)
from .thanks import thank_you_queue, thank_you_resend

__all__ = [
    "ACTION_FIELDS",
    "ALLOWED_TAGS",
    "MAX_COMMENT",
    "MAX_TEXT_ANSWER",
    "RESERVED_SLUGS",
    "Signature",
    "SubmissionResult",
    "action_close",
    "action_create",
    "action_publish",
    "action_update",
    "answers_clean",
    "html_clean",
    "questions_set",
    "signature_check",
    "signatures_write",
    "slug_available",
    "slug_suggest",
    "submission_record",
    "submission_record_together",
    "submissions_record",
    "targets_from_text",
    "thank_you_queue",
    "thank_you_resend",
]
