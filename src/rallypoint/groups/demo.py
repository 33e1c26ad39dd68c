"""Demo groups: dozens of local groups in the demo people's metros, with leaders, members (whose
joins go through activities_record), announcements, and some of the demo events hosted by them.

Coherent with the rest of the demo: a group is led by people with a public name who had joined
before founding it; members join after the group began and after they themselves joined; a
group's announcements are all different, posted by a leader after they joined it, their dates
written from the day they were posted; a group takes on events posted after it began."""

from collections import Counter, defaultdict
from datetime import timedelta

from django.utils.text import slugify

from rallypoint.core.demo_support import SATURDAY, day_text, moment, next_weekday
from rallypoint.events.models import Event, EventHost, HostRole
from rallypoint.ledger.services import ActToRecord, activities_record
from rallypoint.people.demo import load_people
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
PENDING_GROUPS = 3  # the newest, waiting for an organizer's approval
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
# (title, body): "{saturday}" is the Saturday after the post, "{delivery}" the petition's
# delivery day and "{election}" the election day (ctx.calendar).
ANNOUNCEMENTS = [
    (
        "Canvass on Saturday, {saturday}",
        "We're knocking doors on Saturday, {saturday}, from 10 to 1. New to it? We'll pair you "
        "with someone who has done it before.",
    ),
    (
        "Thank you!",
        "Thanks to everyone who came out last week. Next up: more doors, more calls. Reply if "
        "you can help host.",
    ),
    (
        "New members welcome",
        "A warm welcome to everyone who joined this month. Come to the next meeting and tell us "
        "what you'd like to work on.",
    ),
    (
        "Phone bank recap",
        "Great calls this week: many neighbours had not heard about the funding formula. The "
        "script is in the shared folder for anyone calling from home.",
    ),
    (
        "Delivering the petition on {delivery}",
        "Our signatures go to the capitol on {delivery}. Every name from our area counts: ask "
        "three friends to sign before then.",
    ),
    (
        "Pledge to vote by {election}",
        "Election day is {election}. Add your pledge and bring a friend: we'll send everyone a "
        "reminder with their polling place.",
    ),
]


def build(ctx) -> None:
    rng, cal, now = ctx.rng, ctx.calendar, ctx.now
    people_ids = ctx.data.get("people_ids") or []
    if not people_ids:
        ctx.log("No demo people: skipping groups.")
        return
    load_people(ctx, people_ids)
    joined = ctx.joined
    campaign = ctx.data.get("campaign")
    start = cal.campaign_start if campaign is not None else now - timedelta(days=90)
    rows = list(
        PostalAddress.objects.filter(
            person_id__in=people_ids, primary=True, latitude__isnull=False
        ).values("person_id", "postal_code", "locality", "region", "latitude", "longitude")
    )
    by_area = defaultdict(list)
    for row in rows:
        by_area[row["postal_code"][:3]].append(row)
    ranked = Counter({a: len(r) for a, r in by_area.items()}).most_common()
    # Areas where someone with a public name can lead.
    areas = [a for a, _ in ranked if any(ctx.can_lead(r["person_id"]) for r in by_area[a])]
    areas = areas[:GROUPS]
    groups, founders = [], []
    used_slugs = set(Group.objects.values_list("slug", flat=True))
    for i, area in enumerate(areas):
        pending = i >= len(areas) - PENDING_GROUPS
        began = (
            moment(rng, now - timedelta(days=4), now - timedelta(hours=2))
            if pending
            else moment(rng, start, now - timedelta(days=10))
        )
        can_lead = sorted(
            (joined[r["person_id"]], r["person_id"])
            for r in by_area[area]
            if ctx.can_lead(r["person_id"])
        )
        # Founded by someone who had joined by then (the group begins later if nobody had).
        began = min(max(began, can_lead[0][0] + timedelta(hours=1)), now)
        eligible = [pid for at, pid in can_lead if at < began]
        leaders = rng.sample(eligible, k=min(len(eligible), 2))
        centre = next(r for r in by_area[area] if r["person_id"] == leaders[0])
        name = f"{centre['locality']} {rng.choice(NAMES)}"
        slug, n = slugify(name), 2
        while slug in used_slugs:
            slug, n = f"{slugify(name)}-{n}", n + 1
        used_slugs.add(slug)
        group = Group(
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
            status=GroupStatus.PENDING if pending else GroupStatus.ACTIVE,
            campaign=campaign,
        )
        group.created_at = began
        groups.append(group)
        founders.append(leaders)
    began_at = [group.created_at for group in groups]
    Group.objects.bulk_create(groups)
    for group, at in zip(groups, began_at, strict=True):
        group.created_at = at
    memberships: list[Membership] = []
    for group, area, leaders in zip(groups, areas, founders, strict=True):
        began = group.created_at
        # The founder joins as the group begins, a second leader soon after.
        memberships.append(_member(group, leaders[0], MemberRole.LEADER, began))
        for person_id in leaders[1:]:
            at = moment(rng, began, min(now, began + timedelta(days=7)))
            memberships.append(_member(group, person_id, MemberRole.LEADER, at))
        pool = [r["person_id"] for r in by_area[area] if r["person_id"] not in leaders]
        size = rng.randint(0, 3) if not group.is_active else rng.randint(2, 38)
        for person_id in rng.sample(pool, k=min(len(pool), size)):
            since = max(joined[person_id], began)
            asked = group.join_policy == JoinPolicy.APPROVAL and rng.random() < 0.15
            if not group.is_active or asked:
                # Waiting for a leader (or the group for an organizer): a recent request.
                since = max(since, now - timedelta(days=10))
            memberships.append(
                _member(
                    group,
                    person_id,
                    MemberRole.MEMBER,
                    moment(rng, since, now, lean=0.6),
                    MemberStatus.PENDING if asked else MemberStatus.ACTIVE,
                )
            )
    joined_group = [m.created_at for m in memberships]
    Membership.objects.bulk_create(memberships, batch_size=1000)
    for membership, at in zip(memberships, joined_group, strict=True):
        membership.created_at = at
    Membership.objects.bulk_update(memberships, ["created_at"], batch_size=500)
    acts = []
    for membership in memberships:
        if membership.status != MemberStatus.ACTIVE or not membership.group.is_active:
            continue
        group = membership.group
        ctx.acted(membership.person_id, membership.created_at, group.campaign_id)
        acts.append(
            ActToRecord(
                person=Person(pk=membership.person_id),
                kind="group_join",
                at=membership.created_at,
                campaign=group.campaign,
                target=group,
            )
        )
    activities_record(acts)
    announcements = _announcements(ctx, groups, memberships)
    _host_events(ctx, groups, memberships)
    Group.objects.bulk_update(groups, ["created_at"], batch_size=500)
    ctx.log(
        f"Created {len(groups)} demo groups with {len(memberships):,} memberships "
        f"({len(acts):,} joins) and {announcements} announcements."
    )


