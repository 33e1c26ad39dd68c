"""Organizer pages of steering: presence across platforms, the spread backtest and whom to
ask next. They read through the services and hold no computation of their own."""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from functools import wraps
from typing import Unpack
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from rallypoint.core.charts import (
    Chart,
    ChartLabels,
    Series,
    bar_chart,
    chart_csv_response,
    line_chart,
)
from rallypoint.core.forms import errors_to_form
from rallypoint.core.permissions import organizer_required
from rallypoint.mission.models import Campaign

from .forms import (
    AccountForm,
    AskForm,
    PresenceImportForm,
    SegmentSaveForm,
    SnapshotForm,
    WindowForm,
)
from .models import InsightRun, Platform, PresenceAccount, RunKind, RunStatus
from .queries import campaign_by_slug
from .services.ask import ask_segment_save
from .services.grid import Window
from .services.presence import (
    account_delete,
    account_save,
    platform_yield,
    presence_csv_import,
    presence_series,
    presence_table,
    snapshot_record,
)
from .services.simulate import channel_label
from .services.steering import (
    chosen_people,
    run_is_stale,
    run_latest,
    run_request,
    steering_gate,
    window_label,
)

CHART_WEEKS = 52


# --- presence ---------------------------------------------------------------------------------


def _week_ends(weeks: int) -> list[date]:
    today = timezone.localdate()
    return [today - timedelta(days=7 * i) for i in range(weeks - 1, -1, -1)]


def _presence_charts() -> list[Chart]:
    """One line chart per platform: each account's audience at the end of each week (the
    latest snapshot on or before that day; nothing before its first snapshot)."""
    days = _week_ends(CHART_WEEKS)
    by_platform: dict[str, list] = defaultdict(list)
    for item in presence_series(days=7 * CHART_WEEKS + 7):
        by_platform[item.account.platform].append(item)
    charts = []
    labels = dict(Platform.choices)
    for platform, items in by_platform.items():
        series = []
        for item in items:
            values: list[float | None] = []
            points = list(item.points)
            position = 0
            current: int | None = None
            for day in days:
                while position < len(points) and points[position][0] <= day:
                    current = points[position][1]
                    position += 1
                # Levels, not counts per week: floats make the legend say "last", not "total".
                values.append(float(current) if current is not None else None)
            name = f"{item.account.owner_label}: {item.account.handle}"
            series.append(Series(name=name, values=values))
        charts.append(
            line_chart(
                f"presence-{platform}",
                title=f"Audience on {labels.get(platform, platform)}",
                categories=[d.isoformat() for d in days],
                tick_labels=[d.strftime("%b %-d") for d in days],
                series=series,
                x_label="Week ending",
                y_label="Followers",
                decimals=0,
            )
        )
    return charts


def _yield_chart(rows) -> Chart:
    return bar_chart(
        "presence-yield",
        title="What each platform brought",
        categories=[row.label for row in rows],
        series=[
            Series("Acts through its share links", [float(r.acts) for r in rows]),
            Series("People recruited through it", [float(r.recruits) for r in rows]),
        ],
        x_label="Platform",
        y_label="Acts and people",
        decimals=0,
    )


@organizer_required
@require_GET
def presence(request):
    campaign = None
    slug = request.GET.get("campaign", "")
    if slug:
        campaign = campaign_by_slug(slug)
        if campaign is None:
            return render(
                request,
                "insights/steer/presence.html",
                {"problem": "There is no campaign with that address.", "campaigns": _campaigns()},
                status=404,
            )
    charts = _presence_charts()
    yields = platform_yield(campaign=campaign)
    yield_chart = _yield_chart(yields)
    download = _chart_download(request, [*charts, yield_chart])
    if download is not None:
        return download
    context = {
        "table": presence_table(),
        "charts": charts,
        "yields": yields,
        "yield_chart": yield_chart,
        "campaign": campaign,
        "campaigns": _campaigns(),
    }
    return render(request, "insights/steer/presence.html", context)


def _campaigns():
    return Campaign.objects.order_by("name").only("name", "slug")


