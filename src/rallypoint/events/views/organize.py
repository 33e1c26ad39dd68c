"""Organizers: every event, the approval queue, per-campaign settings."""

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from rallypoint.core.permissions import organizer_required
from rallypoint.mission.models import Campaign

from .. import queries
from ..forms import CampaignSettingsForm
from ..models import Approval, CampaignEventSettings
from ..services import event_approve, event_settings_update


@organizer_required
def organize_events(request):
    approval = request.GET.get("approval", "")
    if approval not in Approval.values:
        approval = ""
    q = request.GET.get("q", "").strip()
    events = queries.organizer_events(approval=approval, q=q)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    settings_rows = {s.campaign_id: s.require_approval for s in CampaignEventSettings.objects.all()}
    campaigns = [
        {"campaign": c, "require_approval": settings_rows.get(c.pk, False)}
        for c in Campaign.objects.order_by("name")
    ]
    return render(
        request,
        "events/organize.html",
        {
            "page": page,
            "approval": approval,
            "q": q,
            "pending": queries.organizer_events(approval=Approval.PENDING).count(),
            "campaigns": campaigns,
            "approvals": Approval.choices,
        },
    )


@organizer_required
@require_POST
def organize_review(request, uuid):
    event = queries.event_by_uuid(uuid)
    if event is None:
        raise Http404("No such event.")
    approve = request.POST.get("decision") == "approve"
    event_approve(event=event, actor=request.user, approve=approve)
    messages.success(request, f"“{event.title}” {'approved' if approve else 'not approved'}.")
    return HttpResponseRedirect(_next_or_default(request))


def _next_or_default(request) -> str:
    """Back to the page the organizer came from, when it is a page of this site."""
    target = request.POST.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return reverse("events:organize")


@organizer_required
@require_POST
def organize_settings(request):
    form = CampaignSettingsForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a campaign.")
    else:
        event_settings_update(actor=request.user, **form.cleaned_data)
        messages.success(request, "Saved.")
    return redirect("events:organize")
