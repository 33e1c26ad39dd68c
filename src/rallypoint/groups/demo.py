"""Demo groups: dozens of local groups in the demo people's metros, with leaders, members (whose
joins go through activity_record), announcements, and some of the demo events hosted by them."""

from collections import Counter, defaultdict
from datetime import timedelta

from django.utils import timezone
from django.utils.text import slugify

from rallypoint.events.models import Event, EventHost, HostRole
from rallypoint.ledger.services import activity_record
from rallypoint.people.models import Person, PostalAddress

from .models import (
    Announcement,
    Group,
    GroupStatus,
    JoinPolicy,
    MemberRole,
    Membership,
    MemberStatus,
)

GROUPS = 36
NAMES = [
    "Neighbors for Change",
    "Forward Together",
    "Action Team",
    "Organizers",
    "Rising",
    "Community Voices",
    "Grassroots",
    "United",
]


def build(ctx) -> None:
    rng, now = ctx.rng, timezone.now()
    people_ids = ctx.data.get("people_ids") or []
    if not people_ids:
        ctx.log("No demo people: skipping groups.")
        return
    campaign = ctx.data.get("campaign")
    rows = list(
        PostalAddress.objects.filter(
            person_id__in=people_ids, primary=True, latitude__isnull=False
        ).values("person_id", "postal_code", "locality", "region", "latitude", "longitude")
    )
    by_area = defaultdict(list)
    for row in rows:
        by_area[row["postal_code"][:3]].append(row)
    areas = [
        area for area, _ in Counter({a: len(r) for a, r in by_area.items()}).most_common(GROUPS)
    ]
    groups, memberships = [], []
    used_slugs = set(Group.objects.values_list("slug", flat=True))
    for i, area in enumerate(areas):
        centre = rng.choice(by_area[area])
        name = f"{centre['locality']} {rng.choice(NAMES)}"
        slug, n = slugify(name), 2
        while slug in used_slugs:
            slug, n = f"{slugify(name)}-{n}", n + 1
        used_slugs.add(slug)
        groups.append(
            Group(
                name=name,
                slug=slug,
                description=f"Neighbours in and around {centre['locality']} organizing together: "
                "canvasses, phone banks and house parties. Everyone welcome.",
                postal_code=centre["postal_code"],
                radius_km=rng.choice([10, 16, 25, 40]),
                locality=centre["locality"],
                region=centre["region"],
                latitude=centre["latitude"],
                longitude=centre["longitude"],
                join_policy=JoinPolicy.APPROVAL if rng.random() < 0.2 else JoinPolicy.OPEN,
                status=GroupStatus.PENDING if i >= len(areas) - 3 else GroupStatus.ACTIVE,
                campaign=campaign,
            )
        )
    Group.objects.bulk_create(groups)
    joins = 0
    for group, area in zip(groups, areas, strict=True):
        pool = [row["person_id"] for row in by_area[area]]
        members = rng.sample(pool, k=min(len(pool), rng.randint(4, 40)))
        for j, person_id in enumerate(members):
            pending = group.join_policy == JoinPolicy.APPROVAL and rng.random() < 0.15 and j > 1
            memberships.append(
                Membership(
                    group=group,
                    person_id=person_id,
                    role=MemberRole.LEADER if j < 2 else MemberRole.MEMBER,
                    status=MemberStatus.PENDING if pending else MemberStatus.ACTIVE,
                )
            )
    Membership.objects.bulk_create(memberships, batch_size=1000)
    leaders = defaultdict(list)
    for membership in memberships:
        if membership.role == MemberRole.LEADER:
            leaders[membership.group_id].append(membership.person_id)
        if membership.status != MemberStatus.ACTIVE or not membership.group.is_active:
            continue
        activity_record(
            person=Person(pk=membership.person_id),
            kind="group_join",
            campaign=membership.group.campaign,
            target=membership.group,
            at=now - timedelta(days=rng.randint(1, 90)),
        )
        joins += 1
    announcements = []
    for group in groups:
        if not group.is_active:
            continue
        for _ in range(rng.randint(0, 3)):
            announcements.append(
                Announcement(
                    group=group,
                    author_id=leaders[group.pk][0],
                    title=rng.choice(
                        [
                            "Canvass this Saturday",
                            "Thank you!",
                            "New members welcome",
                            "Phone bank recap",
                        ]
                    ),
                    body="Thanks to everyone who came out last week. Next up: more doors, more "
                    "calls. Reply if you can help host.",
                )
            )
        # The group hosts a couple of upcoming events in its area.
        nearby = list(
            Event.objects.filter(
                postal_code__startswith=group.postal_code[:3], starts_at__gt=now, group=None
            ).values_list("pk", flat=True)[:2]
        )
        if nearby:
            Event.objects.filter(pk__in=nearby).update(group=group)
            EventHost.objects.bulk_create(
                [
                    EventHost(event_id=pk, person_id=leaders[group.pk][0], role=HostRole.COHOST)
                    for pk in nearby
                ],
                ignore_conflicts=True,
            )
    Announcement.objects.bulk_create(announcements)
    ctx.log(
        f"Created {len(groups)} demo groups with {len(memberships):,} memberships "
        f"({joins:,} joins)."
    )
