"""The one way an act is written to the ledger, with its referrer and recruitment edge."""

from datetime import datetime
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone

from rallypoint.core.statements import Select, insert
from rallypoint.people.models import Person
from rallypoint.sharing.models import Recruitment
from rallypoint.sharing.referral import Referral

from .kinds import default_points
from .models import Activity


def points_for(kind: str, campaign: Any = None) -> int:
    if campaign is not None and kind in (campaign.points or {}):
        return int(campaign.points[kind])
    return default_points(kind)


# Only the key is needed to credit them; other fields load if someone reads them.
_REFERRER = Select(
    "ledger.referrer",
    Person,
    lambda code: Person.objects.filter(share_code=code).only("id", "share_code")[:1],
)
_EARLIER_ACT = Select(
    "ledger.earlier_act",
    Activity,
    # One filter() per argument, in the arguments' order (filter() sorts its keywords).
    lambda person_id, campaign_id, at: (
        Activity.objects.filter(person_id=person_id)
        .filter(campaign_id=campaign_id)
        .filter(created_at__lt=at)
        .values_list("id")[:1]
    ),
)


def resolve_referrer(referral: Referral | None, person: Person | None = None) -> Person | None:
    """The person behind a share code; None for unknown codes and self-referral."""
    if referral is None or not referral.code:
        return None
    referrer = _REFERRER.one(referral.code)
    if referrer is None or (person is not None and referrer.pk == person.pk):
        return None
    return referrer


def referrers_of_codes(codes: list[str]) -> dict[str, Person]:
    """The people behind several share codes, in one query (unknown codes are left out). Only
    the key and the code are loaded, as in `resolve_referrer`."""
    wanted = sorted({c for c in codes if c})
    if not wanted:
        return {}
    found = Person.objects.filter(share_code__in=wanted).only("id", "share_code")
    return {p.share_code: p for p in found}


# "Look the referrer up from the referral" (the default of activity_record's `referrer`).
FROM_REFERRAL: Any = object()


def activity_record(
    *,
    person: Person,
    kind: str,
    campaign: Any = None,
    target: models.Model | None = None,
    referral: Referral | None = None,
    person_created: bool = False,
    points: int | None = None,
    quantity: int = 1,
    details: dict[str, Any] | None = None,
    at: datetime | None = None,
    channel: str | None = None,
    referrer: Person | None = FROM_REFERRAL,
) -> Activity:
    """Write one act. Call inside the tool's transaction.

    The referral (from request.referral or API referrer_data) sets referrer and channel; when
    the actor is new (`person_created`) or has never been recruited for this campaign, the
    recruitment edge is stored (first touch wins) and the recruiter earns a "recruit" act.
    `channel` names the channel of the act itself when it has no referral (a share on X).
    `referrer`: the person `resolve_referrer(referral, person)` gave, when the caller already
    asked (saves the lookup).
    """
    at = at or timezone.now()
    if referrer is FROM_REFERRAL:
        referrer = resolve_referrer(referral, person)
    activity = activity_new(
        person=person,
        kind=kind,
        campaign=campaign,
        target=target,
        referral=referral,
        referrer=referrer,
        points=points,
        quantity=quantity,
        details=details,
        at=at,
        channel=channel,
    )
    edge = None
    if referrer is not None:
        edge = _recruitment_edge(
            recruiter=referrer,
            recruit=person,
            campaign=campaign,
            channel=channel if channel is not None else act_channel(referral),
            at=at,
            person_created=person_created,
        )
    if edge is None:
        insert(activity)
    else:
        # The act and the recruiter's credit in one INSERT, in that order.
        insert(activity, recruit_credit_new(edge))
    return activity


def act_channel(referral: Referral | None) -> str:
    """The channel a referral names ("" without one)."""
    return (referral.channel if referral else "") or ""


def activity_new(
    *,
    person: Person,
    kind: str,
    campaign: Any,
    target: models.Model | None,
    referral: Referral | None,
    referrer: Person | None,
    at: datetime,
    points: int | None = None,
    quantity: int = 1,
    details: dict[str, Any] | None = None,
    channel: str | None = None,
) -> Activity:
    """The unsaved act `activity_record` writes (without its recruitment edge and credit)."""
    explicit_channel = channel is not None
    if channel is None:
        channel = act_channel(referral)
    return Activity(
        person=person,
        kind=kind,
        campaign=campaign,
        target_type=ContentType.objects.get_for_model(target) if target is not None else None,
        target_id=str(target.pk) if target is not None else "",
        points=points_for(kind, campaign) if points is None else points,
        quantity=quantity,
        referrer=referrer,
        # "direct" only means something when someone's link was followed.
        channel=channel if referrer or explicit_channel or channel != "direct" else "",
        created_at=at,
        details=details or {},
    )


def recruitment_record(
    *,
    recruiter: Person,
    recruit: Person,
    campaign: Any,
    channel: str,
    at: datetime,
    person_created: bool,
) -> Recruitment | None:
    """Store recruiter → recruit once per campaign (first touch wins) and credit the recruiter.

    A person counts as recruited into a campaign when they are new to Rallypoint, or when this
    is their first act in that campaign."""
    edge = _recruitment_edge(
        recruiter=recruiter,
        recruit=recruit,
        campaign=campaign,
        channel=channel,
        at=at,
        person_created=person_created,
    )
    if edge is not None:
        insert(recruit_credit_new(edge))
    return edge


def _recruitment_edge(
    *,
    recruiter: Person,
    recruit: Person,
    campaign: Any,
    channel: str,
    at: datetime,
    person_created: bool,
) -> Recruitment | None:
    """The new edge, or None when the recruit was already known to the campaign."""
    if recruiter.pk == recruit.pk:
        return None
    # Only people who were already known can have acted in the campaign before. (An existing
    # edge is answered by the insert itself.)
    if not person_created and (
        campaign is None or _EARLIER_ACT.one(recruit.pk, campaign.pk, at) is not None
    ):
        return None
    edge = recruitment_new(
        recruiter=recruiter, recruit=recruit, campaign=campaign, channel=channel, at=at
    )
    # One recruiter per recruit and campaign: a unique constraint, so a concurrent first touch
    # (or an edge stored earlier) makes this a no-op.
    return edge if insert(edge, ignore_conflicts=True) else None


def recruitment_new(
    *, recruiter: Person, recruit: Person, campaign: Any, channel: str, at: datetime
) -> Recruitment:
    """The unsaved edge recruiter → recruit, without the checks: `activity_record` stores an
    edge only for a recruit new to the campaign (first touch, no self-referral); a recruit
    new to Rallypoint always qualifies."""
    return Recruitment(
        recruiter=recruiter, recruit=recruit, campaign=campaign, channel=channel, created_at=at
    )


def recruit_credit_new(edge: Recruitment) -> Activity:
    """The recruiter's "recruit" act for `edge` (unsaved)."""
    return Activity(
        person=edge.recruiter,
        kind="recruit",
        campaign=edge.campaign,
        target_type=ContentType.objects.get_for_model(edge.recruit),
        target_id=str(edge.recruit.pk),
        points=points_for("recruit", edge.campaign),
        channel=edge.channel,
        created_at=edge.created_at,
        details={"recruit": edge.recruit.pk},
    )
