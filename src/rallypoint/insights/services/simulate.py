"""Spread simulation: how the campaign's message spreads person to person, calibrated on what
the ledger recorded and checked against what happened (the backtest).

The model (an independent cascade on the recruitment graph, docs/insights.md "Spread simulation
and backtest"):

- Every participant exposes others through share links, channel by channel; an exposure is one
  activation attempt, which succeeds (the exposed person arrives, recruited through that
  channel) with the channel's probability p_c, independently of every other attempt.
- p_c has a Beta posterior: prior Beta(1, 1) (uniform), updated with the exposures E_c and
  conversions C_c of the fitting weeks: Beta(1 + C_c, 1 + max(E_c - C_c, 0)).
  Exposures are the share-link visits through that channel to the campaign's pages
  (sharing.ShareVisit, each attributed to the sharer whose code the link carried); conversions
  are the people recruited through that channel (ledger Recruitment edges). A channel without
  any visit in the fitting weeks falls back, and says so (`ChannelPosterior.source`), to the
  ledger's "share" acts on the channel, and without those to one exposure per conversion.
- How many exposures a person makes depends on how long ago they arrived: r_c(a) exposures per
  person per week at age a weeks (ages of MAX_AGE weeks and more pooled), measured in the
  fitting weeks. People arriving with no recruiter (roots) come at the mean weekly rate of the
  last ROOT_WEEKS fitting weeks.
- The Monte-Carlo simulation of a week draws p_c from its posterior, the exposures of everyone
  already there (Poisson with mean sum of r_c(age)), the conversions (binomial), the roots
  (Poisson), then the exposures of the week's new arrivals (rate r_c(0)) and theirs in turn.

The backtest fits on every full week of the window but the last, simulates the last week
RUNS times (seeded: the same data always gives the same numbers) and compares the mean
prediction with the new people observed, in total and per channel. The error is the absolute
percentage error |predicted - observed| / max(observed, 1). The model is offered for steering
(whom to ask next) only when that error is at most INSIGHTS_BACKTEST_MAX_ERROR.
"""

from __future__ import annotations

import math
import random
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Min, OuterRef, Q, Subquery, Sum
from django.utils import timezone

from rallypoint.ledger.models import Activity, Channel, Recruitment
from rallypoint.people.models import Person

from .grid import Window, share_visits

WEEK = timedelta(days=7)
PRIOR = (1.0, 1.0)  # Beta(alpha, beta) before any data: uniform on [0, 1]
MAX_AGE = 8  # exposure rates are measured per week of age up to this, then pooled
ROOT_WEEKS = 4  # the root rate is the mean of this many last fitting weeks
RUNS = 400
MAX_GENERATIONS = 50  # within one simulated week; a guard for supercritical fits
MIN_WEEKS = 3  # full weeks in the window: at least two to fit and one to check
MIN_ARRIVALS = 10  # people arriving in the fitting weeks, below which nothing is predicted
ROOT = "root"  # the "channel" of people who arrived without a recruiter
CHANNEL_LABELS = {**dict(Channel.choices), "": "Unknown channel", ROOT: "No recruiter (roots)"}


def max_error() -> float:
    return float(getattr(settings, "INSIGHTS_BACKTEST_MAX_ERROR", 0.3))


def channel_label(channel: str) -> str:
    return CHANNEL_LABELS.get(channel, channel)


# --- random draws without numpy ---------------------------------------------------------------


def poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam < 30:
        # Knuth: multiply uniforms until the product drops below e^-lam.
        limit, k, product = math.exp(-lam), 0, rng.random()
        while product > limit:
            k += 1
            product *= rng.random()
        return k
    return max(0, round(rng.gauss(lam, math.sqrt(lam))))