def _member(group, person_id, role, at, status=MemberStatus.ACTIVE) -> Membership:
    membership = Membership(group=group, person_id=person_id, role=role, status=status)
    membership.created_at = at
    return membership


def _announcements(ctx, groups: list[Group], memberships: list[Membership]) -> int:
    """Up to three different posts per active group, each by a leader who was in it by then."""
    rng, cal, now = ctx.rng, ctx.calendar, ctx.now
    leaders = defaultdict(list)
    for membership in memberships:
        if membership.role == MemberRole.LEADER:
            leaders[membership.group_id].append(membership)
    posts = []
    for group in groups:
        if not group.is_active:
            continue
        texts = rng.sample(ANNOUNCEMENTS, k=rng.randint(0, 3))
        since = group.created_at + timedelta(days=1)
        for (title, body), at in zip(
            texts, sorted(moment(rng, since, now) for _ in texts), strict=True
        ):
            author = rng.choice([m for m in leaders[group.pk] if m.created_at <= at])
            values = {
                "saturday": day_text(next_weekday(at.date() + timedelta(days=1), SATURDAY)),
                "delivery": day_text(cal.delivery_day),
                "election": day_text(cal.election_day, weekday=True),
            }
            post = Announcement(
                group=group,
                author_id=author.person_id,
                title=title.format(**values),
                body=body.format(**values),
            )
            post.created_at = at
            posts.append(post)
    posted = [post.created_at for post in posts]
    Announcement.objects.bulk_create(posts)
    for post, at in zip(posts, posted, strict=True):
        post.created_at = at
    Announcement.objects.bulk_update(posts, ["created_at"], batch_size=500)
    return len(posts)


def _host_events(ctx, groups: list[Group], memberships: list[Membership]) -> None:
    """Each active group takes on up to two upcoming events in its area, posted after it began,
    with its founder as co-host."""
    now = ctx.now
    founder = {}
    for membership in memberships:
        if membership.role == MemberRole.LEADER and membership.group_id not in founder:
            founder[membership.group_id] = membership.person_id
    events = [e for e in ctx.data.get("events") or [] if e.starts_at > now and e.postal_code]
    taken: set[int] = set()
    changed, cohosts = [], []
    for group in groups:
        if not group.is_active:
            continue
        nearby = [
            e
            for e in events
            if e.pk not in taken
            and e.postal_code[:3] == group.postal_code[:3]
            and e.created_at >= group.created_at
        ][:2]
        for event in nearby:
            taken.add(event.pk)
            event.group = group
            changed.append(event)
            cohosts.append(
                EventHost(event=event, person_id=founder[group.pk], role=HostRole.COHOST)
            )
    if changed:
        Event.objects.bulk_update(changed, ["group"], batch_size=500)
    EventHost.objects.bulk_create(cohosts, ignore_conflicts=True)
