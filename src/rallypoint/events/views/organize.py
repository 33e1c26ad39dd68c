"""Organizers: every event, the approval queue, per-campaign settings."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from rallypoint.core.permissions import organizer_required
from rallypoint.mission.models import Campaign

from .. import queries
from ..forms import CampaignSettingsForm, TemplateForm
from ..models import Approval, CampaignEventSettings, EventTemplate
from ..services import event_approve, event_settings_update
from ..services.template import event_template_remove, event_template_set


@organizer_required
def organize_events(request):
    approval = request.GET.get("approval", "")
    if approval not in Approval.values:
        approval = ""
    q = request.GET.get("q", "").strip()
    events = queries.organizer_events(approval=approval, q=q)
    page = Paginator(events, 50).get_page(request.GET.get("page"))
    settings_rows = {s.campaign_id: s.require_approval for s in CampaignEventSettings.objects.all()}
    templates = {t.campaign_id: t for t in EventTemplate.objects.all()}
    campaigns = [
        {
            "campaign": c,
            "require_approval": settings_rows.get(c.pk, False),
            "template": templates.get(c.pk),
        }
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


@organizer_required
def organize_template(request, slug):
    """A campaign's event template: a distributed day of action supporters host under."""
    campaign = get_object_or_404(Campaign, slug=slug)
    template = EventTemplate.objects.filter(campaign=campaign).first()
    if request.method == "POST" and request.POST.get("remove"):
        event_template_remove(campaign=campaign, actor=request.user)
        messages.success(request, "The event template is removed; hosts choose their own details.")
        return redirect("events:organize")
    form = TemplateForm(request.POST or None, initial=TemplateForm.initial_for(template))
    if request.method == "POST" and form.is_valid():
        try:
            event_template_set(campaign=campaign, data=form.to_data(), actor=request.user)
        except ValidationError as exc:
            form.add_service_errors(exc)
        else:
            messages.success(request, "Saved. Supporters can host under it now.")
            return redirect("events:organize")
    return render(
        request,
        "events/organize_template.html",
        {"campaign": campaign, "template": template, "form": form},
        status=400 if form.is_bound and form.errors else 200,
    )