def _chart_download(request, charts: list[Chart]) -> HttpResponse | None:
    """?csv=<chart id>: that chart's numbers (an id that no chart of the page has: 400); None
    without ?csv=."""
    wanted = request.GET.get("csv")
    if not wanted:
        return None
    for chart in charts:
        if chart.id == wanted:
            return chart_csv_response(chart)
    return HttpResponseBadRequest("There is no chart with that name on this page.")


@organizer_required
@require_http_methods(["GET", "POST"])
def presence_account_new(request):
    form = AccountForm(request.POST or None)
    if request.method == "POST":
        saved = _account_saved(request, form)
        if saved is not None:
            return saved
    return render(
        request,
        "insights/steer/account_form.html",
        {"form": form, "account": None},
        status=400 if request.method == "POST" else 200,
    )


def _account_saved(request, form: AccountForm, account: PresenceAccount | None = None):
    """The posted account form saved (a new account without `account`): the redirect to the
    account's page, or None when the form or the service refused it (the reasons are on the
    form)."""
    if not form.is_valid():
        return None
    try:
        saved = account_save(data=form.account_data(), actor=request.user, account=account)
    except ValidationError as exc:
        errors_to_form(form, exc)
        return None
    messages.success(request, "Saved." if account is not None else f"{saved} added.")
    return redirect("insights:presence_account", pk=saved.pk)


def _account(pk: int) -> PresenceAccount:
    return get_object_or_404(PresenceAccount.objects.select_related("campaign"), pk=pk)


@organizer_required
@require_http_methods(["GET", "POST"])
def presence_account(request, pk: int):
    account = _account(pk)
    form = AccountForm(request.POST or None, initial=_account_initial(account))
    if request.method == "POST":
        saved = _account_saved(request, form, account)
        if saved is not None:
            return saved
        return _account_page(request, account, form=form, status=400)
    return _account_page(request, account, form=form)


def _account_initial(account: PresenceAccount) -> dict[str, object]:
    return {
        "platform": account.platform,
        "handle": account.handle,
        "url": account.url,
        "owner": "own" if account.is_own else "rival",
        "rival_name": account.rival_name,
        "campaign": account.campaign_id,
        "fetch": account.fetch,
    }


def _account_page(request, account, *, form=None, snapshot_form=None, status=200):
    context = {
        "account": account,
        "form": form or AccountForm(initial={}),
        "snapshot_form": snapshot_form or SnapshotForm(initial={"day": timezone.localdate()}),
        "snapshots": list(account.snapshots.order_by("-day")[:60]),
    }
    return render(request, "insights/steer/account.html", context, status=status)


@organizer_required
@require_POST
def presence_snapshot_add(request, pk: int):
    account = _account(pk)
    form = SnapshotForm(request.POST)
    if not form.is_valid():
        edit = AccountForm(initial=_account_initial(account))
        return _account_page(request, account, form=edit, snapshot_form=form, status=400)
    data = form.cleaned_data
    snapshot_record(
        account=account,
        day=data["day"],
        audience=data["audience"],
        posts=data["posts"],
        engagement=data["engagement"],
    )
    messages.success(request, f"Audience on {data['day']:%Y-%m-%d} saved.")
    return redirect("insights:presence_account", pk=account.pk)


@organizer_required
@require_http_methods(["GET", "POST"])
def presence_account_delete(request, pk: int):
    account = _account(pk)
    if request.method == "POST":
        name = str(account)
        account_delete(account=account, actor=request.user)
        messages.success(request, f"{name} and its audience history are deleted.")
        return redirect("insights:presence")
    return render(request, "insights/steer/account_delete.html", {"account": account})


@organizer_required
@require_http_methods(["GET", "POST"])
def presence_import(request):
    form = PresenceImportForm(request.POST or None, request.FILES or None)
    result = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            result = presence_csv_import(data=form.cleaned_data["file"].read(), actor=request.user)
            if result.problem:
                form.add_error("file", result.problem)
                status = 400
            elif not result.saved and result.error_count:
                status = 400
        else:
            status = 400
    return render(
        request, "insights/steer/import.html", {"form": form, "result": result}, status=status
    )


# --- the window -------------------------------------------------------------------------------


def _window(request) -> tuple[Window | None, WindowForm]:
    form = WindowForm(request.GET or None)
    if not request.GET.get("since") and not request.GET.get("until"):
        return Window(), WindowForm()
    if form.is_valid():
        return form.cleaned_data["window"], form
    return None, form


