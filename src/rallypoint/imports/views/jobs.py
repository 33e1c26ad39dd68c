"""Import pages: upload, choose columns, watch progress, see what changed, download skipped
rows and changes."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from rallypoint.core.downloads import csv_response
from rallypoint.core.permissions import organizer_required

from ..export import change_rows, skipped_rows
from ..forms import ExportForm, MappingForm, UploadForm
from ..models import ImportJob, ImportStatus, RowOutcome
from ..queries import import_job_changes, import_job_errors, import_jobs, import_progress
from ..services import (
    import_file_remove,
    import_job_cancel,
    import_job_create,
    import_job_is_stalled,
    import_job_resume,
    import_job_start,
)

PREVIEW_ERRORS = 10
PREVIEW_CHANGES = 10


def _job(uuid) -> ImportJob:
    return get_object_or_404(ImportJob.objects.select_related("created_by"), uuid=uuid)


@organizer_required
def import_list(request, upload_form=None):
    page = Paginator(import_jobs(), 20).get_page(request.GET.get("page"))
    return render(
        request,
        "imports/list.html",
        {
            "page": page,
            "upload_form": upload_form or UploadForm(),
            "export_form": ExportForm(),
        },
        status=400 if upload_form is not None else 200,
    )


@organizer_required
@require_POST
def import_upload(request):
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return import_list(request, upload_form=form)
    try:
        job = import_job_create(file=form.cleaned_data["file"], actor=request.user)
    except ValidationError as exc:
        form.add_error("file", exc)
        return import_list(request, upload_form=form)
    return redirect("imports:columns", uuid=job.uuid)


@organizer_required
def import_columns(request, uuid):
    job = _job(uuid)
    if job.status != ImportStatus.DRAFT:
        return redirect("imports:detail", uuid=job.uuid)
    form = MappingForm(request.POST or None, job=job)
    if request.method == "POST" and form.is_valid():
        try:
            import_job_start(
                job=job,
                mapping=form.mapping(),
                tags=form.tag_list(),
                source=form.cleaned_data["source"],
                fill_blanks_only=form.cleaned_data["fill_blanks_only"],
                update_by_phone=form.cleaned_data["update_by_phone"],
                actor=request.user,
            )
        except ValidationError as exc:
            for message in exc.messages:
                form.add_error(None, message)
        else:
            return redirect("imports:detail", uuid=job.uuid)
    status = 400 if request.method == "POST" else 200
    return render(request, "imports/columns.html", {"job": job, "form": form}, status=status)


def _progress_context(job: ImportJob) -> dict:
    updated = duplicates = []
    if job.updated_count:
        updated = list(import_job_changes(job, outcome=RowOutcome.UPDATED)[:PREVIEW_CHANGES])
    if job.duplicate_count:
        duplicates = list(import_job_changes(job, duplicates=True)[:PREVIEW_CHANGES])
    return {
        "job": job,
        "progress": import_progress(job),
        "stalled": import_job_is_stalled(job),
        "errors": list(import_job_errors(job)[:PREVIEW_ERRORS]) if job.skipped_count else [],
        "updated": updated,
        "duplicates": duplicates,
    }


@organizer_required
def import_detail(request, uuid):
    job = _job(uuid)
    if job.status == ImportStatus.DRAFT:
        return redirect("imports:columns", uuid=job.uuid)
    return render(request, "imports/detail.html", _progress_context(job))


@organizer_required
def import_progress_partial(request, uuid):
    return render(request, "imports/_progress.html", _progress_context(_job(uuid)))


def _stem(job: ImportJob) -> str:
    # Only safe characters in the download's name (it is the uploader's file name).
    stem = "".join(
        c if c.isalnum() or c in " -_" else "-" for c in job.original_name.rsplit(".", 1)[0]
    )
    return stem[:80] or "import"


@organizer_required
@require_GET
def import_errors_csv(request, uuid):
    job = _job(uuid)
    return csv_response(skipped_rows(job), f"{_stem(job)}-skipped-rows.csv")


@organizer_required
@require_GET
def import_changes_csv(request, uuid):
    job = _job(uuid)
    return csv_response(change_rows(job), f"{_stem(job)}-changes.csv")


def _post_action(request, uuid, action, done_message):
    job = _job(uuid)
    try:
        action(job=job, actor=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, done_message)
    return redirect("imports:detail", uuid=job.uuid)


@organizer_required
@require_POST
def import_cancel(request, uuid):
    return _post_action(
        request, uuid, import_job_cancel, "Import cancelled. Rows already saved stay saved."
    )


@organizer_required
@require_POST
def import_resume(request, uuid):
    return _post_action(request, uuid, import_job_resume, "Import resumed from where it stopped.")


@organizer_required
@require_POST
def import_remove_file(request, uuid):
    return _post_action(
        request, uuid, import_file_remove, "The uploaded file was deleted from the server."
    )
