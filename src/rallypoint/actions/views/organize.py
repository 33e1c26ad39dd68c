"""Organizer pages: list, create, edit, open/close actions; questions; submissions; export."""

from collections.abc import Iterator

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from rallypoint.core.downloads import csv_response, safe_row
from rallypoint.core.permissions import organizer_required
from rallypoint.mission.models import Campaign
from rallypoint.people.questions import answer_text

from ..forms import ActionForm, QuestionFormSet, question_initial, questions_from_formset
from ..models import ActionKind, ActionStatus
from ..queries import (
    action_channel_counts,
    action_count_forget,
    action_submissions,
    channel_label,
    daily_counts,
    organizer_action,
    organizer_actions,
    submissions_for_export,
)
from ..services import action_create, action_update, questions_set
from .public import embed_snippets

PAGE_SIZE = 50


def _action_or_404(pk: int):
    action = organizer_action(pk)
    if action is None:
        raise Http404("No such action.")
    return action


@organizer_required
def organize_list(request):
    status = request.GET.get("status", "")
    campaign = request.GET.get("campaign", "")
    campaign_id = int(campaign) if campaign.isdigit() else None
    page = Paginator(organizer_actions(status=status, campaign_id=campaign_id), PAGE_SIZE)
    return render(
        request,
        "actions/organize/list.html",
        {
            "page": page.get_page(request.GET.get("page")),
            "status": status,
            "statuses": ActionStatus.choices,
            "campaign_id": campaign_id,
            "campaigns": Campaign.objects.order_by("name").only("pk", "name"),
        },
    )


@organizer_required
def organize_new(request):
    kind = request.GET.get("kind", ActionKind.PETITION)
    initial = {"kind": kind if kind in ActionKind.values else ActionKind.PETITION}
    if campaign := Campaign.objects.filter(status="live").order_by("-created_at").first():
        initial["campaign"] = campaign.pk
    form = ActionForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        values = form.service_values()
        try:
            action = action_create(actor=request.user, **values)
        except ValidationError as exc:
            form.apply_errors(exc)
        else:
            messages.success(request, f"Created “{action.title}”.")
            if action.kind == ActionKind.FORM:
                return redirect("actions:organize_questions", action.pk)
            return redirect("actions:organize_detail", action.pk)
    return render(request, "actions/organize/form.html", {"form": form, "action": None})


@organizer_required
def organize_edit(request, pk: int):
    action = _action_or_404(pk)
    form = ActionForm(request.POST or None, instance=action)
    if request.method == "POST" and form.is_valid():
        values = form.service_values()
        # ModelForm validation already copied the values onto the instance; start from the
        # stored row so the service sees (and audits) what really changed.
        action = _action_or_404(pk)
        try:
            action_update(action=action, actor=request.user, **values)
        except ValidationError as exc:
            form.apply_errors(exc)
        else:
            action_count_forget(action.pk)
            messages.success(request, "Saved.")
            return redirect("actions:organize_detail", action.pk)
    return render(request, "actions/organize/form.html", {"form": form, "action": action})


@organizer_required
def organize_questions(request, pk: int):
    action = _action_or_404(pk)
    questions = list(action.questions.all())
    formset = QuestionFormSet(
        request.POST or None, initial=question_initial(questions), prefix="questions"
    )
    problems: list[str] = []
    if request.method == "POST" and formset.is_valid():
        try:
            questions_set(
                action=action, questions=questions_from_formset(formset), actor=request.user
            )
        except ValidationError as exc:
            problems = exc.messages
        else:
            messages.success(request, "Questions saved.")
            return redirect("actions:organize_questions", action.pk)
    return render(
        request,
        "actions/organize/questions.html",
        {"action": action, "formset": formset, "problems": problems},
    )


@organizer_required
@require_POST
def organize_status(request, pk: int):
    action = _action_or_404(pk)
    status = request.POST.get("status", "")
    if status not in ActionStatus.values:
        messages.error(request, "Choose draft, live or closed.")
        return redirect("actions:organize_detail", action.pk)
    try:
        action_update(action=action, actor=request.user, status=status)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        action_count_forget(action.pk)
        labels = {"live": "is live", "closed": "is closed", "draft": "is back to draft"}
        messages.success(request, f"“{action.title}” {labels[status]}.")
    return redirect("actions:organize_detail", action.pk)


@organizer_required
def organize_detail(request, pk: int):
    action = _action_or_404(pk)
    q = request.GET.get("q", "").strip()
    page = Paginator(action_submissions(action, q=q), PAGE_SIZE).get_page(request.GET.get("page"))
    questions = list(action.questions.all())
    rows = [
        {
            "submission": s,
            "answers": [answer_text(s.answers.get(str(qn.pk))) for qn in questions],
            "via": channel_label(s.channel),
        }
        for s in page
    ]
    series = daily_counts(action, days=60)
    channels = action_channel_counts(action)
    return render(
        request,
        "actions/organize/detail.html",
        {
            "action": action,
            "page": page,
            "rows": rows,
            "q": q,
            "questions": questions,
            "series": series,
            "total_60d": sum(row["count"] for row in series),
            "channels": channels,
            "count": sum(row["count"] for row in channels),
            "public_url": request.build_absolute_uri(reverse("actions:detail", args=[action.slug])),
            "snippets": embed_snippets(request, action),
        },
    )


@organizer_required
def organize_export(request, pk: int):
    """All submissions as CSV, streamed row by row so large actions never sit in memory."""
    action = _action_or_404(pk)
    questions = list(action.questions.all())

    def rows() -> Iterator[list[str]]:
        yield safe_row(
            [
                "submitted_at",
                "given_name",
                "family_name",
                "email",
                "phone",
                "sms_consent",
                "postal_code",
                "locality",
                "region",
                "comment",
                *[q.label for q in questions],
                "counted",
                "source",
                "referrer_code",
                "channel",
                "person_uuid",
            ]
        )
        for s in submissions_for_export(action).iterator(chunk_size=2000):
            yield safe_row(
                [
                    s.created_at.isoformat(),
                    s.person.given_name,
                    s.person.family_name,
                    s.email or "",
                    s.phone or "",
                    "yes" if s.sms_consent else "",
                    s.postal_code or "",
                    s.locality or "",
                    s.region or "",
                    s.comment,
                    *[answer_text(s.answers.get(str(q.pk))) for q in questions],
                    "yes" if s.counted else "no",
                    s.source,
                    s.referrer.share_code if s.referrer else "",
                    s.channel,
                    s.person.uuid,
                ]
            )

    return csv_response(rows(), f"{action.slug}-submissions.csv")
