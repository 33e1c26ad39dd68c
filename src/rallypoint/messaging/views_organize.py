"""The organizer's mailing pages: the list, compose (a rich-text editor over a plain textarea),
the live audience count, review (preview at phone and desktop widths, a test to yourself, send
now or schedule), pause / resume / cancel while sending, and the report with its CSV export.

Views check input and call services (services.compose, services.delivery) and queries; the
services decide what is allowed and say why not (a ValidationError shown on the page)."""

from collections.abc import Iterator
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from rallypoint.core.charts import Chart, chart_csv_response, line_chart
from rallypoint.core.charts import Series as ChartSeries
from rallypoint.core.downloads import csv_response, safe_row
from rallypoint.core.forms import errors_to_form
from rallypoint.core.permissions import organizer_required
from rallypoint.mission.hooks import ways_to_help
from rallypoint.mission.models import Campaign

from .forms import AudienceForm, MailingForm, PreviewForm, ScheduleForm, TestSendForm
from .models import Mailing, MailingStatus
from .queries import (
    ACTS_WINDOW,
    EXPORT_HEADER,
    IN_FLIGHT,
    Series,
    mailing_export_rows,
    mailing_for_page,
    mailing_progress,
    mailing_report,
    mailing_series,
    mailings_list,
    mailings_progress,
    person_by_email,
)
from .services.audience import audience_count, audience_queryset
from .services.compose import (
    from_addresses,
    mailing_create,
    mailing_delete,
    mailing_duplicate,
    mailing_update,
)
from .services.delivery import (
    mailing_cancel,
    mailing_pause,
    mailing_problems,
    mailing_resume,
    mailing_schedule,
    mailing_send,
    mailing_test_send,
    mailing_unschedule,
)
from .services.images import mail_image_upload
from .services.render import RenderedMessage, mailing_render

PAGE_SIZE = 50
LIST_FILTERS = [
    ("", "All"),
    ("drafts", "Drafts"),
    ("scheduled", "Scheduled"),
    ("sending", "Sending"),
    ("sent", "Sent"),
]


def _mailing_or_404(pk: int) -> Mailing:
    mailing = mailing_for_page(pk)
    if mailing is None:
        raise Http404("No such mailing.")
    return mailing


def _errors(exc: ValidationError) -> list[str]:
    return list(exc.messages)


def _add_errors(form: MailingForm, exc: ValidationError) -> None:
    errors_to_form(form, exc, rename={"extra_subjects": "subject_b"})


def _form_problems(form: forms.Form) -> list[str]:
    """Each error of a form as "Label: message" (or the message alone)."""
    problems = []
    for name, errors in form.errors.as_data().items():
        label = form.fields[name].label if name in form.fields else ""
        text = " ".join(message for error in errors for message in error.messages)
        problems.append(f"{label}: {text}" if label else text)
    return problems


def _own_address(request) -> str:
    return request.user.email or ""


# --- the list ---------------------------------------------------------------------------------


@organizer_required
def mailing_list(request):
    status = request.GET.get("status", "")
    if status not in dict(LIST_FILTERS):
        status = ""
    page = Paginator(mailings_list(status=status), PAGE_SIZE).get_page(request.GET.get("page"))
    mailings = list(page.object_list)
    progress = mailings_progress(mailings)
    rows = [{"mailing": m, "progress": progress.get(m.pk)} for m in mailings]
    return render(
        request,
        "messaging/organize/list.html",
        {
            "page": page,
            "rows": rows,
            "status": status,
            "filters": LIST_FILTERS,
            "query_string": f"status={status}" if status else "",
        },
    )


# --- compose ----------------------------------------------------------------------------------


def _audience_choice(data: dict[str, Any]) -> tuple[list[int], list[int], str]:
    form = AudienceForm(data)
    if not form.is_valid():
        raise ValidationError("Choose segments from the list.")
    include = [s.pk for s in form.cleaned_data["include_segments"]]
    exclude = [s.pk for s in form.cleaned_data["exclude_segments"]]
    return include, exclude, form.cleaned_data.get("kind") or ""


def _count_context(data: dict[str, Any]) -> dict[str, Any]:
    try:
        include, exclude, kind = _audience_choice(data)
    except ValidationError as exc:
        return {"count_error": " ".join(exc.messages)}
    if not include:
        return {"count": None}
    if set(include) & set(exclude):
        return {"count_error": "A segment can't be both included and excluded."}
    return {"count": audience_queryset(include, exclude, kind or None).count()}


