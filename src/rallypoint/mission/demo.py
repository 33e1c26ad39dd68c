"""Demo mission: a live campaign with three goals and two months of sharing across channels.

Runs before the tools' demos: it sets ctx.data["campaign"], and actions/demo.py adds the
petition, pledge and sign-up form with their submissions and recruitment chains. Its dates (the
start, the budget vote that ends it, the goals' deadlines) come from ctx.calendar."""

from datetime import timedelta

from rallypoint.core.audit import log_action
from rallypoint.core.demo_support import CAMPAIGN_DAYS, day_text, moment
from rallypoint.ledger.models import Activity
from rallypoint.ledger.services import points_for
from rallypoint.people.demo import load_people
from rallypoint.people.models import Person

from .models import Campaign, CampaignStatus, Goal

STORY = """<p>For ten years our state has promised schools a funding formula it never paid.
Libraries sit locked. One nurse covers four buildings. Classes of 35 are normal.</p>
<h3>What we want</h3>
<ul><li>A librarian in every school</li><li>A full-time nurse in every building</li>
<li>Classes of 25 or fewer</li></ul>
<p>The legislature votes on the budget on {budget_vote}. Every signature, pledge and
volunteer shift shows them how many of us are watching. <strong>Pick your way in below</strong>,
then bring a friend: campaigns like this are won person to person.</p>"""
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
    rng, cal, now = ctx.rng, ctx.calendar, ctx.now
    organizer = ctx.data.get("organizer")
    slug = "fund-our-schools"
    while Campaign.objects.filter(slug=slug).exists():
        slug = f"fund-our-schools-{rng.randint(100, 999)}"
    campaign = Campaign.objects.create(
        name="Fund Our Schools",
        slug=slug,
        summary="A librarian, a nurse and a smaller class for every child. Pick your way in.",
        story=STORY.format(budget_vote=day_text(cal.budget_vote, weekday=True)),
        starts_at=cal.campaign_start,
        ends_at=cal.at(cal.budget_vote, 18),
        status=CampaignStatus.LIVE,
        share_texts=SHARE_TEXTS,
    )
    goals = [
        Goal(
            campaign=campaign,
            kind="sign",
            target=2500,
            deadline=cal.at(cal.delivery_day, 12),  # the petition goes to the capitol
        ),
        Goal(
            campaign=campaign,
            kind="pledge",
            target=1500,
            title="1,500 pledges to vote",
            deadline=cal.at(cal.election_day, 8),  # reminders go out as the polls open
        ),
        Goal(campaign=campaign, kind="sign", target=150, region="OH"),
    ]
    for position, goal in enumerate(goals):
        goal.position = position
    Goal.objects.bulk_create(goals)
    # Made a few days before it went live (auto_now_add ignores values at insert).
    created = cal.campaign_start - timedelta(days=4)
    Campaign.objects.filter(pk=campaign.pk).update(created_at=created, modified_at=created)
    Goal.objects.filter(campaign=campaign).update(created_at=created, modified_at=created)
    campaign.created_at = campaign.modified_at = created
    draft = Campaign.objects.create(
        name="Clean Air Near Schools",
        slug=f"clean-air-{rng.randint(1000, 9999)}",
        summary="Move idling buses away from school doors.",
        status=CampaignStatus.DRAFT,
    )
    drafted = now - timedelta(days=3)
    Campaign.objects.filter(pk=draft.pk).update(created_at=drafted, modified_at=drafted)
    entry = log_action("campaign.created", obj=campaign, actor=organizer, data={"demo": True})
    type(entry).objects.filter(pk=entry.pk).update(created_at=created)
    ctx.data["campaign"] = campaign

    # Two months of shares: most people share rarely, a few share a lot; nobody before they
    # joined.
    people_ids = list(ctx.data.get("people_ids") or Person.objects.values_list("id", flat=True))
    load_people(ctx, people_ids)
    sharers = rng.sample(people_ids, k=min(len(people_ids), max(1, len(people_ids) // 3)))
    channels, weights = zip(*SHARE_CHANNELS, strict=True)
    points = points_for("share", campaign)
    page = f"/campaigns/{campaign.slug}/"
    shares = []
    for person_id in sharers:
        since = max(ctx.joined_at(person_id), cal.campaign_start)
        for _ in range(min(12, int(rng.paretovariate(1.6)))):
            at = moment(rng, since, now, lean=0.7)
            ctx.acted(person_id, at, campaign.pk)
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
        f"{len(shares):,} shares over {CAMPAIGN_DAYS} days."
    )