def binomial(rng: random.Random, n: int, p: float) -> int:
    if n <= 0 or p <= 0:
        return 0
    if p >= 1:
        return n
    if p > 0.5:
        return n - binomial(rng, n, 1 - p)
    if n < 64:
        return sum(1 for _ in range(n) if rng.random() < p)
    if n * p < 10:
        # Count successes by jumping over the failures between them (geometric gaps).
        log_q, k, position = math.log1p(-p), 0, 0
        while True:
            position += int(math.log(1.0 - rng.random()) / log_q) + 1
            if position > n:
                return k
            k += 1
    mean = n * p
    return min(n, max(0, round(rng.gauss(mean, math.sqrt(mean * (1 - p))))))


def quantile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


# --- the data ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class History:
    """What the ledger says about one campaign up to `until`, in weeks: week 0 starts at
    `start`, week `weeks - 1` ends at `until`; arrivals before `start` have negative weeks."""

    start: datetime
    until: datetime
    weeks: int
    arrival_week: dict[int, int]  # person → week of their first act in the campaign
    channel_of: dict[int, str]  # recruit → the channel they were recruited through
    # Share-link visits to the campaign's pages, weeks 0 … weeks-1: (sharer, channel, week) →
    # visits; the sharer is None when the link's code belongs to nobody any more.
    visits: dict[tuple[int | None, str, int], int]
    # The ledger's "share" acts (the fallback of a channel without visits): (sharer, channel,
    # week), weeks 0 … weeks-1.
    shares: list[tuple[int, str, int]]


def _week_of(moment: datetime, start: datetime) -> int:
    return math.floor((moment - start) / WEEK)


def history_load(campaign: Any, *, since: datetime | None, until: datetime | None) -> History:
    """Four queries (and the addresses of the campaign's pages): first acts per person,
    recruitment edges, share-link visits and share acts of the window. An open end is the
    start of today (`window_bounds`)."""
    until = until or window_bounds()[1]
    firsts = (
        Activity.objects.filter(campaign=campaign, created_at__lt=until)
        .values("person_id")
        .annotate(first=Min("created_at"))
        .order_by()
        .values_list("person_id", "first")
    )
    arrival_at = dict(firsts)
    earliest = min(arrival_at.values(), default=until)
    since = since if since is not None else earliest
    weeks = max(0, math.floor((until - since) / WEEK))
    start = until - weeks * WEEK
    arrival_week = {pk: _week_of(at, start) for pk, at in arrival_at.items()}
    channel_of = dict(
        Recruitment.objects.filter(campaign=campaign, created_at__lt=until)
        .order_by()
        .values_list("recruit_id", "channel")
    )
    shares = [
        (person_id, channel or "", _week_of(at, start))
        for person_id, channel, at in Activity.objects.filter(
            campaign=campaign, kind="share", created_at__gte=start, created_at__lt=until
        )
        .order_by()
        .values_list("person_id", "channel", "created_at")
    ]
    visits: Counter[tuple[int | None, str, int]] = Counter()
    for sharer, channel, day, count in _visits_by_day(campaign, start, until):
        # A visit's day lies in one week: weeks start at the window's (local) midnight.
        week = _week_of(timezone.make_aware(datetime.combine(day, time(12))), start)
        if 0 <= week < weeks:
            visits[(sharer, channel, week)] += count
    return History(start, until, weeks, arrival_week, channel_of, dict(visits), shares)


def visits_in(campaign: Any, start: datetime | None, until: datetime) -> Any:
    """The campaign's share-link visits (grid.share_visits) on the local days from `start` to
    `until` (the end's day left out when `until` is its midnight)."""
    last = timezone.localtime(until)
    last_day = last.date() - timedelta(days=1) if last.time() == time.min else last.date()
    first_day = timezone.localtime(start).date() if start is not None else None
    return share_visits(campaign.pk, first_day, last_day)


def _visits_by_day(campaign: Any, start: datetime, until: datetime):
    """(sharer id or None, channel, day, visits) rows: the sharer is the person whose share
    code the link carried (one query, a subquery on the unique share code)."""
    owner = Person.objects.filter(share_code=OuterRef("code")).values("pk")[:1]
    return (
        visits_in(campaign, start, until)
        .order_by()
        .annotate(sharer=Subquery(owner))
        .values_list("sharer", "channel", "day", "count")
    )


