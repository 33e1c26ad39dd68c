"""Writes for local groups: start, approve, join, leave, lead, announce, merge."""

from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from rallypoint.core.audit import log_action
from rallypoint.core.geo import lookup_postal_code
from rallypoint.core.mail import email_queue
from rallypoint.ledger.services import activity_record
from rallypoint.people.models import Person
from rallypoint.people.referral import Referral
from rallypoint.people.services import PersonData, person_match_or_create

from .models import (
    Announcement,
    Group,
    GroupStatus,
    JoinPolicy,
    MemberRole,
    Membership,
    MemberStatus,
)
from .permissions import is_leader, require_leader, require_organizer

MAX_RADIUS_KM = 500


def _is_organizer(actor: Any) -> bool:
    return bool(getattr(actor, "is_authenticated", False) and getattr(actor, "is_organizer", False))


def _unique_slug(name: str) -> str:
    base = slugify(name)[:100] or "group"
    slug, n = base, 2
    while Group.objects.filter(slug=slug).exists():
        slug, n = f"{base}-{n}", n + 1
    return slug


def group_fields_clean(
    *,
    name: str,
    description: str = "",
    postal_code: str = "",
    radius_km: int | None = None,
    region: str = "",
    join_policy: str = JoinPolicy.OPEN,
) -> dict[str, Any]:
    errors: dict[str, list[str]] = {}
    name, region, postal_code = (
        (name or "").strip(),
        (region or "").strip(),
        (postal_code or "").strip(),
    )
    if not name:
        errors["name"] = ["Give the group a name."]
    elif len(name) > 200:
        errors["name"] = ["Keep the name under 200 characters."]
    if join_policy not in JoinPolicy.values:
        errors["join_policy"] = ["Choose how people join."]
    values: dict[str, Any] = {
        "name": name,
        "description": (description or "").strip(),
        "postal_code": postal_code,
        "region": region[:100],
        "join_policy": join_policy,
        "radius_km": radius_km or 16,
        "latitude": None,
        "longitude": None,
        "locality": "",
    }
    if radius_km is not None and not (1 <= radius_km <= MAX_RADIUS_KM):
        errors["radius_km"] = [f"Choose a radius between 1 and {MAX_RADIUS_KM} km."]
    if postal_code:
        place = lookup_postal_code(postal_code)
        if place is None:
            errors["postal_code"] = [f"We don't know the postal code “{postal_code}”."]
        else:
            values.update(
                latitude=place.latitude,
                longitude=place.longitude,
                locality=place.locality,
                region=region or place.region,
            )
    elif not region:
        errors["postal_code"] = ["Give a postal code (or name the region the group covers)."]
    if errors:
        raise ValidationError(errors)
    return values


def group_create(
    *, founder: Person, actor: Any = None, campaign: Any = None, **fields: Any
) -> Group:
    """Start a group with `founder` as its first leader. Organizers' groups are active at once;
    supporters' wait for an organizer unless GROUPS_REQUIRE_APPROVAL is off."""
    values = group_fields_clean(**fields)
    needs_approval = getattr(settings, "GROUPS_REQUIRE_APPROVAL", True) and not _is_organizer(actor)
    with transaction.atomic():
        group = Group.objects.create(
            **values,
            slug=_unique_slug(values["name"]),
            campaign=campaign,
            status=GroupStatus.PENDING if needs_approval else GroupStatus.ACTIVE,
        )
        Membership.objects.create(group=group, person=founder, role=MemberRole.LEADER)
        log_action("group.created", obj=group, actor=actor, data={"status": group.status})
        if group.is_active:
            _record_start(group, founder)
    return group


def _record_start(group: Group, founder: Person) -> None:
    activity_record(person=founder, kind="group_start", campaign=group.campaign, target=group)
    activity_record(person=founder, kind="group_join", campaign=group.campaign, target=group)


def group_update(*, group: Group, actor: Any, **fields: Any) -> Group:
    require_leader(actor, group)
    values = group_fields_clean(**fields)
    with transaction.atomic():
        for key, value in values.items():
            setattr(group, key, value)
        group.save()
        log_action("group.updated", obj=group, actor=actor, data={"name": group.name})
    return group


