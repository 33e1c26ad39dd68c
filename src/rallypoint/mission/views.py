from django.shortcuts import get_object_or_404, render

from .queries import live_campaigns


def campaign_detail(request, slug):
    campaign = get_object_or_404(live_campaigns(), slug=slug)
    return render(request, "mission/detail.html", {"campaign": campaign})
