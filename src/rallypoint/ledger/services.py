"""The one way an act is written to the ledger, with its referrer and recruitment edge."""

from datetime import datetime
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from rallypoint.people.models import Person
from rallypoint.sharing.models import Recruitment
from rallypoint.sharing.referral import Referral

from .kinds import default_points
from .models import Activity


def points_for(kind: str, campaign: Any = None) -> int:
    if campaign is not None and kind in (campaign.points or {}):
        return int(campaign.points[kind])
    return default_points(kind)


def resolve_referrer(referral: Referral | None, person: Person | None = None) -> Person | None:
    """The person behind a share code; None for unknown codes and self-referral."""
    if referral is None or not referral.code:
        return None
    referrer = Person.objects.filter(share_code=referral.code).first()
    if referrer is None or (person is not None and referrer.pk == person.pk):
        return None
    return referrer


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
) -> Activity:
    """Write one act. Call inside the tool's transaction.

    The referral (from request.referral or API referrer_data) sets referrer and channel; when
    the actor is new (`person_created`) or has never been recruited for this campaign, the
    recruitment edge is stored (first touch wins) and the recruiter earns a "recruit" act.
    `channel` names the channel of the act itself when it has no referral (a share on X).
    """
    at = at or timezone.now()
    referrer = resolve_referrer(referral, person)
    explicit_channel = channel is not None
    if channel is None:
        channel = (referral.channel if referral else "") or ""
    activity = Activity.objects.create(
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
    if referrer is not None:
        recruitment_record(
            recruiter=referrer,
            recruit=person,
            campaign=campaign,
            channel=channel,
            at=at,
            person_created=person_created,
        )
    return activity


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
    if recruiter.pk == recruit.pk:
        return None
    if not person_created:
        # Someone new has no edge yet (a concurrent one is caught by the unique constraint),
        # so only people who were already known need these two checks.
        if Recruitment.objects.filter(recruit=recruit, campaign=campaign).exists():
            return None
        earlier = Activity.objects.filter(person=recruit, campaign=campaign, created_at__lt=at)
        if campaign is None or earlier.exists():
            return None
    try:
        with transaction.atomic():
            edge = Recruitment.objects.create(
                recruiter=recruiter,
                recruit=recruit,
                campaign=campaign,
                channel=channel,
                created_at=at,
            )
    except IntegrityError:
        return None
    Activity.objects.create(
        person=recruiter,
        kind="recruit",
        campaign=campaign,
        target_type=ContentType.objects.get_for_model(recruit),
        target_id=str(recruit.pk),
        points=points_for("recruit", campaign),
        channel=channel,
        created_at=at,
        details={"recruit": recruit.pk},
    )
    return edge