def group_approve(*, group: Group, actor: Any, approve: bool = True) -> Group:
    require_organizer(actor)
    with transaction.atomic():
        group = Group.objects.select_for_update().get(pk=group.pk)
        if group.status != GroupStatus.PENDING:
            return group
        group.status = GroupStatus.ACTIVE if approve else GroupStatus.REJECTED
        group.save(update_fields=["status", "modified_at"])
        log_action("group.approved" if approve else "group.rejected", obj=group, actor=actor)
        if approve:
            founder = (
                group.memberships.filter(role=MemberRole.LEADER).order_by("created_at").first()
            )
            if founder is not None:
                _record_start(group, founder.person)
    return group


@dataclass(frozen=True)
class GroupJoinResult:
    """What joining did. `created`: this call made the membership (new, or rejoining after
    leaving); False when the person was already a member or had already asked."""

    membership: Membership
    created: bool


def group_join(
    *,
    group: Group,
    person: Person | None = None,
    person_data: PersonData | None = None,
    referral: Referral | None = None,
) -> GroupJoinResult:
    """Join (open groups) or ask to join (approval groups). Joining is a ledger act."""
    if not group.is_active:
        raise ValidationError("This group isn't open to new members.")
    with transaction.atomic():
        created = False
        if person is None:
            if person_data is None:
                raise ValueError("group_join needs person or person_data")
            person, created = person_match_or_create(person_data)
        membership = (
            Membership.objects.select_for_update().filter(group=group, person=person).first()
        )
        status = (
            MemberStatus.ACTIVE if group.join_policy == JoinPolicy.OPEN else MemberStatus.PENDING
        )
        if membership is not None and membership.status in (
            MemberStatus.ACTIVE,
            MemberStatus.PENDING,
        ):
            return GroupJoinResult(membership, created=False)
        if membership is None:
            try:
                with transaction.atomic():
                    membership = Membership.objects.create(
                        group=group, person=person, status=status
                    )
            except IntegrityError:
                return GroupJoinResult(
                    Membership.objects.get(group=group, person=person), created=False
                )
        else:
            membership.status, membership.role = status, MemberRole.MEMBER
            membership.save(update_fields=["status", "role", "modified_at"])
        if status == MemberStatus.ACTIVE:
            activity_record(
                person=person,
                kind="group_join",
                campaign=group.campaign,
                target=group,
                referral=referral,
                person_created=created,
            )
    return GroupJoinResult(membership, created=True)


def group_leave(*, group: Group, person: Person) -> Membership | None:
    with transaction.atomic():
        membership = (
            Membership.objects.select_for_update().filter(group=group, person=person).first()
        )
        if membership is None or membership.status == MemberStatus.LEFT:
            return membership
        if membership.is_leader:
            leaders = group.memberships.filter(role=MemberRole.LEADER, status=MemberStatus.ACTIVE)
            if (
                leaders.count() == 1
                and group.memberships.filter(status=MemberStatus.ACTIVE).count() > 1
            ):
                raise ValidationError(
                    "You're the group's only leader. Make someone else a leader before you leave."
                )
        membership.status, membership.role = MemberStatus.LEFT, MemberRole.MEMBER
        membership.save(update_fields=["status", "role", "modified_at"])
    return membership


def membership_approve(*, membership: Membership, actor: Any, approve: bool = True) -> Membership:
    require_leader(actor, membership.group)
    with transaction.atomic():
        membership = (
            Membership.objects.select_for_update()
            .select_related("group", "person")
            .get(pk=membership.pk)
        )
        if membership.status != MemberStatus.PENDING:
            return membership
        membership.status = MemberStatus.ACTIVE if approve else MemberStatus.LEFT
        membership.save(update_fields=["status", "modified_at"])
        if approve:
            activity_record(
                person=membership.person,
                kind="group_join",
                campaign=membership.group.campaign,
                target=membership.group,
            )
        log_action(
            "group.member.approved" if approve else "group.member.declined",
            obj=membership.group,
            actor=actor,
            data={"person": membership.person_id},
        )
    return membership


def leader_appoint(*, group: Group, person: Person, actor: Any, leader: bool = True) -> Membership:
    """Organizers (and the group's leaders) make a member a leader, or step one down."""
    require_leader(actor, group)
    with transaction.atomic():
        membership = (
            Membership.objects.select_for_update().filter(group=group, person=person).first()
        )
        if membership is None or membership.status != MemberStatus.ACTIVE:
            if not _is_organizer(actor):
                raise ValidationError("Only members can become leaders.")
            membership = group_join_direct(group, person)
        membership.role = MemberRole.LEADER if leader else MemberRole.MEMBER
        membership.save(update_fields=["role", "modified_at"])
        log_action(
            "group.leader.appointed" if leader else "group.leader.removed",
            obj=group,
            actor=actor,
            data={"person": person.pk},
        )
    return membership


