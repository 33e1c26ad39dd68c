"""Public mission pages. For anonymous visitors the whole page is rendered once per few
seconds and shared (it holds nothing personal: no CSRF token, no messages, no share code)."""

from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.utils.cache import patch_cache_control

from rallypoint.core.shared_pages import share
from rallypoint.ledger.dashboard import dashboard_person
from rallypoint.ledger.queries import leaderboard

from ..models import CampaignStatus
from ..queries import (
    CAMPAIGN_PAGE,
    PAGE_CACHE_SECONDS,
    campaign_for_page,
    goals_progress,
    mission_page,
)


def _campaign_or_404(request, slug):
    preview = request.user.is_authenticated and request.user.is_organizer
    campaign = campaign_for_page(slug, preview=preview)
    if campaign is None:
        raise Http404("No such campaign.")
    return campaign


def _shared_page(request) -> bool:
    """Nothing on the page depends on who this visitor is."""
    return not request.user.is_authenticated and dashboard_person(request) is None


def _render_shared(request, slug: str, template: str, context_of) -> HttpResponse:
    def render_once() -> str:
        campaign = _campaign_or_404(request, slug)
        # messages=() keeps one visitor's flash messages out of the page everyone gets.
        context = {**context_of(campaign), "messages": ()}
        return render_to_string(template, context, request=request)

    page = CAMPAIGN_PAGE.get(render_once, scope=slug, key=f"{template}:{request.get_host()}")
    response = HttpResponse(page)
    # The same few seconds of freshness for a caching proxy in front (it keys on Vary: Cookie).
    patch_cache_control(response, public=True, max_age=PAGE_CACHE_SECONDS)
    return share(response)


def _detail_context(campaign) -> dict:
    context = mission_page(campaign)
    context["is_preview"] = campaign.status == CampaignStatus.DRAFT
    return context


def _live_context(campaign) -> dict:
    return {"campaign": campaign, "goals": goals_progress(list(campaign.goals.all()))}


def campaign_detail(request, slug):
    if _shared_page(request):
        return _render_shared(request, slug, "mission/detail.html", _detail_context)
    campaign = _campaign_or_404(request, slug)
    return render(request, "mission/detail.html", _detail_context(campaign))


def campaign_live(request, slug):
    """The goals fragment, polled by the mission page so progress moves while you watch."""
    if _shared_page(request):
        return _render_shared(request, slug, "mission/live.html", _live_context)
    campaign = _campaign_or_404(request, slug)
    return render(request, "mission/live.html", _live_context(campaign))


def campaign_leaderboard(request, slug):
    campaign = _campaign_or_404(request, slug)
    board = leaderboard(campaign, limit=50)
    return render(request, "mission/leaderboard.html", {"campaign": campaign, "board": board})