# --- fitting ----------------------------------------------------------------------------------


# Where a channel's exposures come from, best first (ChannelPosterior.source).
FROM_VISITS = "visits"  # share-link visits through the channel (sharing.ShareVisit)
FROM_SHARES = "shares"  # no visit recorded: the ledger's "share" acts on the channel
FROM_CONVERSIONS = "conversions"  # neither: one exposure per conversion


@dataclass(frozen=True)
class ChannelPosterior:
    channel: str
    exposures: int
    conversions: int
    alpha: float
    beta: float
    source: str = FROM_VISITS  # what the exposures counted (FROM_VISITS, …)

    @property
    def label(self) -> str:
        return channel_label(self.channel)

    @property
    def mean(self) -> float:
        return self.alpha / (self.alpha + self.beta)

    def interval(self, level: float = 0.95) -> tuple[float, float]:
        """The central interval of the posterior, from seeded draws (no scipy here)."""
        rng = random.Random(f"{self.channel}:{self.alpha}:{self.beta}")
        draws = [rng.betavariate(self.alpha, self.beta) for _ in range(4000)]
        return quantile(draws, (1 - level) / 2), quantile(draws, (1 + level) / 2)


def posteriors_from(
    visits: Mapping[str, int], shares: Mapping[str, int], conversions: Mapping[str, int]
) -> dict[str, ChannelPosterior]:
    """Each channel's posterior from its exposures: its share-link visits, or, for a channel
    without any, its share acts, or else its conversions alone (the one place that chooses)."""
    posteriors = {}
    for c in sorted({*visits, *shares, *conversions}):
        if visits.get(c, 0) > 0:
            exposures, source = visits[c], FROM_VISITS
        elif shares.get(c, 0) > 0:
            exposures, source = shares[c], FROM_SHARES
        else:
            exposures, source = 0, FROM_CONVERSIONS
        posteriors[c] = posterior_for(c, exposures, conversions.get(c, 0), source=source)
    return posteriors


@dataclass(frozen=True)
class SpreadModel:
    posteriors: dict[str, ChannelPosterior]
    rates: dict[str, list[float]]  # channel → exposures per person-week by age 0 … MAX_AGE
    root_rate: float  # roots per week
    fit_weeks: int

    @property
    def offspring(self) -> float:
        """Expected recruits of one person in their first week (above 1: explosive)."""
        return sum(self.rates[c][0] * p.mean for c, p in self.posteriors.items())


def _exposures_by_age(
    history: History, fit_weeks: int
) -> dict[str, tuple[Counter[str], dict[str, Counter[int]]]]:
    """For visits and for share acts: (exposures per channel in the fitting weeks, the same
    by the sharer's age in weeks, for sharers whose arrival is known)."""
    counted: dict[str, tuple[Counter[str], dict[str, Counter[int]]]] = {}
    events = {
        FROM_VISITS: history.visits.items(),
        FROM_SHARES: (((p, c, w), 1) for p, c, w in history.shares),
    }
    for source, rows in events.items():
        total: Counter[str] = Counter()
        by_age: dict[str, Counter[int]] = defaultdict(Counter)
        for (person, channel, week), count in rows:
            if not 0 <= week < fit_weeks:
                continue
            total[channel] += count
            arrived = history.arrival_week.get(person) if person is not None else None
            if arrived is not None:
                by_age[channel][min(max(week - arrived, 0), MAX_AGE)] += count
        counted[source] = (total, by_age)
    return counted