def _window_query(window: Window) -> str:
    params = {}
    if window.since:
        params["since"] = window.since.isoformat()
    if window.until:
        params["until"] = window.until.isoformat()
    return f"?{urlencode(params)}" if params else ""


def _in_window(template: str | None = None):
    """A page of one campaign (its slug in the address) in the window of its query: the view is
    called with the campaign, the window and the window's form. A window that can't be read
    answers 400: the page `template` with the form's reasons, or (for a fragment) one line."""

    def decorate(view):
        @wraps(view)
        def in_window(request, slug: str):
            campaign = get_object_or_404(Campaign, slug=slug)
            window, form = _window(request)
            if window is None:
                if template is None:
                    return HttpResponseBadRequest("The window's dates can't be read.")
                context = {"campaign": campaign, "window_form": form, "window": None}
                return render(request, template, context, status=400)
            return view(request, campaign, window, form)

        return in_window

    return decorate


# --- the spread backtest ----------------------------------------------------------------------


def _backtest_charts(result: dict) -> list[Chart]:
    channels = result.get("channels") or []
    compare = bar_chart(
        "backtest-channels",
        title="Last week's new people: predicted and observed",
        categories=[c["label"] for c in channels],
        series=[
            Series("Predicted", [float(c["predicted"]) for c in channels]),
            Series("Observed", [float(c["observed"]) for c in channels]),
        ],
        x_label="How they arrived",
        y_label="New people",
        decimals=1,
    )
    posterior = _bars_with_intervals(
        "backtest-probabilities",
        result.get("probabilities") or [],
        category="label",
        value="mean",
        series="Posterior mean",
        title="Chance that one share-link visit converts, by channel",
        x_label="Channel",
        y_label="Probability",
        decimals=3,
    )
    return [compare, posterior]


def _bars_with_intervals(
    chart_id: str,
    rows: list[dict],
    *,
    category: str,
    value: str,
    series: str,
    **labels: Unpack[ChartLabels],
) -> Chart:
    """A bar per row of a run's result (named by its `category` key): its `value` with the
    95% interval from its "low" to its "high"."""
    return bar_chart(
        chart_id,
        categories=[row[category] for row in rows],
        series=[
            Series(
                series,
                [float(row[value]) for row in rows],
                intervals=[(float(row["low"]), float(row["high"])) for row in rows],
            )
        ],
        **labels,
    )


def _run_context(campaign, window, form, run) -> dict:
    """What a page of a run (the backtest, whom to ask) shows whatever the kind."""
    return {
        "campaign": campaign,
        "window": window,
        "window_form": form,
        "window_query": _window_query(window),
        "window_label": window_label(window),
        "gate": steering_gate(campaign=campaign, window=window),
        "run": run,
        "stale": run is not None and run_is_stale(run),
        "result": run.result if run is not None and run.status == RunStatus.DONE else None,
    }


def _spread_context(campaign, window, form, run):
    context = _run_context(campaign, window, form, run)
    result = context["result"]
    context["charts"] = _backtest_charts(result) if result and not result.get("empty") else []
    return context


@organizer_required
@require_http_methods(["GET", "POST"])
@_in_window("insights/steer/spread.html")
def spread(request, campaign: Campaign, window: Window, form: WindowForm):
    if request.method == "POST":
        run_request(
            kind=RunKind.BACKTEST, campaign=campaign, window=window, params={}, actor=request.user
        )
        return redirect(reverse("insights:spread", args=[campaign.slug]) + _window_query(window))
    run = run_latest(kind=RunKind.BACKTEST, campaign=campaign, window=window)
    context = _spread_context(campaign, window, form, run)
    return _chart_download(request, context["charts"]) or render(
        request, "insights/steer/spread.html", context
    )


def _progress_view(kind: str, context_of, template: str):
    """The fragment that shows a run of this kind, which the page polls while the run goes."""

    @organizer_required
    @require_GET
    @_in_window()
    def progress(request, campaign: Campaign, window: Window, form: WindowForm):
        run = run_latest(kind=kind, campaign=campaign, window=window)
        return render(request, template, context_of(campaign, window, form, run))

    return progress


spread_progress = _progress_view(
    RunKind.BACKTEST, _spread_context, "insights/steer/_spread_run.html"
)


