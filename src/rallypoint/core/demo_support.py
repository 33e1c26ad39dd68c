"""Shared state for `rallypoint demo`: each app's demo.build(ctx) reads what earlier apps made.

Every date is counted from `ctx.now` (the calendar below), so the demo reads true whatever day
it is loaded. Each person's history is kept coherent through the context: `joined` is when they
joined (their created_at, set by people/demo.py) and no act of theirs may come before it;
`first_acts` is each person's earliest act in each campaign written so far, which later apps
read (following a friend's link must not recruit someone who had joined before the friend)."""

import importlib
import secrets
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import transaction
from django.utils import timezone

DEMO_ORGANIZER_EMAIL = "organizer@example.org"

# How long the demo campaign has been running.
CAMPAIGN_DAYS = 60
TUESDAY, THURSDAY, SATURDAY = 1, 3, 5


def demo_password() -> str:
    """A password for the demo organizer, made once per install and kept in var/."""
    path = settings.VAR_DIR / "demo_password"
    if path.exists():
        return path.read_text().strip()
    password = secrets.token_urlsafe(9)
    path.write_text(password)
    path.chmod(0o600)
    return password


def demo_exists() -> bool:
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(email__iexact=DEMO_ORGANIZER_EMAIL).exists()


def next_weekday(day: date, weekday: int) -> date:
    """The first `weekday` (Monday = 0) on or after `day`."""
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def day_text(day: date, *, weekday: bool = False) -> str:
    """ "January 13", or "Tuesday, January 13": how demo texts name a day."""
    text = f"{day:%B} {day.day}"
    return f"{day:%A}, {text}" if weekday else text


@dataclass(frozen=True)
class DemoCalendar:
    """The demo campaign's dates, all counted from `now`."""

    now: datetime

    @property
    def today(self) -> date:
        return timezone.localdate(self.now)

    @property
    def campaign_start(self) -> datetime:
        return self.now - timedelta(days=CAMPAIGN_DAYS)

    @property
    def delivery_day(self) -> date:
        """The petition goes to the capitol (the signature goal's deadline)."""
        return self.today + timedelta(days=30)

    @property
    def election_day(self) -> date:
        """The election people pledge to vote in: a Tuesday five or six weeks ahead."""
        return next_weekday(self.today + timedelta(days=35), TUESDAY)

    @property
    def budget_vote(self) -> date:
        """The legislature's budget vote, the week after the election: the campaign's end."""
        return next_weekday(self.election_day + timedelta(days=1), THURSDAY)

    def at(self, day: date, hour: int) -> datetime:
        """`hour` o'clock on `day`, in the site's time zone."""
        return timezone.make_aware(datetime.combine(day, time(hour)))


def moment(rng: Any, start: datetime, end: datetime, *, lean: float = 1.0) -> datetime:
    """A random time in [start, end] (`end` when the span is empty). A `lean` below 1 makes
    later times likelier: activity that grows towards today."""
    span = (end - start).total_seconds()
    if span <= 0:
        return end
    return start + timedelta(seconds=span * rng.random() ** lean)


@dataclass
class DemoContext:
    rng: Any
    people_count: int
    stdout: Any
    # "Today" for the demo; every date it writes is counted from here.
    now: datetime = field(default_factory=timezone.now)
    # Filled in as apps build: people ids, campaigns, …
    data: dict[str, Any] = field(default_factory=dict)
    # Person id -> when they joined (their created_at).
    joined: dict[int, datetime] = field(default_factory=dict)
    # (person id, campaign id) -> their earliest act in that campaign written so far.
    first_acts: dict[tuple[int, int | None], datetime] = field(default_factory=dict)
    # Person id -> the name public pages show, for people who allow it: the only ones the demo
    # makes hosts, leaders or authors (never "Someone").
    public_names: dict[int, str] = field(default_factory=dict)
    # Records entered twice on purpose (people/demo.py): they lead nothing.
    duplicates: set[int] = field(default_factory=set)

    @property
    def calendar(self) -> DemoCalendar:
        return DemoCalendar(self.now)

    def log(self, message: str) -> None:
        self.stdout.write(message)

    def print_login(self) -> None:
        self.stdout.write(f"Demo organizer login: {DEMO_ORGANIZER_EMAIL} / {demo_password()}")

    def joined_at(self, person_id: int) -> datetime:
        return self.joined[person_id]

    def can_lead(self, person_id: int) -> bool:
        return person_id in self.public_names and person_id not in self.duplicates

    def acted(self, person_id: int, at: datetime, campaign_id: int | None = None) -> None:
        """Note an act about to be written (never before the person joined)."""
        if at < self.joined.get(person_id, at):
            raise ValueError(f"Demo act of person {person_id} before they joined")
        key = (person_id, campaign_id)
        if key not in self.first_acts or at < self.first_acts[key]:
            self.first_acts[key] = at


def demo_build(ctx: DemoContext) -> None:
    """Every app's part of the demo, in INSTALLED_APPS order (people first), each in its own
    transaction."""
    for config in apps.get_app_configs():
        if not config.name.startswith("rallypoint."):
            continue
        try:
            module = importlib.import_module(f"{config.name}.demo")
        except ModuleNotFoundError as exc:
            if exc.name != f"{config.name}.demo":
                raise
            continue
        with transaction.atomic():
            module.build(ctx)