def model_fit(history: History, *, fit_weeks: int) -> SpreadModel:
    """The model from weeks 0 … fit_weeks-1 of `history`."""
    counted = _exposures_by_age(history, fit_weeks)
    conversions: Counter[str] = Counter()
    roots_per_week: Counter[int] = Counter()
    for person, week in history.arrival_week.items():
        if 0 <= week < fit_weeks:
            if person in history.channel_of:
                conversions[history.channel_of[person]] += 1
            else:
                roots_per_week[week] += 1
    person_weeks = _person_weeks(history.arrival_week.values(), fit_weeks)
    posteriors = posteriors_from(counted[FROM_VISITS][0], counted[FROM_SHARES][0], conversions)
    rates: dict[str, list[float]] = {}
    for c, posterior in posteriors.items():
        # By the sharer's age (none for exposures counted from conversions).
        _, ages = counted.get(posterior.source, (Counter(), {}))
        by_age = ages.get(c, Counter())
        known = sum(by_age.values())
        if known:
            # Exposures whose sharer has no known age (a code that belongs to nobody any more)
            # and, for a channel with more conversions than exposures (links passed on outside
            # what was recorded), one exposure per extra conversion: the rates are scaled up.
            scale = posterior.exposures / known
            row = [
                by_age[age] * scale / weeks_at_age if weeks_at_age else 0.0
                for age, weeks_at_age in enumerate(person_weeks)
            ]
        else:
            row = _rates_evenly(posterior.exposures, person_weeks)
        rates[c] = _fill_gaps(row, person_weeks)
    recent = range(max(0, fit_weeks - ROOT_WEEKS), fit_weeks)
    root_rate = sum(roots_per_week[w] for w in recent) / max(len(recent), 1)
    return SpreadModel(posteriors, rates, root_rate, fit_weeks)


def _rates_evenly(exposures: int, person_weeks: list[int]) -> list[float]:
    """Exposure rates of a channel whose exposures have no sharer's age (conversions only, or
    visits of codes nobody holds): spread evenly over every person-week of the fitting weeks."""
    total_person_weeks = sum(person_weeks)
    rate = exposures / total_person_weeks if total_person_weeks else 0.0
    return [rate] * (MAX_AGE + 1)


def _person_weeks(arrival_weeks: Iterable[int], fit_weeks: int) -> list[int]:
    """Person-weeks spent at each age (0 … MAX_AGE, the last pooled) within the fitting weeks."""
    counts = Counter(arrival_weeks)
    person_weeks = [0] * (MAX_AGE + 1)
    for arrived, people in counts.items():
        for week in range(max(arrived, 0), fit_weeks):
            person_weeks[min(week - arrived, MAX_AGE)] += people
    return person_weeks


def _fill_gaps(row: list[float], person_weeks: list[int]) -> list[float]:
    """Ages nobody reached in the fitting weeks take the rate of the nearest younger age."""
    filled = list(row)
    for age in range(1, len(filled)):
        if person_weeks[age] == 0:
            filled[age] = filled[age - 1]
    return filled


# --- simulating a week ------------------------------------------------------------------------


@dataclass(frozen=True)
class WeekForecast:
    mean_total: float
    low: float  # 5th percentile
    high: float  # 95th percentile
    mean_by_channel: dict[str, float]  # ROOT included
    runs: int


def ages_at(history: History, week: int) -> Counter[int]:
    """How many people there are at each age (pooled at MAX_AGE) at the start of `week`."""
    ages: Counter[int] = Counter()
    for arrived in history.arrival_week.values():
        if arrived < week:
            ages[min(week - arrived, MAX_AGE)] += 1
    return ages