def _compose(request, mailing: Mailing | None):
    if mailing is not None and mailing.status != MailingStatus.DRAFT:
        messages.error(
            request,
            f"This mailing is {mailing.get_status_display().lower()}: only drafts can be edited.",
        )
        return redirect("messaging:detail", pk=mailing.pk)
    initial: dict[str, Any]
    if mailing is not None:
        initial = MailingForm.initial_for(mailing)
    else:
        default = next(iter(from_addresses()), None)
        initial = {
            "track_opens": True,
            "track_clicks": True,
            "from_address": default.address if default else None,
            "from_name": default.name if default else "",
        }
        if request.GET.get("campaign", "").isdigit():
            initial["campaign"] = int(request.GET["campaign"])
    form = MailingForm(request.POST or None, initial=initial)
    count: dict[str, Any] = {}
    if request.method == "POST":
        if form.is_valid() and "count" in request.POST:
            count = _count_context(request.POST)
        elif form.is_valid():
            try:
                if mailing is None:
                    mailing = mailing_create(request.user, **form.service_fields())
                else:
                    mailing = mailing_update(mailing, request.user, **form.service_fields())
            except ValidationError as exc:
                _add_errors(form, exc)
            else:
                if "review" in request.POST:
                    return redirect("messaging:detail", pk=mailing.pk)
                messages.success(request, f"Draft “{mailing.name}” saved.")
                return redirect("messaging:edit", pk=mailing.pk)
    elif mailing is not None:
        count = {"count": audience_count(mailing) if mailing.include_segments.all() else None}
    status = 400 if request.method == "POST" and form.errors else 200
    return render(
        request,
        "messaging/organize/compose.html",
        {"form": form, "mailing": mailing, **count},
        status=status,
    )


@organizer_required
def mailing_new(request):
    return _compose(request, None)


@organizer_required
def mailing_edit(request, pk: int):
    return _compose(request, _mailing_or_404(pk))


@organizer_required
@require_POST
def mailing_autosave(request, pk: int):
    """Saves the draft while the organizer writes (htmx); answers a short status line."""
    mailing = _mailing_or_404(pk)
    form = MailingForm(request.POST, initial=MailingForm.initial_for(mailing))
    if not form.is_valid():
        return render(
            request, "messaging/organize/_autosave.html", {"errors": _form_problems(form)}
        )
    try:
        mailing_update(mailing, request.user, **form.service_fields())
    except ValidationError as exc:
        return render(request, "messaging/organize/_autosave.html", {"errors": _errors(exc)})
    return render(request, "messaging/organize/_autosave.html", {"saved_at": timezone.now()})


@organizer_required
@require_POST
def audience_count_partial(request):
    """The live count under the audience lists (htmx), for the choice as it stands."""
    return render(request, "messaging/organize/_count.html", _count_context(request.POST))


@organizer_required
@require_GET
def campaign_links(request):
    """The campaign's live actions and events (for the editor's "Button" picker), as JSON."""
    value = request.GET.get("campaign", "")
    campaign = Campaign.objects.filter(pk=value).first() if value.isdigit() else None
    links = []
    if campaign is not None:
        for way in ways_to_help(campaign):
            url = way["url"]
            if url.startswith("/"):
                url = settings.SITE_URL + url
            links.append({"title": way["title"], "url": url})
    return JsonResponse({"links": links})


@organizer_required
@require_POST
def image_upload(request):
    """An image for the editor (multipart field `image`): 201 with its address, or 400 with
    what is wrong with it, as JSON."""
    # Refused before the body is read when it is plainly too big (the form's own fields are a
    # few hundred bytes).
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    limit = settings.MAILING_IMAGE_MAX_BYTES
    if length > limit + 64 * 1024:
        error = f"This image is too big; the limit is {filesizeformat(limit)}."
        return JsonResponse({"error": error}, status=400)
    upload = request.FILES.get("image")
    if upload is None:
        return JsonResponse({"error": "Choose an image to upload."}, status=400)
    try:
        uploaded = mail_image_upload(upload, by=request.user)
    except ValidationError as exc:
        return JsonResponse({"error": " ".join(exc.messages)}, status=400)
    image = uploaded.image
    return JsonResponse(
        {"url": uploaded.url, "width": image.width, "height": image.height}, status=201
    )


# --- review, preview, test --------------------------------------------------------------------


def _preview_person(request, email: str):
    if email:
        return person_by_email(email)
    return getattr(request.user, "person", None)


def _preview(mailing: Mailing, person: Any) -> RenderedMessage:
    return mailing_render(mailing, person=person)


