"""The thank-you email of a signature, queued by a task after the signature commits."""

from typing import Any

from django.db import transaction

from rallypoint.core.mail import email_queue

from ..links import action_share_url, dashboard_url
from ..models import Submission


def _thank_you_context(submission: Submission) -> dict[str, Any]:
    person, action = submission.person, submission.action
    return {
        "action": action,
        "given_name": person.given_name,
        "thank_you_message": action.thank_you_message,
        "share_url": action_share_url(action, person, channel="email"),
        "dashboard_url": dashboard_url(person),
    }


def _thank_you_address(submission: Submission) -> str:
    address = submission.person.email_addresses.order_by("-primary", "id").first()
    return address.address if address else ""


def thank_you_queue(*, submission_id: int, to: str = "") -> bool:
    """Render and queue the thank-you email to `to` (default: the person's primary address). A
    task runs it after the submission commits, so the supporter's request does not wait for it.
    Queues at most once per submission."""
    submission = (
        Submission.objects.select_related("person", "action").filter(pk=submission_id).first()
    )
    if submission is None or not submission.counted:
        return False
    return _thank_you_email(submission, to, dedupe_key=f"action-thanks:{submission.pk}")


def thank_you_resend(*, submission: Submission) -> bool:
    """Send the thank-you email (with the share and dashboard links) once more, on request from
    the thank-you page. Limited to one resend per submission."""
    return _thank_you_email(submission, "", dedupe_key=f"action-thanks-again:{submission.pk}")


def _thank_you_email(submission: Submission, to: str, *, dedupe_key: str) -> bool:
    """Queue the thank-you email to `to` (default: the person's primary address), at most once
    per `dedupe_key`. False when there is no address or it was queued before."""
    to = to or _thank_you_address(submission)
    if not to:
        return False
    with transaction.atomic():
        message = email_queue(
            to=to,
            template="actions/email/thank_you",
            context=_thank_you_context(submission),
            dedupe_key=dedupe_key,
        )
    return message is not None