def week_simulate(
    model: SpreadModel, ages: Counter[int], *, runs: int = RUNS, seed: Any = 0
) -> WeekForecast:
    """Monte-Carlo forecast of one week's new people, given who is there at its start."""
    rng = random.Random(seed)
    channels = sorted(model.posteriors)
    existing = {c: sum(n * model.rates[c][age] for age, n in ages.items()) for c in channels}
    fresh = {c: model.rates[c][0] for c in channels}
    totals: list[float] = []
    sums: Counter[str] = Counter()
    for _ in range(runs):
        p = {
            c: rng.betavariate(model.posteriors[c].alpha, model.posteriors[c].beta)
            for c in channels
        }
        roots = poisson(rng, model.root_rate)
        new: Counter[str] = Counter({ROOT: roots})
        frontier = roots
        for c in channels:
            recruits = binomial(rng, poisson(rng, existing[c]), p[c])
            new[c] += recruits
            frontier += recruits
        generation = 0
        while frontier and generation < MAX_GENERATIONS:
            following = 0
            for c in channels:
                recruits = binomial(rng, poisson(rng, frontier * fresh[c]), p[c])
                new[c] += recruits
                following += recruits
            frontier, generation = following, generation + 1
        totals.append(sum(new.values()))
        sums.update(new)
    return WeekForecast(
        mean_total=sum(totals) / runs,
        low=quantile(totals, 0.05),
        high=quantile(totals, 0.95),
        mean_by_channel={c: sums[c] / runs for c in [ROOT, *channels]},
        runs=runs,
    )


# --- the backtest -----------------------------------------------------------------------------


def absolute_percentage_error(predicted: float, observed: float) -> float:
    return abs(predicted - observed) / max(observed, 1)


@dataclass(frozen=True)
class ChannelCheck:
    channel: str
    label: str
    predicted: float
    observed: int
    error: float


@dataclass(frozen=True)
class ProbabilityRow:
    channel: str
    label: str
    exposures: int
    conversions: int
    mean: float
    low: float
    high: float
    source: str = FROM_VISITS  # what the exposures counted (FROM_VISITS, …)


@dataclass(frozen=True)
class Backtest:
    start: datetime
    until: datetime
    weeks: int
    fit_weeks: int
    predicted: float
    predicted_low: float
    predicted_high: float
    observed: int
    error: float
    threshold: float
    channels: list[ChannelCheck]
    probabilities: list[ProbabilityRow]
    root_rate: float
    offspring: float
    runs: int
    prior: tuple[float, float] = PRIOR
    model: str = "ic"
    notes: list[str] = field(default_factory=list)

    @property
    def usable(self) -> bool:
        return self.error <= self.threshold

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["start"], data["until"] = self.start.isoformat(), self.until.isoformat()
        data["usable"] = self.usable
        return data


def backtest_run(
    campaign: Any,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    runs: int = RUNS,
    history: History | None = None,
) -> Backtest | None:
    """Fit on every full week but the last, predict the last; None with too little history
    (fewer than MIN_WEEKS full weeks, or fewer than MIN_ARRIVALS people in the fitting
    weeks)."""
    history = history or history_load(campaign, since=since, until=until)
    if history.weeks < MIN_WEEKS:
        return None
    last = history.weeks - 1
    arrivals_fit = sum(1 for w in history.arrival_week.values() if 0 <= w < last)
    if arrivals_fit < MIN_ARRIVALS:
        return None
    model = model_fit(history, fit_weeks=last)
    seed = f"{getattr(campaign, 'pk', campaign)}:{history.start.isoformat()}:{runs}"
    forecast = week_simulate(model, ages_at(history, last), runs=runs, seed=seed)
    observed: Counter[str] = Counter()
    for person, week in history.arrival_week.items():
        if week == last:
            observed[history.channel_of.get(person, ROOT)] += 1
    total = sum(observed.values())
    channels = [
        ChannelCheck(
            channel=c,
            label=channel_label(c),
            predicted=round(forecast.mean_by_channel.get(c, 0.0), 1),
            observed=observed[c],
            error=round(
                absolute_percentage_error(forecast.mean_by_channel.get(c, 0.0), observed[c]), 3
            ),
        )
        for c in [ROOT, *sorted(set(model.posteriors) | set(observed) - {ROOT})]
    ]
    probabilities = []
    for posterior in model.posteriors.values():
        low, high = posterior.interval()
        probabilities.append(
            ProbabilityRow(
                channel=posterior.channel,
                label=posterior.label,
                exposures=posterior.exposures,
                conversions=posterior.conversions,
                mean=round(posterior.mean, 4),
                low=round(low, 4),
                high=round(high, 4),
                source=posterior.source,
            )
        )
    notes = []
    if model.offspring >= 1:
        notes.append(
            "Each new person brings in one or more others in their first week: the fitted "
            "spread is explosive, and its forecasts are capped at "
            f"{MAX_GENERATIONS} generations a week."
        )
    return Backtest(
        start=history.start,
        until=history.until,
        weeks=history.weeks,
        fit_weeks=last,
        predicted=round(forecast.mean_total, 1),
        predicted_low=round(forecast.low, 1),
        predicted_high=round(forecast.high, 1),
        observed=total,
        error=round(absolute_percentage_error(forecast.mean_total, total), 3),
        threshold=max_error(),
        channels=channels,
        probabilities=probabilities,
        root_rate=round(model.root_rate, 2),
        offspring=round(model.offspring, 3),
        runs=runs,
        notes=notes,
    )


