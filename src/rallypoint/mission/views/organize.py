"""Organizer pages: campaigns, goals, share texts and points. Thin: forms in, services out."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render

from rallypoint.core.permissions import organizer_required

from .. import services
from ..forms import CampaignForm, GoalForm, PointsForm, ShareTextsForm
from ..models import Campaign, Goal
from ..queries import goals_in_order, goals_progress, organizer_campaigns


def _apply_errors(form, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


@organizer_required
def campaign_list(request):
    return render(request, "mission/organize/list.html", {"campaigns": list(organizer_campaigns())})


def _campaign_fields(form) -> dict:
    data = {k: v for k, v in form.cleaned_data.items() if k != "remove_image"}
    if form.cleaned_data.get("remove_image") and not data.get("image"):
        data["image"] = False
    return data


@organizer_required
def campaign_new(request):
    form = CampaignForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "remove_image"}
        try:
            campaign = services.campaign_create(actor=request.user, **data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, f"“{campaign.name}” is saved. Now give it a goal or two.")
            return redirect("mission:organize_goals", campaign.slug)
    return render(request, "mission/organize/campaign_form.html", {"form": form, "campaign": None})


@organizer_required
def campaign_edit(request, slug):
    campaign = get_object_or_404(Campaign, slug=slug)
    if request.method == "POST":
        form = CampaignForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                campaign = services.campaign_update(
                    actor=request.user, campaign=campaign, **_campaign_fields(form)
                )
            except ValidationError as exc:
                _apply_errors(form, exc)
            else:
                messages.success(request, "Campaign saved.")
                return redirect("mission:organize_edit", campaign.slug)
    else:
        form = CampaignForm.for_campaign(campaign)
    return render(
        request,
        "mission/organize/campaign_form.html",
        {"form": form, "campaign": campaign, "tab": "details"},
    )


@organizer_required
def goal_list(request, slug):
    campaign = get_object_or_404(Campaign, slug=slug)
    form = GoalForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.goal_create(actor=request.user, campaign=campaign, **form.cleaned_data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, "Goal added.")
            return redirect("mission:organize_goals", campaign.slug)
    goals = goals_progress(list(goals_in_order().filter(campaign=campaign)), use_cache=False)
    return render(
        request,
        "mission/organize/goals.html",
        {"campaign": campaign, "goals": goals, "form": form, "tab": "goals"},
    )


@organizer_required
def goal_edit(request, slug, goal_id):
    goal = get_object_or_404(
        Goal.objects.select_related("campaign", "segment"), pk=goal_id, campaign__slug=slug
    )
    form = GoalForm.for_goal(goal, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.goal_update(actor=request.user, goal=goal, **form.cleaned_data)
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, "Goal saved.")
            return redirect("mission:organize_goals", slug)
    return render(
        request,
        "mission/organize/goal_form.html",
        {"campaign": goal.campaign, "goal": goal, "form": form, "tab": "goals"},
    )


@organizer_required
def goal_delete(request, slug, goal_id):
    """GET asks (what goes, what stays); only the POST from that page removes the goal."""
    goal = get_object_or_404(
        Goal.objects.select_related("campaign", "segment"), pk=goal_id, campaign__slug=slug
    )
    if request.method == "POST":
        services.goal_delete(actor=request.user, goal=goal)
        messages.success(request, "Goal removed.")
        return redirect("mission:organize_goals", slug)
    return render(
        request,
        "mission/organize/goal_delete.html",
        {"campaign": goal.campaign, "progress": goals_progress([goal])[0], "tab": "goals"},
    )


@organizer_required
def share_texts(request, slug):
    campaign = get_object_or_404(Campaign, slug=slug)
    form = ShareTextsForm(request.POST or None, campaign=campaign)
    if request.method == "POST" and form.is_valid():
        try:
            services.campaign_share_texts_set(
                actor=request.user, campaign=campaign, texts=form.cleaned_data
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, "Share texts saved.")
            return redirect("mission:organize_share", campaign.slug)
    return render(
        request,
        "mission/organize/share_texts.html",
        {"campaign": campaign, "form": form, "tab": "share"},
    )


@organizer_required
def points(request, slug):
    campaign = get_object_or_404(Campaign, slug=slug)
    form = PointsForm(request.POST or None, campaign=campaign)
    if request.method == "POST" and form.is_valid():
        try:
            services.campaign_points_set(
                actor=request.user, campaign=campaign, points=form.cleaned_data
            )
        except ValidationError as exc:
            _apply_errors(form, exc)
        else:
            messages.success(request, "Points saved. They apply to acts from now on.")
            return redirect("mission:organize_points", campaign.slug)
    return render(
        request,
        "mission/organize/points.html",
        {"campaign": campaign, "form": form, "tab": "points"},
    )
