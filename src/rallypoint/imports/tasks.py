from django_tasks import task

from .services import import_job_run


@task()
def import_run(job_id: int) -> int:
    """Run (or resume) an import. A finished job, or one another worker owns, is left alone."""
    job = import_job_run(job_id=job_id)
    return job.rows_done if job is not None else 0