# --- whom to ask next -------------------------------------------------------------------------


def _ask_context(campaign, window, form, run, ask_form=None, segment_form=None):
    context = _run_context(campaign, window, form, run)
    result = context["result"]
    chart = None
    if result:
        chart = _bars_with_intervals(
            "ask-reach",
            [result["reach"], *result.get("heuristics", [])],
            category="name",
            value="reach",
            series="Mean reach",
            title=f"Simulated reach of {result['k']} people asked to share",
            x_label="Who is asked",
            y_label="People reached",
            decimals=1,
        )
    best = None
    if result and result.get("heuristics"):
        best = max(result["heuristics"], key=lambda h: h["reach"])
    params = run.params if run is not None else {}
    return {
        **context,
        "ask_form": ask_form
        or AskForm(initial={"k": params.get("k", 50), "model": params.get("model", "ic")}),
        "segment_form": segment_form
        or SegmentSaveForm(
            initial={
                "run": run.pk if run else None,
                "name": f"Ask to share: {campaign.name} {timezone.localdate():%Y-%m-%d}"[:120],
            }
        ),
        "people": chosen_people(result) if result else [],
        "chart": chart,
        "best": best,
        "channel_label": channel_label,
        "probabilities": [
            (channel_label(c), p)
            for c, p in sorted((result or {}).get("probabilities", {}).items())
        ],
    }


@organizer_required
@require_http_methods(["GET", "POST"])
@_in_window("insights/steer/ask.html")
def ask(request, campaign: Campaign, window: Window, form: WindowForm):
    if request.method == "POST":
        ask_form = AskForm(request.POST)
        gate = steering_gate(campaign=campaign, window=window)
        if ask_form.is_valid() and gate.allowed:
            run_request(
                kind=RunKind.ASK,
                campaign=campaign,
                window=window,
                params={"k": ask_form.cleaned_data["k"], "model": ask_form.cleaned_data["model"]},
                actor=request.user,
            )
            return redirect(reverse("insights:ask", args=[campaign.slug]) + _window_query(window))
        if not gate.allowed:
            ask_form.add_error(None, gate.reason)
        run = run_latest(kind=RunKind.ASK, campaign=campaign, window=window)
        context = _ask_context(campaign, window, form, run, ask_form=ask_form)
        return render(request, "insights/steer/ask.html", context, status=400)
    run = run_latest(kind=RunKind.ASK, campaign=campaign, window=window)
    context = _ask_context(campaign, window, form, run)
    charts = [context["chart"]] if context["chart"] is not None else []
    return _chart_download(request, charts) or render(request, "insights/steer/ask.html", context)


ask_progress = _progress_view(RunKind.ASK, _ask_context, "insights/steer/_ask_run.html")


@organizer_required
@require_POST
def ask_segment(request, slug: str):
    campaign = get_object_or_404(Campaign, slug=slug)
    window, form = _window(request)
    window = window or Window()
    segment_form = SegmentSaveForm(request.POST)
    run = None
    if segment_form.is_valid():
        run = InsightRun.objects.filter(
            pk=segment_form.cleaned_data["run"], campaign=campaign, kind=RunKind.ASK
        ).first()
        if run is None or run.status != RunStatus.DONE or not run.result:
            segment_form.add_error(
                None, "That choice isn't ready (or no longer exists): choose again."
            )
        else:
            ids = [row["person_id"] for row in run.result.get("chosen", [])]
            try:
                segment = ask_segment_save(
                    person_ids=ids,
                    name=segment_form.cleaned_data["name"],
                    actor=request.user,
                    description=f"Whom to ask next for {campaign.name}"[:300],
                )
            except ValidationError as exc:
                errors_to_form(segment_form, exc)
            else:
                messages.success(request, f"Saved as the segment “{segment.name}”.")
                return redirect("segments:detail", slug=segment.slug)
    if run is None:
        run = run_latest(kind=RunKind.ASK, campaign=campaign, window=window)
    context = _ask_context(campaign, window, form, run, segment_form=segment_form)
    return render(request, "insights/steer/ask.html", context, status=400)


@organizer_required
@require_GET
def steer_index(request):
    return render(request, "insights/steer/index.html", {"campaigns": _campaigns()})
