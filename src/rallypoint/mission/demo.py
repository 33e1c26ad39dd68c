"""Demo mission: a live campaign with three goals and two months of sharing across channels.

Runs before the tools' demos: it sets ctx.data["campaign"], and actions/demo.py adds the
petition, pledge and sign-up form with their submissions and recruitment chains."""

from datetime import timedelta

from django.utils import timezone

from rallypoint.core.audit import log_action
from rallypoint.ledger.models import Activity
from rallypoint.ledger.services import points_for
from rallypoint.people.models import Person

from .models import Campaign, CampaignStatus, Goal

DAYS = 60
STORY = """<p>For ten years our state has promised schools a funding formula it never paid.
Libraries sit locked. One nurse covers four buildings. Classes of 35 are normal.</p>
<h3>What we want</h3>
<ul><li>A librarian in every school</li><li>A full-time nurse in every building</li>
<li>Classes of 25 or fewer</li></ul>
<p>The legislature votes on the budget in the spring. Every signature, pledge and volunteer
shift shows them how many of us are watching. <strong>Pick your way in below</strong>, then
bring a friend: campaigns like this are won person to person.</p>"""
SHARE_TEXTS = {
    "x": "A librarian and a nurse in every school: I'm in for {title}. Join me!",
    "email_subject": "Can you help our schools? It takes a minute",
    "sms": "I just signed up for {title}. Will you add your name?",
}
SHARE_CHANNELS = [
    ("facebook", 26),
    ("whatsapp", 18),
    ("email", 16),
    ("direct", 14),
    ("x", 10),
    ("sms", 9),
    ("bluesky", 5),
    ("mastodon", 2),
]


def build(ctx) -> None:
    rng, now = ctx.rng, timezone.now()
    organizer = ctx.data.get("organizer")
    slug = "fund-our-schools"
    while Campaign.objects.filter(slug=slug).exists():
        slug = f"fund-our-schools-{rng.randint(100, 999)}"
    campaign = Campaign.objects.create(
        name="Fund Our Schools",
        slug=slug,
        summary="A librarian, a nurse and a smaller class for every child. Pick your way in.",
        story=STORY,
        starts_at=now - timedelta(days=DAYS),
        ends_at=now + timedelta(days=45),
        status=CampaignStatus.LIVE,
        share_texts=SHARE_TEXTS,
    )
    goals = [
        Goal(campaign=campaign, kind="sign", target=2500, deadline=now + timedelta(days=30)),
        Goal(
            campaign=campaign,
            kind="pledge",
            target=1500,
            title="1,500 pledges to vote",
            deadline=now + timedelta(days=45),
        ),
        Goal(campaign=campaign, kind="sign", target=150, region="OH"),
    ]
    for position, goal in enumerate(goals):
        goal.position = position
    Goal.objects.bulk_create(goals)
    Campaign.objects.create(
        name="Clean Air Near Schools",
        slug=f"clean-air-{rng.randint(1000, 9999)}",
        summary="Move idling buses away from school doors.",
        status=CampaignStatus.DRAFT,
    )
    log_action("campaign.created", obj=campaign, actor=organizer, data={"demo": True})
    ctx.data["campaign"] = campaign

    # Two months of shares: most people share rarely, a few share a lot.
    people_ids = list(ctx.data.get("people_ids") or Person.objects.values_list("id", flat=True))
    sharers = rng.sample(people_ids, k=min(len(people_ids), max(1, len(people_ids) // 3)))
    channels, weights = zip(*SHARE_CHANNELS, strict=True)
    points = points_for("share", campaign)
    page = f"/campaigns/{campaign.slug}/"
    shares = []
    for person_id in sharers:
        for _ in range(min(12, int(rng.paretovariate(1.6)))):
            at = now - timedelta(seconds=DAYS * 24 * 3600 * (1 - rng.random() ** 0.7))
            shares.append(
                Activity(
                    person_id=person_id,
                    kind="share",
                    campaign=campaign,
                    channel=rng.choices(channels, weights=weights)[0],
                    points=points,
                    created_at=at,
                    details={"page": page},
                )
            )
    Activity.objects.bulk_create(shares, batch_size=1000)
    ctx.log(
        f"Created the live campaign /campaigns/{campaign.slug}/ with {len(goals)} goals and "
        f"{len(shares):,} shares over {DAYS} days."
    )
