"""The heavy computations of steering (the spread backtest, whom to ask next) as runs: asked
for from a page, done by a task (insights.tasks.insight_run_task) with its progress written as
it goes, and kept per campaign, window and parameters (insights.models.InsightRun).

A page reuses the newest run with the same campaign, window, parameters and data mark (the
number of acts, recruitment edges and share-link visits before the window's end, and the newest
act's id) that finished or is still under way; new acts or visits make a new mark, so the next
request computes again.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Count, Max, Sum
from django.utils import timezone

from rallypoint.core.tasks import enqueue_on_commit
from rallypoint.ledger.models import Activity, Recruitment
from rallypoint.people.models import Person

from ..models import InsightRun, RunKind, RunStatus
from .grid import Window
from .simulate import backtest_run, max_error, visits_in
from .simulate import window_bounds as simulate_bounds

# A run queued or running this long without finishing is taken as lost (a worker restart):
# asking again starts a new one.
STALE_AFTER = timedelta(hours=1)
PROGRESS_EVERY_SECONDS = 0.5


def window_bounds(window: Window) -> tuple[datetime | None, datetime]:
    """(start, end) of a window for the simulations (simulate.window_bounds)."""
    return simulate_bounds(window.since, window.until)


def data_mark(campaign: Any, until: datetime) -> str:
    """What the runs read, in a few numbers: acts, recruitment edges and share-link visits
    before `until` (new ones make a new mark)."""
    acts = Activity.objects.filter(campaign=campaign, created_at__lt=until).aggregate(
        n=Count("id"), last=Max("id")
    )
    edges = Recruitment.objects.filter(campaign=campaign, created_at__lt=until).count()
    visits = visits_in(campaign, None, until).aggregate(n=Sum("count"))["n"] or 0
    return f"{acts['n']}:{acts['last'] or 0}:{edges}:{visits}"


def _matching(kind: str, campaign: Any, window: Window, params: dict[str, Any]):
    since, until = window_bounds(window)
    return InsightRun.objects.filter(
        kind=kind, campaign=campaign, since=since, until=until, params=params
    )


def run_latest(
    *, kind: str, campaign: Any, window: Window, params: dict[str, Any] | None = None
) -> InsightRun | None:
    """The newest run of this kind for the campaign and window (and parameters, if given)."""
    since, until = window_bounds(window)
    runs = InsightRun.objects.filter(kind=kind, campaign=campaign, since=since, until=until)
    if params is not None:
        runs = runs.filter(params=params)
    return runs.order_by("-created_at", "-id").first()


def run_is_stale(run: InsightRun) -> bool:
    return not run.is_finished and run.created_at < timezone.now() - STALE_AFTER


def run_request(
    *, kind: str, campaign: Any, window: Window, params: dict[str, Any], actor: Any
) -> InsightRun:
    """The run that answers this request: a finished or ongoing one for the same data, else a
    new one queued for the worker."""
    if kind not in RunKind.values:
        raise ValueError(f"Unknown run kind {kind!r}")
    since, until = window_bounds(window)
    mark = data_mark(campaign, until)
    existing = (
        _matching(kind, campaign, window, params)
        .filter(data_mark=mark)
        .exclude(status=RunStatus.FAILED)
        .order_by("-created_at", "-id")
        .first()
    )
    if existing is not None and not run_is_stale(existing):
        return existing
    with transaction.atomic():
        run = InsightRun.objects.create(
            kind=kind,
            campaign=campaign,
            since=since,
            until=until,
            params=params,
            data_mark=mark,
            created_by=actor if getattr(actor, "is_authenticated", False) else None,
        )
        from ..tasks import insight_run_task

        enqueue_on_commit(insight_run_task, run.pk)
    return run


class _Reporter:
    """Writes a run's progress, at most every PROGRESS_EVERY_SECONDS."""

    def __init__(self, run_id: int):
        self.run_id = run_id
        self.last = 0.0

    def __call__(self, fraction: float, message: str) -> None:
        now = time.monotonic()
        if now - self.last < PROGRESS_EVERY_SECONDS and fraction < 1:
            return
        self.last = now
        InsightRun.objects.filter(pk=self.run_id, status=RunStatus.RUNNING).update(
            progress=max(0, min(int(fraction * 100), 99)), message=message[:300]
        )


def run_execute(run_id: int) -> bool:
    """Do a queued run (what the task calls). Safe to call twice: only the caller that moves
    it from queued to running does the work. Returns whether this call did it."""
    claimed = InsightRun.objects.filter(pk=run_id, status=RunStatus.QUEUED).update(
        status=RunStatus.RUNNING, message="Starting"
    )
    if not claimed:
        return False
    run = InsightRun.objects.select_related("campaign").get(pk=run_id)
    report = _Reporter(run.pk)
    try:
        if run.kind == RunKind.BACKTEST:
            report(0.05, "Reading the campaign's history")
            found = backtest_run(run.campaign, since=run.since, until=run.until)
            result = {"empty": True} if found is None else found.as_dict()
        else:
            from .ask import ask_compute

            computed = ask_compute(
                run.campaign,
                k=int(run.params.get("k", 50)),
                model=str(run.params.get("model", "ic")),
                since=run.since,
                until=run.until,
                progress=report,
            )
            result = computed.as_dict()
    except Exception as exc:  # the page must say the run failed, whatever the reason
        InsightRun.objects.filter(pk=run.pk).update(
            status=RunStatus.FAILED,
            message=f"The computation stopped: {type(exc).__name__}."[:300],
            finished_at=timezone.now(),
        )
        raise
    InsightRun.objects.filter(pk=run.pk).update(
        status=RunStatus.DONE,
        progress=100,
        message="Done",
        result=result,
        finished_at=timezone.now(),
    )
    return True


# --- reading results for the pages ------------------------------------------------------------


@dataclass(frozen=True)
class SteeringGate:
    """Whether whom-to-ask may be offered: only after a backtest under the threshold."""

    allowed: bool
    reason: str
    backtest: InsightRun | None
    threshold: float


def steering_gate(*, campaign: Any, window: Window) -> SteeringGate:
    threshold = max_error()
    run = run_latest(kind=RunKind.BACKTEST, campaign=campaign, window=window)
    if run is None or run.status != RunStatus.DONE or not run.result:
        return SteeringGate(False, "Run the spread backtest for this window first.", run, threshold)
    if run.result.get("empty"):
        return SteeringGate(
            False,
            "There is too little history to check the model against, so it isn't offered yet.",
            run,
            threshold,
        )
    error = float(run.result.get("error", 1e9))
    if error > threshold:
        return SteeringGate(
            False,
            f"The model missed the last week by {error:.0%}, more than the {threshold:.0%} "
            "allowed: it isn't offered for steering.",
            run,
            threshold,
        )
    return SteeringGate(True, "", run, threshold)


def chosen_people(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The chosen people of an ask run's result with their names (one query)."""
    rows = result.get("chosen") or []
    people = Person.objects.in_bulk([row["person_id"] for row in rows])
    return [{**row, "person": people.get(row["person_id"])} for row in rows]


def window_label(window: Window) -> str:
    start, end = window_bounds(window)
    last_day = (end - timedelta(days=1)).date()
    first: date | str = start.date() if start else "the start"
    return f"{first} to {last_day}"
