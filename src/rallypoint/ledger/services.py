"""The one way acts are written to the ledger, with their referrers and recruitment edges.

`activities_record` writes a group of acts (one INSERT for the acts and the recruiters'
credits, one for the new edges); `activity_record` is a group of one."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.db.models import Min
from django.utils import timezone

from rallypoint.people.models import Person
from rallypoint.people.referral import Referral

from .kinds import default_points
from .models import Activity, Recruitment


def points_for(kind: str, campaign: Any = None) -> int:
    if campaign is not None and kind in (campaign.points or {}):
        return int(campaign.points[kind])
    return default_points(kind)


def resolve_referrer(referral: Referral | None, person: Person | None = None) -> Person | None:
    """The person behind a share code; None for unknown codes and self-referral."""
    if referral is None or not referral.code:
        return None
    # Only the key is needed to credit them; other fields load if someone reads them.
    found = list(
        Person.objects.filter(share_code=referral.code).only("id", "share_code").order_by()[:1]
    )
    referrer = found[0] if found else None
    if referrer is None or (person is not None and referrer.pk == person.pk):
        return None
    return referrer


def referrers_of_codes(codes: list[str]) -> dict[str, Person]:
    """The people behind several share codes, in one query (unknown codes are left out). Only
    the key and the code are loaded, as in `resolve_referrer`."""
    wanted = sorted({c for c in codes if c})
    if not wanted:
        return {}
    found = Person.objects.filter(share_code__in=wanted).only("id", "share_code").order_by()
    return {p.share_code: p for p in found}


# "Look the referrer up from the referral" (the default of activity_record's `referrer`).
FROM_REFERRAL: Any = object()


@dataclass
class ActToRecord:
    """One act for `activities_record` (the arguments of `activity_record`, with the referrer
    already resolved)."""

    person: Person
    kind: str
    at: datetime
    campaign: Any = None
    target: models.Model | None = None
    referral: Referral | None = None
    referrer: Person | None = None
    person_created: bool = False
    points: int | None = None
    quantity: int = 1
    details: dict[str, Any] | None = field(default=None)
    channel: str | None = None


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
    if referrer is FROM_REFERRAL:
        referrer = resolve_referrer(referral, person)
    act = ActToRecord(
        person=person,
        kind=kind,
        at=at or timezone.now(),
        campaign=campaign,
        target=target,
        referral=referral,
        referrer=referrer,
        person_created=person_created,
        points=points,
        quantity=quantity,
        details=details,
        channel=channel,
    )
    return activities_record([act])[0]


def activities_record(acts: list[ActToRecord]) -> list[Activity]:
    """Write several acts (each as `activity_record` would) in two INSERTs at most: the new
    recruitment edges, then the acts with their recruiters' "recruit" acts. Call inside the
    tool's transaction. Of several acts of one person in one campaign, only the first can
    recruit them."""
    activities = [
        activity_new(
            person=act.person,
            kind=act.kind,
            campaign=act.campaign,
            target=act.target,
            referral=act.referral,
            referrer=act.referrer,
            points=act.points,
            quantity=act.quantity,
            details=act.details,
            at=act.at,
            channel=act.channel,
        )
        for act in acts
    ]
    edges = _recruitment_edges_new(acts)
    inserted = _edges_insert(edges)
    Activity.objects.bulk_create([*activities, *(recruit_credit_new(e) for e in inserted)])
    return activities


def _recruitment_edges_new(acts: list[ActToRecord]) -> list[Recruitment]:
    """The edges `acts` may store (unsaved): an act with a referrer recruits its person into
    the campaign when the person is new to Rallypoint or never acted in the campaign before."""
    candidates: dict[tuple[int, Any], ActToRecord] = {}
    for act in acts:
        key = (act.person.pk, act.campaign.pk if act.campaign is not None else None)
        if key in candidates:
            continue  # an earlier act of the group decides (first touch wins)
        candidates[key] = act
    wanted = {
        key: act
        for key, act in candidates.items()
        if act.referrer is not None and act.referrer.pk != act.person.pk
    }
    known = [key for key, act in wanted.items() if not act.person_created and key[1] is not None]
    first_acts: dict[tuple[int, Any], datetime] = {}
    if known:
        # Only people who were already known can have acted in the campaign before (an edge
        # stored earlier is answered by the insert itself: `_edges_insert`).
        first_acts = {
            (row["person_id"], row["campaign_id"]): row["first"]
            for row in Activity.objects.filter(
                person_id__in={k[0] for k in known}, campaign_id__in={k[1] for k in known}
            )
            .values("person_id", "campaign_id")
            .annotate(first=Min("created_at"))
            .order_by()
        }
    edges = []
    for key, act in wanted.items():
        if not act.person_created:
            if key[1] is None:
                continue
            first = first_acts.get(key)
            if first is not None and first < act.at:
                continue
        edges.append(
            recruitment_new(
                recruiter=act.referrer,  # type: ignore[arg-type]
                recruit=act.person,
                campaign=act.campaign,
                channel=act.channel if act.channel is not None else act_channel(act.referral),
                at=act.at,
            )
        )
    return edges


def _edges_insert(edges: list[Recruitment]) -> list[Recruitment]:
    """Store `edges` in one INSERT; returns those stored. One recruiter per recruit and
    campaign is a unique constraint, so an edge stored earlier (or a moment ago by a concurrent
    first touch) is skipped by the database (ON CONFLICT DO NOTHING), which says nothing about
    which rows it skipped: the stored edges are read back, and ours carry our recruiter and
    time."""
    if not edges:
        return []
    Recruitment.objects.bulk_create(edges, ignore_conflicts=True)
    stored: dict[tuple[int, int | None], tuple[int, datetime]] = {
        (recruit_id, campaign_id): (recruiter_id, created_at)
        for recruit_id, campaign_id, recruiter_id, created_at in Recruitment.objects.filter(
            recruit_id__in={edge.recruit_id for edge in edges}
        )
        .values_list("recruit_id", "campaign_id", "recruiter_id", "created_at")
        .order_by()
    }
    return [
        edge
        for edge in edges
        if stored.get((edge.recruit_id, edge.campaign_id)) == (edge.recruiter_id, edge.created_at)
    ]


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
    act = ActToRecord(
        person=recruit,
        kind="recruit",
        at=at,
        campaign=campaign,
        referrer=recruiter,
        person_created=person_created,
        channel=channel,
    )
    edges = _edges_insert(_recruitment_edges_new([act]))
    if not edges:
        return None
    Activity.objects.bulk_create([recruit_credit_new(edges[0])])
    return edges[0]


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


def join_act_record(
    *,
    person: Person,
    created: bool,
    campaign: Any = None,
    referral: Referral | None = None,
    details: dict[str, Any] | None = None,
) -> Activity | None:
    """The "join" act of someone who joined (people.hooks.person_joined, inside the joining
    transaction): once per person and campaign, so a double submit counts once. Returns the act,
    or None when they had joined before."""
    # Someone new has not joined before; only known people need the check.
    if (
        not created
        and Activity.objects.filter(person=person, kind="join", campaign=campaign).exists()
    ):
        return None
    return activity_record(
        person=person,
        kind="join",
        campaign=campaign,
        referral=referral,
        person_created=created,
        details=details or {},
    )