@organizer_required
def mailing_detail(request, pk: int):
    """Review and send a draft; follow a mailing that is scheduled, going out or sent."""
    mailing = _mailing_or_404(pk)
    preview_form = PreviewForm(request.GET or None)
    preview_email = ""
    preview_note = ""
    if request.GET and preview_form.is_valid():
        preview_email = preview_form.cleaned_data["person_email"]
    person = _preview_person(request, preview_email)
    if preview_email and person is None:
        preview_note = (
            f"No one in your list has the address {preview_email}: showing the fallbacks."
        )
    preview = None
    preview_error = ""
    try:
        preview = _preview(mailing, person)
    except ValidationError as exc:
        preview_error = " ".join(exc.messages)
    context = {
        "mailing": mailing,
        "preview": preview,
        "preview_error": preview_error,
        "preview_form": preview_form,
        "preview_person": person,
        "preview_note": preview_note,
        "test_form": TestSendForm(initial={"to": _own_address(request)}, auto_id="id_test_%s"),
        "schedule_form": ScheduleForm(),
        "count": audience_count(mailing) if mailing.status == MailingStatus.DRAFT else None,
        "problems": mailing_problems(mailing) if mailing.status == MailingStatus.DRAFT else [],
        "progress": mailing_progress(mailing) if mailing.status in IN_FLIGHT else None,
        "time_zone": settings.TIME_ZONE,
    }
    return render(request, "messaging/organize/detail.html", context)


@organizer_required
@require_POST
def mailing_test(request, pk: int):
    mailing = _mailing_or_404(pk)
    form = TestSendForm(request.POST)
    if not form.is_valid():
        for problem in _form_problems(form):
            messages.error(request, problem)
        return redirect("messaging:detail", pk=mailing.pk)
    person_email = form.cleaned_data["person_email"]
    person = _preview_person(request, person_email)
    if person_email and person is None:
        messages.error(request, f"No one in your list has the address {person_email}.")
        return redirect("messaging:detail", pk=mailing.pk)
    try:
        mailing_test_send(mailing, to=form.cleaned_data["to"], person=person, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, f"Test sent to {form.cleaned_data['to']}.")
    return redirect("messaging:detail", pk=mailing.pk)


# --- send, schedule, pause, resume, cancel ----------------------------------------------------