def group_join_direct(group: Group, person: Person) -> Membership:
    membership, created = Membership.objects.get_or_create(
        group=group, person=person, defaults={"status": MemberStatus.ACTIVE}
    )
    if not created:
        membership.status = MemberStatus.ACTIVE
        membership.save(update_fields=["status", "modified_at"])
    activity_record(person=person, kind="group_join", campaign=group.campaign, target=group)
    return membership


def announcement_post(
    *, group: Group, actor: Any, author: Person | None, title: str, body: str
) -> Announcement:
    """A leader posts to the group; every member gets it by email."""
    if not (is_leader(author, group) or _is_organizer(actor)):
        raise PermissionDenied("Only the group's leaders can post announcements.")
    title, body = (title or "").strip(), (body or "").strip()
    errors: dict[str, list[str]] = {}
    if not title:
        errors["title"] = ["Write a title."]
    elif len(title) > 200:
        errors["title"] = ["Keep the title under 200 characters."]
    if not body:
        errors["body"] = ["Write the announcement."]
    elif len(body) > 10_000:
        errors["body"] = ["Keep it under 10,000 characters."]
    if errors:
        raise ValidationError(errors)
    from rallypoint.events.channels import person_email

    from .queries import active_member_people

    with transaction.atomic():
        post = Announcement.objects.create(group=group, author=author, title=title, body=body)
        count = 0
        for member in active_member_people(group):
            to = person_email(member)
            if to and email_queue(
                to=to,
                template="groups/email/announcement",
                context={"group": group, "post": post, "person": member},
                dedupe_key=f"group-announcement:{post.pk}:{member.pk}",
            ):
                count += 1
        post.recipients = count
        post.save(update_fields=["recipients"])
        log_action("group.announcement.posted", obj=group, actor=actor, data={"post": post.pk})
    return post


@dataclass(frozen=True)
class GroupSide:
    """One group as the merge preview and the audit log show it."""

    pk: int
    slug: str
    name: str
    status: str
    status_label: str
    region: str
    area: str
    members: int
    pending: int
    leaders: int
    events: int
    upcoming_events: int
    announcements: int

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class GroupMergePreview:
    """What merging `source` into `target` will do, before anything is written."""

    source: GroupSide
    target: GroupSide
    members_moving: int
    members_in_both: int
    differences: list[str] = field(default_factory=list)
    refusal: str = ""

    @property
    def needs_explicit_confirmation(self) -> bool:
        return bool(self.differences)

    @property
    def members_after(self) -> int:
        return self.target.members + self.members_moving


def _group_side(group: Group) -> GroupSide:
    from rallypoint.events.models import Event

    memberships = Membership.objects.filter(group=group)
    events = Event.objects.filter(group=group)
    return GroupSide(
        pk=group.pk,
        slug=group.slug,
        name=group.name,
        status=group.status,
        status_label=group.get_status_display(),
        region=group.region,
        area=group.area_line,
        members=memberships.filter(status=MemberStatus.ACTIVE).count(),
        pending=memberships.filter(status=MemberStatus.PENDING).count(),
        leaders=memberships.filter(status=MemberStatus.ACTIVE, role=MemberRole.LEADER).count(),
        events=events.count(),
        upcoming_events=events.filter(starts_at__gte=timezone.now()).count(),
        announcements=group.announcements.count(),
    )


def _merge_refusal(source: Group, target: Group) -> str:
    if source.pk == target.pk:
        return "A group can't be merged into itself: choose two different groups."
    if source.status == GroupStatus.MERGED:
        return f"{source.name} was already merged into another group."
    if target.status != GroupStatus.ACTIVE:
        state = target.get_status_display().lower()
        return f"{target.name} is not active ({state}): merge into an active group."
    return ""


def _merge_differences(source: Group, target: Group) -> list[str]:
    differences = []
    if source.status != target.status:
        differences.append(
            f"{source.name} is {source.get_status_display().lower()}; "
            f"{target.name} is {target.get_status_display().lower()}."
        )
    if (source.region or "").strip().lower() != (target.region or "").strip().lower():
        differences.append(
            f"They cover different regions: {source.region or 'none given'} and "
            f"{target.region or 'none given'}."
        )
    return differences


