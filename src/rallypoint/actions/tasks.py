"""Follow-up work of the actions tool. Tasks take ids and are safe to run twice."""

from django_tasks import task


@task()
def thank_you_send(submission_id: int, to: str = "") -> bool:
    """Queue the thank-you email of a submission (once: the email queue dedupes on its key)."""
    from .services import thank_you_queue

    return thank_you_queue(submission_id=submission_id, to=to)


@task()
def thank_you_send_many(submissions: list[list]) -> int:
    """Queue the thank-you emails of signatures written together: `submissions` holds
    [submission id, address] pairs. Returns how many were queued now (each at most once)."""
    from .services import thank_you_queue

    return sum(thank_you_queue(submission_id=pk, to=to) for pk, to in submissions)
