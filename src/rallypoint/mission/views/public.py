from django.http import Http404
from django.shortcuts import render

from rallypoint.ledger.queries import leaderboard

from ..models import CampaignStatus
from ..queries import campaign_for_page, goals_progress, mission_page


def _campaign_or_404(request, slug):
    preview = request.user.is_authenticated and request.user.is_organizer
    campaign = campaign_for_page(slug, preview=preview)
    if campaign is None:
        raise Http404("No such campaign.")
    return campaign


def campaign_detail(request, slug):
    campaign = _campaign_or_404(request, slug)
    context = mission_page(campaign)
    context["is_preview"] = campaign.status == CampaignStatus.DRAFT
    return render(request, "mission/detail.html", context)


def campaign_leaderboard(request, slug):
    campaign = _campaign_or_404(request, slug)
    board = leaderboard(campaign, limit=50)
    return render(request, "mission/leaderboard.html", {"campaign": campaign, "board": board})


def campaign_live(request, slug):
    """The goals fragment, polled by the mission page so progress moves while you watch."""
    campaign = _campaign_or_404(request, slug)
    goals = goals_progress(list(campaign.goals.all()))
    return render(request, "mission/live.html", {"campaign": campaign, "goals": goals})
