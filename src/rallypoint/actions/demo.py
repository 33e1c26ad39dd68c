"""Demo actions: a petition, a pledge and a volunteer sign-up form in the demo campaign, with
thousands of past submissions over 60 days whose referrals form recruitment chains several
generations deep across channels. Every submission's act goes through activity_record."""

import math
from datetime import timedelta

from django.utils import timezone

from rallypoint.ledger.services import activity_record
from rallypoint.mission.models import Campaign
from rallypoint.people.models import Person
from rallypoint.people.referral import Referral

from .models import Action, ActionKind, ActionStatus, Question, QuestionKind, Submission

DAYS = 60
CHANNELS = [
    ("facebook", 24),
    ("email", 20),
    ("whatsapp", 15),
    ("direct", 12),
    ("x", 9),
    ("sms", 10),
    ("bluesky", 6),
    ("mastodon", 4),
]
COMMENTS = [
    "My kids' school lost its librarian last year. Enough.",
    "Teachers buy supplies out of their own pockets. That has to stop.",
    "Every child deserves a full-time nurse at school.",
    "I'm a retired teacher and I've seen what cuts do.",
    "Class sizes of 35 are not OK.",
    "Fund the future.",
    "Our district deserves better.",
    "Signing for my granddaughter.",
]

ACTIONS = [
    {
        "kind": ActionKind.PETITION,
        "slug": "fund-our-schools",
        "title": "Fund our schools: a librarian and a nurse in every school",
        "summary": "Tell the state legislature to pass the full school funding formula this year.",
        "description": (
            "<p>Our schools have gone a decade without the funding the law promises. Libraries "
            "sit locked, nurses split their week across four buildings, and classes keep "
            "growing.</p><p>The legislature votes on the budget in the spring. Let's make sure "
            "every member knows how many of us are watching.</p>"
        ),
        "targets": [{"name": "State Legislature"}, {"name": "Governor"}],
        "petition_text": (
            "We call on the legislature to fully fund the school formula this year, so every "
            "public school has a librarian, a nurse and classes of 25 or fewer."
        ),
        "goal": 2500,
        "thank_you_message": (
            "Thank you for signing. We'll deliver every name to the capitol before the budget "
            "vote. Petitions win when they grow: please ask three friends to sign."
        ),
        "share": 0.55,
    },
    {
        "kind": ActionKind.PLEDGE,
        "slug": "pledge-to-vote",
        "title": "Pledge to vote on November 4",
        "summary": "Make your plan and tell your friends: we show up.",
        "pledge_headline": "I will vote on November 4, and bring a friend.",
        "description": (
            "<p>People who make a plan to vote are far more likely to do it. Add your name and "
            "we'll send you a reminder with your polling place before election day.</p>"
        ),
        "goal": 1500,
        "thank_you_message": "You're counted. We'll remind you before election day.",
        "share": 0.35,
    },
    {
        "kind": ActionKind.FORM,
        "slug": "volunteer",
        "title": "Volunteer with the campaign",
        "summary": "Phones, doors, data or snacks: tell us how you'd like to help.",
        "description": (
            "<p>Tell us a little about how you'd like to help and a local organizer will be in "
            "touch within a week.</p>"
        ),
        "goal": 600,
        "thank_you_message": "Thanks for stepping up! A local organizer will be in touch soon.",
        "share": 0.2,
    },
]

QUESTIONS = [
    {
        "kind": QuestionKind.CHECKBOX,
        "label": "How would you like to help?",
        "choices": [
            "Knock on doors",
            "Make calls",
            "Host a house party",
            "Data entry",
            "Bring food",
        ],
        "required": True,
    },
    {
        "kind": QuestionKind.CHOICE,
        "label": "When are you usually free?",
        "choices": ["Weekday evenings", "Weekends", "Any time"],
        "required": False,
    },
    {"kind": QuestionKind.TEXT, "label": "Anything we should know?", "required": False},
]

# How many of the demo people act on each, as a share of all demo people.
REACH = {"fund-our-schools": 0.62, "pledge-to-vote": 0.38, "volunteer": 0.16}


def _campaign(ctx) -> Campaign:
    campaign = ctx.data.get("campaign")
    if campaign is not None:
        return campaign
    campaign = Campaign.objects.filter(status="live").order_by("created_at").first()
    if campaign is None:
        campaign = Campaign.objects.create(
            name="Fund Our Schools",
            slug="fund-our-schools-campaign",
            summary="A librarian, a nurse and a smaller class for every child.",
            status="live",
        )
    ctx.data["campaign"] = campaign
    return campaign