@organizer_required
def mailing_send_view(request, pk: int):
    """GET: the confirm step with the count. POST: send now."""
    mailing = _mailing_or_404(pk)
    if request.method == "POST":
        try:
            result = mailing_send(mailing, by=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            people = f"{result.audience:,} {'person' if result.audience == 1 else 'people'}"
            messages.success(request, f"“{mailing.name}” is going out to {people}.")
        return redirect("messaging:detail", pk=mailing.pk)
    if mailing.status != MailingStatus.DRAFT:
        messages.error(request, "Only a draft can be sent.")
        return redirect("messaging:detail", pk=mailing.pk)
    return render(
        request,
        "messaging/organize/send.html",
        {"mailing": mailing, "count": audience_count(mailing)},
    )


@organizer_required
@require_POST
def mailing_schedule_view(request, pk: int):
    mailing = _mailing_or_404(pk)
    form = ScheduleForm(request.POST)
    if not form.is_valid():
        messages.error(request, " ".join(_form_problems(form)))
        return redirect("messaging:detail", pk=mailing.pk)
    when = form.cleaned_data["send_at"]
    try:
        mailing_schedule(mailing, at=when, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        local = timezone.localtime(when)
        messages.success(
            request, f"Scheduled for {local:%a %d %b %Y, %H:%M} ({settings.TIME_ZONE})."
        )
    return redirect("messaging:detail", pk=mailing.pk)


STATE_CHANGES = {
    "pause": (mailing_pause, "Paused: no more messages leave until you resume."),
    "resume": (mailing_resume, "Resumed: sending where it stopped."),
    "cancel": (mailing_cancel, "Cancelled: no more messages will leave."),
    "unschedule": (mailing_unschedule, "Unscheduled: it is a draft again."),
}


def _state_change(request, pk: int, action: str):
    mailing = _mailing_or_404(pk)
    service, done = STATE_CHANGES[action]
    try:
        service(mailing, by=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, done)
    return redirect("messaging:detail", pk=mailing.pk)


@organizer_required
@require_POST
def mailing_pause_view(request, pk: int):
    return _state_change(request, pk, "pause")


@organizer_required
@require_POST
def mailing_resume_view(request, pk: int):
    return _state_change(request, pk, "resume")


@organizer_required
def mailing_cancel_view(request, pk: int):
    """GET asks (what will and won't happen), POST cancels."""
    if request.method == "POST":
        return _state_change(request, pk, "cancel")
    mailing = _mailing_or_404(pk)
    return render(
        request,
        "messaging/organize/cancel.html",
        {"mailing": mailing, "progress": mailing_progress(mailing)},
    )


@organizer_required
@require_POST
def mailing_unschedule_view(request, pk: int):
    return _state_change(request, pk, "unschedule")


@organizer_required
@require_GET
def mailing_progress_partial(request, pk: int):
    """The progress bar of a mailing going out (htmx polls it while sending)."""
    mailing = _mailing_or_404(pk)
    progress = mailing_progress(mailing) if mailing.status in IN_FLIGHT else None
    response = render(
        request,
        "messaging/organize/_progress.html",
        {"mailing": mailing, "progress": progress},
    )
    if progress is None and request.htmx:
        response["HX-Refresh"] = "true"  # finished or stopped: show the page as it is now
    return response


# --- duplicate, delete ------------------------------------------------------------------------


@organizer_required
@require_POST
def mailing_duplicate_view(request, pk: int):
    copy = mailing_duplicate(_mailing_or_404(pk), request.user)
    messages.success(request, f"Copied into a new draft, “{copy.name}”.")
    return redirect("messaging:edit", pk=copy.pk)


@organizer_required
def mailing_delete_view(request, pk: int):
    mailing = _mailing_or_404(pk)
    if request.method == "POST":
        try:
            mailing_delete(mailing, request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("messaging:detail", pk=mailing.pk)
        messages.success(request, f"Draft “{mailing.name}” deleted.")
        return redirect("messaging:list")
    return render(request, "messaging/organize/delete.html", {"mailing": mailing})


# --- the report -------------------------------------------------------------------------------


def _when(moment, unit: str, *, short: bool = False) -> str:
    local = timezone.localtime(moment)
    if unit == "hour":
        return local.strftime("%a %H:00" if short else "%a %d %b %H:00")
    return local.strftime("%d %b" if short else "%a %d %b %Y")


def opens_chart(series: Series) -> Chart | None:
    """Human opens and clicks per hour or per day, drawn by core.charts (SVG, table, CSV)."""
    if not series.buckets:
        return None
    unit = series.unit
    opens = [b.opens for b in series.buckets]
    clicks = [b.clicks for b in series.buckets]
    peak = max(series.buckets, key=lambda b: b.opens)
    description = (
        f"{sum(opens):,} human opens and {sum(clicks):,} clicks, per {unit}, over "
        f"{len(opens)} {unit}s from {_when(series.buckets[0].start, unit)}"
    )
    if peak.opens:
        description += (
            f"; the most opens ({peak.opens:,}) in the {unit} of {_when(peak.start, unit)}"
        )
    return line_chart(
        "mailing-opens-clicks",
        title=f"Human opens and clicks per {unit}",
        categories=[_when(b.start, unit) for b in series.buckets],
        tick_labels=[_when(b.start, unit, short=True) for b in series.buckets],
        series=[ChartSeries("Human opens", opens), ChartSeries("Clicks", clicks)],
        x_label=f"{unit.capitalize()} ({settings.TIME_ZONE})",
        y_label="People",
        description=description + ".",
        decimals=0,
    )


@organizer_required
def mailing_report_view(request, pk: int):
    mailing = _mailing_or_404(pk)
    series = mailing_series(mailing)
    chart = opens_chart(series)
    if request.GET.get("csv") == "over-time" and chart is not None:
        return chart_csv_response(chart, filename=f"mailing-{mailing.pk}-over-time")
    return render(
        request,
        "messaging/organize/report.html",
        {
            "mailing": mailing,
            "report": mailing_report(mailing),
            "chart": chart,
            "progress": mailing_progress(mailing) if mailing.status in IN_FLIGHT else None,
            "acts_days": ACTS_WINDOW.days,
            "time_zone": settings.TIME_ZONE,
        },
    )


@organizer_required
def mailing_export(request, pk: int):
    """Every recipient with what happened to their message, streamed as CSV."""
    mailing = _mailing_or_404(pk)

    def rows() -> Iterator[list[str]]:
        yield EXPORT_HEADER
        for row in mailing_export_rows(mailing):
            yield safe_row(row)

    return csv_response(rows(), f"mailing-{mailing.pk}-recipients.csv")