def group_merge_preview(*, source: Group, target: Group) -> GroupMergePreview:
    """Both groups with their counts, what moves, and why the merge is refused or needs an
    explicit confirmation. Writes nothing."""
    source_ids = set(
        Membership.objects.filter(group=source)
        .exclude(status=MemberStatus.LEFT)
        .values_list("person_id", flat=True)
    )
    target_ids = set(
        Membership.objects.filter(group=target)
        .exclude(status=MemberStatus.LEFT)
        .values_list("person_id", flat=True)
    )
    both = source_ids & target_ids if source.pk != target.pk else set()
    return GroupMergePreview(
        source=_group_side(source),
        target=_group_side(target),
        members_moving=Membership.objects.filter(group=source, status=MemberStatus.ACTIVE)
        .exclude(person_id__in=both)
        .count()
        if source.pk != target.pk
        else 0,
        members_in_both=len(both),
        differences=_merge_differences(source, target),
        refusal=_merge_refusal(source, target),
    )


def group_merge(
    *, source: Group, target: Group, actor: Any, confirm_differences: bool = False
) -> Group:
    """Fold `source` into `target`: members (leaders stay leaders), events and announcements
    move; `source` is kept as "merged" so old links can point to the new group. Groups that
    differ in status or region merge only with `confirm_differences`."""
    require_organizer(actor)
    from rallypoint.events.models import Event

    with transaction.atomic():
        # Lock both rows (in id order, so two merges can't deadlock) and decide on fresh rows.
        locked = {
            g.pk: g
            for g in Group.objects.select_for_update()
            .filter(pk__in=[source.pk, target.pk])
            .order_by("pk")
        }
        source, target = locked[source.pk], locked[target.pk]
        refusal = _merge_refusal(source, target)
        if refusal:
            raise ValidationError(refusal)
        differences = _merge_differences(source, target)
        if differences and not confirm_differences:
            raise ValidationError(
                " ".join(differences) + " Tick the box to confirm you want to merge them anyway."
            )
        before = {"source": _group_side(source).as_dict(), "target": _group_side(target).as_dict()}
        known = {m.person_id: m for m in target.memberships.all()}
        moved = 0
        for membership in source.memberships.exclude(status=MemberStatus.LEFT):
            mine = known.get(membership.person_id)
            if mine is None:
                membership.group = target
                membership.save(update_fields=["group", "modified_at"])
                moved += 1
                continue
            if membership.is_leader and not mine.is_leader:
                mine.role = MemberRole.LEADER
            if membership.status == MemberStatus.ACTIVE:
                mine.status = MemberStatus.ACTIVE
            mine.save(update_fields=["role", "status", "modified_at"])
            # They belong to the kept group now: the closed group no longer lists them.
            membership.status, membership.role = MemberStatus.LEFT, MemberRole.MEMBER
            membership.save(update_fields=["status", "role", "modified_at"])
        events = Event.objects.filter(group=source).update(group=target)
        source.announcements.update(group=target)
        source.status, source.merged_into = GroupStatus.MERGED, target
        source.save(update_fields=["status", "merged_into", "modified_at"])
        data = {
            "source": source.pk,
            "target": target.pk,
            "members_moved": moved,
            "events_moved": events,
            "differences_confirmed": differences,
            "before": before,
            "after": {
                "source": _group_side(source).as_dict(),
                "target": _group_side(target).as_dict(),
            },
        }
        log_action("group.merged", obj=target, actor=actor, data=data)
        log_action("group.merged_away", obj=source, actor=actor, data=data)
    return target


def event_invite_group(*, event: Any, actor: Any) -> int:
    """Invite the hosting group's members (who have not answered yet) to `event` by email."""
    from rallypoint.events.channels import person_email
    from rallypoint.events.models import Rsvp
    from rallypoint.events.permissions import person_for
    from rallypoint.events.services.notify import event_context

    from .queries import active_member_people

    if event.group_id is None:
        raise ValidationError("This event isn't hosted by a group.")
    person = person_for(actor)
    if not (is_leader(person, event.group) or getattr(actor, "is_organizer", False)):
        raise PermissionDenied("Only the group's leaders can invite its members.")
    answered = set(Rsvp.objects.filter(event=event).values_list("person_id", flat=True))
    people: list[Person] = [p for p in active_member_people(event.group) if p.pk not in answered]
    count = 0
    with transaction.atomic():
        for member in people:
            to = person_email(member)
            if to and email_queue(
                to=to,
                template="events/email/group_invite",
                context={**event_context(event), "person": member, "group": event.group},
                dedupe_key=f"event-invite:{event.pk}:{member.pk}",
            ):
                count += 1
        log_action("event.group.invited", obj=event, actor=actor, data={"invited": count})
    return count
