"""Small hand-made recruitment graphs written through the ledger's one write path."""

from datetime import datetime, timedelta

from django.utils import timezone

from rallypoint.ledger.services import activity_record
from tests.factories import PersonFactory
from tests.mission.factories import CampaignFactory

DAY1 = timezone.make_aware(datetime(2026, 3, 2, 12, 0))


def day(n: int) -> datetime:
    """Noon of day n (day 1 is Monday, March 2, 2026)."""
    return DAY1 + timedelta(days=n - 1)


def acts(person, campaign, at, kind="sign"):
    return activity_record(person=person, kind=kind, campaign=campaign, at=at)


def recruits(recruiter, person, campaign, at, channel="x", kind="sign"):
    """`person` arrives through `recruiter`'s link on `channel`: their act, the edge and the
    recruiter's "recruit" credit, as a signature with a referral writes them."""
    return activity_record(
        person=person,
        kind=kind,
        campaign=campaign,
        referrer=recruiter,
        channel=channel,
        person_created=True,
        at=at,
    )


def build_world():
    """Campaign "grid":

        A (day 1) ─x→ B (day 2) ─x→ D (day 3) ─x→ E (day 4)
                  └email→ C (day 2)
        F (day 1), who brings nobody

    Participants 6, roots A and F, recruits 4, generations [2, 2, 1, 1], one cascade (A's,
    5 people, depth 3, Wiener index 20, structural virality 2.0)."""
    campaign = CampaignFactory(slug="grid", name="Grid")
    people = {name: PersonFactory(given_name=name, family_name="Test") for name in "ABCDEF"}
    a, b, c, d, e, f = (people[n] for n in "ABCDEF")
    acts(a, campaign, day(1))
    acts(f, campaign, day(1))
    recruits(a, b, campaign, day(2), "x")
    recruits(a, c, campaign, day(2) + timedelta(hours=1), "email")
    recruits(b, d, campaign, day(3), "x")
    recruits(d, e, campaign, day(4), "x")
    return campaign, people
