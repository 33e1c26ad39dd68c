"""Organizer pages: the overview, channels and cascades of one campaign in a window.

?campaign=<slug>&since=YYYY-MM-DD&until=YYYY-MM-DD pick what is shown (the newest live
campaign and its whole life by default); ?csv=<chart id> downloads a chart's numbers."""

from typing import Any
from urllib.parse import urlencode

from django.shortcuts import render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from rallypoint.core.charts import chart_csv_response
from rallypoint.core.permissions import organizer_required

from .queries import (
    INSIGHTS_TABS,
    campaign_by_slug,
    campaigns_for_picker,
    cascades_page,
    channels_page,
    overview_page,
)
from .services.grid import Window, WindowError, window_parse

PAGES: dict[str, tuple[Any, str]] = {
    "overview": (overview_page, "insights/grid/overview.html"),
    "channels": (channels_page, "insights/grid/channels.html"),
    "cascades": (cascades_page, "insights/grid/cascades.html"),
}


def _tabs(current: str, query: str) -> list[dict[str, Any]]:
    tabs = []
    for url_name, label in INSIGHTS_TABS:
        try:
            url = reverse(url_name)
        except NoReverseMatch:
            continue
        tabs.append(
            {
                "url": f"{url}?{query}" if query else url,
                "label": label,
                "current": url_name == f"insights:{current}",
            }
        )
    return tabs


def _page(request, name: str):
    build, template = PAGES[name]
    campaigns = campaigns_for_picker()
    slug = request.GET.get("campaign", "")
    raw_since = request.GET.get("since", "")
    raw_until = request.GET.get("until", "")
    context: dict[str, Any] = {
        "campaigns": campaigns,
        "page_name": name,
        "time_zone": timezone.get_current_timezone_name(),
        "since_value": raw_since if "\x00" not in raw_since else "",
        "until_value": raw_until if "\x00" not in raw_until else "",
    }
    status = 200
    campaign = None
    if slug:
        campaign = campaign_by_slug(slug)
        if campaign is None:
            context["error"] = "There is no campaign with that name: choose one from the list."
            status = 404
    elif campaigns:
        campaign = campaigns[0]
    window = Window()
    try:
        window = window_parse(raw_since, raw_until)
    except WindowError as exc:
        context["error"] = str(exc)
        context["error_field"] = exc.field
        status = 400
    context["campaign"] = campaign
    query = {"campaign": campaign.slug} if campaign else {}
    if status == 200:
        query.update({k: v for k, v in (("since", raw_since), ("until", raw_until)) if v})
    context["query"] = urlencode(query)
    context["tabs"] = _tabs(name, context["query"])
    if status != 200 or campaign is None:
        return render(request, template, context, status=status)
    data = build(campaign, window)
    wanted = request.GET.get("csv")
    if wanted is not None:
        chart = data.charts.get(wanted)
        if chart is None:
            context["error"] = "There is no chart of that name on this page."
            return render(request, template, context, status=404)
        return chart_csv_response(chart, filename=f"{campaign.slug}-{chart.id}")
    context.update({"data": data, "summary": data.summary, "window": window})
    return render(request, template, context)


@organizer_required
@require_GET
def overview(request):
    return _page(request, "overview")


@organizer_required
@require_GET
def channels(request):
    return _page(request, "channels")


@organizer_required
@require_GET
def cascades(request):
    return _page(request, "cascades")
