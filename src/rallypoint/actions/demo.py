"""Demo actions: a petition, a pledge and a volunteer sign-up form in the demo campaign, with
thousands of past submissions over the campaign's two months whose referrals form recruitment
chains several generations deep across channels. Each person's first submission comes after they
joined; someone new who came through a friend's link joined by that submission, after the friend
had acted. Every submission's act goes through the ledger's activities_record."""

import math
from datetime import timedelta

from rallypoint.core.demo_support import CAMPAIGN_DAYS, day_text, moment
from rallypoint.ledger.services import ActToRecord, activities_record
from rallypoint.mission.models import Campaign
from rallypoint.people.demo import load_people
from rallypoint.people.models import Person
from rallypoint.people.referral import Referral

from .models import Action, ActionKind, ActionStatus, Question, QuestionKind, Submission

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


def _specs(cal) -> list[dict]:
    """The three actions, their texts written from the campaign's dates."""
    election = day_text(cal.election_day, weekday=True)
    budget_vote = day_text(cal.budget_vote)
    delivery = day_text(cal.delivery_day)
    return [
        {
            "kind": ActionKind.PETITION,
            "slug": "fund-our-schools",
            "title": "Fund our schools: a librarian and a nurse in every school",
            "summary": "Tell the state legislature to pass the full school funding formula this "
            "year.",
            "description": (
                "<p>Our schools have gone a decade without the funding the law promises. "
                "Libraries sit locked, nurses split their week across four buildings, and "
                f"classes keep growing.</p><p>The legislature votes on the budget on {budget_vote}"
                ". Let's make sure every member knows how many of us are watching.</p>"
            ),
            "targets": [{"name": "State Legislature"}, {"name": "Governor"}],
            "petition_text": (
                "We call on the legislature to fully fund the school formula this year, so every "
                "public school has a librarian, a nurse and classes of 25 or fewer."
            ),
            "goal": 2500,
            "thank_you_message": (
                f"Thank you for signing. We'll deliver every name to the capitol on {delivery}, "
                f"before the budget vote on {budget_vote}. Petitions win when they grow: please "
                "ask three friends to sign."
            ),
        },
        {
            "kind": ActionKind.PLEDGE,
            "slug": "pledge-to-vote",
            "title": f"Pledge to vote on {election}",
            "summary": "Make your plan and tell your friends: we show up.",
            "pledge_headline": f"I will vote on {election}, and bring a friend.",
            "description": (
                "<p>People who make a plan to vote are far more likely to do it. Add your name "
                "and we'll send you a reminder with your polling place before election day, "
                f"{election}.</p>"
            ),
            "goal": 1500,
            "thank_you_message": "You're counted. We'll remind you before election day.",
        },
        {
            "kind": ActionKind.FORM,
            "slug": "volunteer",
            "title": "Volunteer with the campaign",
            "summary": "Phones, doors, data or snacks: tell us how you'd like to help.",
            "description": (
                "<p>Tell us a little about how you'd like to help and a local organizer will be "
                "in touch within a week.</p>"
            ),
            "goal": 600,
            "thank_you_message": "Thanks for stepping up! A local organizer will be in touch soon.",
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
    rng, cal, now = ctx.rng, ctx.calendar, ctx.now
    campaign = _campaign(ctx)
    people_ids: list[int] = list(ctx.data.get("people_ids") or [])
    if not people_ids:
        people_ids = list(Person.objects.order_by("id").values_list("id", flat=True)[:2000])
    load_people(ctx, people_ids)
    codes = dict(Person.objects.filter(pk__in=people_ids).values_list("pk", "share_code"))
    actions = {}
    for days_before, spec in zip((2, 2, 1), _specs(cal), strict=True):
        values = dict(spec)
        slug = values.pop("slug")
        while Action.objects.filter(slug=slug).exists():
            slug = f"{spec['slug']}-{rng.randint(100, 999)}"
        action = Action.objects.create(
            **values, slug=slug, campaign=campaign, status=ActionStatus.LIVE
        )
        # Written just before the campaign went live (auto_now_add ignores values at insert).
        created = cal.campaign_start - timedelta(days=days_before)
        Action.objects.filter(pk=action.pk).update(created_at=created, modified_at=created)
        action.created_at = action.modified_at = created
        actions[spec["slug"]] = action
    form = actions["volunteer"]
    questions = [
        Question.objects.create(action=form, position=i, **q) for i, q in enumerate(QUESTIONS)
    ]
    # Who does what: each person's actions in a random order. Someone who joined while the
    # campaign ran joined by their first submission; an older supporter acts some time after
    # the campaign began. Activity grows towards today.
    todo: dict[int, list[Action]] = {}
    for slug, share in REACH.items():
        for person_id in rng.sample(people_ids, k=int(len(people_ids) * share)):
            todo.setdefault(person_id, []).append(actions[slug])
    events = []  # (when, person, action, joined by it)
    for person_id, todo_actions in todo.items():
        rng.shuffle(todo_actions)
        joined = ctx.joined_at(person_id)
        newcomer = joined >= cal.campaign_start
        first = joined if newcomer else moment(rng, cal.campaign_start, now, lean=0.7)
        later = sorted(moment(rng, first, now, lean=0.7) for _ in todo_actions[1:])
        for n, (at, action) in enumerate(zip([first, *later], todo_actions, strict=True)):
            events.append((at, person_id, action, newcomer and n == 0))
    events.sort(key=lambda e: (e[0], e[1]))
    # Some people share a lot (a heavy tail): they recruit most of the newcomers.
    influence = {pid: rng.paretovariate(1.3) for pid in people_ids}
    acted: list[int] = []
    weights: list[float] = []
    seen: set[int] = set()
    submissions, recruited = [], []
    for at, person_id, action, joins in events:
        referrer_id = channel = None
        # A newcomer may have come through a friend's link (the friend acted before they
        # joined); a later act may also follow someone's link, which recruits nobody. An older
        # supporter's first act follows none: it would recruit them into the campaign, by a
        # friend who may have joined after them.
        chance = 0.75 if joins else 0.3 if person_id in seen else 0
        if acted and rng.random() < chance:
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
        recruited.append(joins)
        if person_id not in seen:
            seen.add(person_id)
            acted.append(person_id)
            weights.append(influence[person_id] * (1.5 if rng.random() < 0.3 else 1))
    Submission.objects.bulk_create(submissions, batch_size=1000)
    if not all(s.pk for s in submissions):
        by_key = {
            (s.action_id, s.person_id): s
            for s in Submission.objects.filter(source="demo", action__in=actions.values())
        }
        submissions = [by_key[(s.action_id, s.person_id)] for s in submissions]
    # One batch, in time order: the first act of each person decides their recruitment.
    acts = []
    for submission, joins in zip(submissions, recruited, strict=True):
        ctx.acted(submission.person_id, submission.created_at, campaign.pk)
        referral = (
            Referral(code=codes[submission.referrer_id], channel=submission.channel)
            if submission.referrer_id
            else None
        )
        acts.append(
            ActToRecord(
                person=Person(pk=submission.person_id),
                kind=submission.action.ledger_kind,
                at=submission.created_at,
                campaign=campaign,
                target=submission,
                referral=referral,
                referrer=Person(pk=submission.referrer_id) if submission.referrer_id else None,
                person_created=joins,
                details={"action": submission.action_id},
            )
        )
    activities_record(acts)
    _sources_note(submissions, recruited, ctx.duplicates)
    recruits = sum(
        1 for s, joins in zip(submissions, recruited, strict=True) if joins and s.referrer_id
    )
    ctx.data["actions"] = list(actions.values())
    ctx.log(
        f"Created 3 demo actions with {len(submissions):,} submissions over {CAMPAIGN_DAYS} days "
        f"({recruits:,} people brought in by someone's link)."
    )


SOURCES: dict[str, str] = {
    ActionKind.PETITION: "petition",
    ActionKind.PLEDGE: "pledge",
    ActionKind.FORM: "volunteer form",
}


def _sources_note(
    submissions: list[Submission], recruited: list[bool], duplicates: set[int]
) -> None:
    """People who joined by a submission came from it: a friend's link, or the action (a
    record entered twice keeps the source that explains it)."""
    by_source: dict[str, list[int]] = {}
    for submission, joins in zip(submissions, recruited, strict=True):
        if joins and submission.person_id not in duplicates:
            source = "referral" if submission.referrer_id else SOURCES[submission.action.kind]
            by_source.setdefault(source, []).append(submission.person_id)
    for source, ids in by_source.items():
        Person.objects.filter(pk__in=ids).update(source=source)


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