def _pick_channel(rng) -> str:
    return rng.choices([c for c, _ in CHANNELS], weights=[w for _, w in CHANNELS])[0]


def build(ctx) -> None:
    rng, now = ctx.rng, timezone.now()
    campaign = _campaign(ctx)
    people_ids: list[int] = list(ctx.data.get("people_ids") or [])
    if not people_ids:
        people_ids = list(Person.objects.order_by("id").values_list("id", flat=True)[:2000])
    codes = dict(Person.objects.filter(pk__in=people_ids).values_list("pk", "share_code"))
    actions = {}
    for spec in ACTIONS:
        values = {k: v for k, v in spec.items() if k not in {"share"}}
        slug = values.pop("slug")
        while Action.objects.filter(slug=slug).exists():
            slug = f"{spec['slug']}-{rng.randint(100, 999)}"
        actions[spec["slug"]] = Action.objects.create(
            **values, slug=slug, campaign=campaign, status=ActionStatus.LIVE
        )
    form = actions["volunteer"]
    questions = [
        Question.objects.create(action=form, position=i, **q) for i, q in enumerate(QUESTIONS)
    ]
    # Events in time order: (when, person, action). Activity grows towards today.
    events = []
    for slug, share in REACH.items():
        for person_id in rng.sample(people_ids, k=int(len(people_ids) * share)):
            age = DAYS * 24 * 3600 * (1 - rng.random() ** 0.7)
            events.append((now - timedelta(seconds=age), person_id, actions[slug]))
    events.sort(key=lambda e: e[0])
    # Some people share a lot (a heavy tail): they recruit most of the newcomers.
    influence = {pid: rng.paretovariate(1.3) for pid in people_ids}
    acted: list[int] = []
    weights: list[float] = []
    seen: set[int] = set()
    submissions = []
    for at, person_id, action in events:
        referrer_id = channel = None
        if acted and rng.random() < 0.6:
            # Prefer recent, influential actors: chains grow generation by generation.
            window = max(1, len(acted) // 3)
            lo = len(acted) - window if rng.random() < 0.7 else 0
            referrer_id = rng.choices(acted[lo:], weights=weights[lo:])[0]
            if referrer_id == person_id:
                referrer_id = None
            else:
                channel = _pick_channel(rng)
        submissions.append(
            Submission(
                action=action,
                person_id=person_id,
                answers=_answers(rng, questions) if action is form else {},
                comment=rng.choice(COMMENTS)
                if action.kind == ActionKind.PETITION and rng.random() < 0.18
                else "",
                referrer_id=referrer_id,
                channel=channel or "",
                source="demo",
                created_at=at,
            )
        )
        if person_id not in seen:
            seen.add(person_id)
            acted.append(person_id)
            weights.append(influence[person_id] * (1.5 if rng.random() < 0.3 else 1))
    Submission.objects.bulk_create(submissions, batch_size=1000)
    if not all(s.pk for s in submissions):
        submissions = list(Submission.objects.filter(source="demo", action__in=actions.values()))
        submissions.sort(key=lambda s: s.created_at)
    people = Person.objects.in_bulk(people_ids)
    first_act: set[int] = set()
    recruits = 0
    for submission in submissions:
        referral = (
            Referral(code=codes[submission.referrer_id], channel=submission.channel)
            if submission.referrer_id
            else None
        )
        is_first = submission.person_id not in first_act
        first_act.add(submission.person_id)
        activity_record(
            person=people[submission.person_id],
            kind=submission.action.ledger_kind,
            campaign=campaign,
            target=submission,
            referral=referral,
            person_created=is_first,
            details={"action": submission.action_id},
            at=submission.created_at,
        )
        recruits += bool(referral and is_first)
    ctx.data["actions"] = list(actions.values())
    ctx.log(
        f"Created 3 demo actions with {len(submissions):,} submissions over {DAYS} days "
        f"({recruits:,} people brought in by someone's link)."
    )


def _answers(rng, questions: list[Question]) -> dict[str, object]:
    helps, when, note = questions
    answers: dict[str, object] = {
        str(helps.pk): sorted(
            rng.sample(helps.choices, k=max(1, min(3, int(math.ceil(rng.expovariate(0.9)))))),
            key=helps.choices.index,
        ),
        str(when.pk): rng.choice(when.choices),
    }
    if rng.random() < 0.15:
        answers[str(note.pk)] = rng.choice(
            ["I speak Spanish.", "I have a car.", "Happy to host in my backyard.", "Evenings only."]
        )
    return answers