def window_bounds(since: Any = None, until: Any = None) -> tuple[datetime | None, datetime]:
    """(start, end) of a window given as dates (whole days, as in services.grid: from the start
    of `since` to the end of `until`) or datetimes. An open end is the start of today, so the
    last simulated week is the last seven full days, the same all day long."""
    if isinstance(since, date) and not isinstance(since, datetime):
        since = Window(since=since).start
    if isinstance(until, date) and not isinstance(until, datetime):
        until = Window(until=until).end
    if until is None:
        until = timezone.make_aware(datetime.combine(timezone.localdate(), time.min))
    return since, until


def backtest(campaign: Any, since: Any = None, until: Any = None) -> dict[str, Any] | None:
    """The backtest as plain data for the CLI and the API: {"predicted", "observed", "error",
    …}, or None when there is too little history. `since` and `until` are dates (whole days)
    or datetimes; see `window_bounds`."""
    start, end = window_bounds(since, until)
    result = backtest_run(campaign, since=start, until=end)
    if result is None:
        return None
    return {
        "predicted": result.predicted,
        "observed": result.observed,
        "error": result.error,
        "predicted_interval": [result.predicted_low, result.predicted_high],
        "threshold": result.threshold,
        "usable": result.usable,
        "weeks": result.weeks,
        "by_channel": {
            c.channel: {"predicted": c.predicted, "observed": c.observed, "error": c.error}
            for c in result.channels
        },
        "probabilities": {p.channel: p.mean for p in result.probabilities},
    }


def posterior_for(
    channel: str, exposures: int, conversions: int, *, source: str = FROM_VISITS
) -> ChannelPosterior:
    """Beta(1 + C, 1 + max(E - C, 0)); a channel with more conversions than recorded exposures
    (links passed on outside what was recorded) counts one exposure per conversion."""
    return ChannelPosterior(
        channel=channel,
        exposures=max(exposures, conversions),
        conversions=conversions,
        alpha=PRIOR[0] + conversions,
        beta=PRIOR[1] + max(exposures - conversions, 0),
        source=source,
    )


def channel_probabilities(
    campaign: Any, *, since: datetime | None, until: datetime
) -> dict[str, ChannelPosterior]:
    """Posteriors from every share-link visit (or, for a channel without visits, share act)
    and recruit of the window (what steering uses): three grouped queries."""
    window = Q(created_at__lt=until)
    if since is not None:
        window &= Q(created_at__gte=since)
    visits = {
        channel: int(total)
        for channel, total in visits_in(campaign, since, until)
        .order_by()
        .values_list("channel")
        .annotate(total=Sum("count"))
        .values_list("channel", "total")
    }
    shares = dict(
        Activity.objects.filter(window, campaign=campaign, kind="share")
        .order_by()
        .values_list("channel")
        .annotate(n=Count("id"))
        .values_list("channel", "n")
    )
    recruits = dict(
        Recruitment.objects.filter(window, campaign=campaign)
        .order_by()
        .values_list("channel")
        .annotate(n=Count("id"))
        .values_list("channel", "n")
    )
    return posteriors_from(visits, shares, recruits)
