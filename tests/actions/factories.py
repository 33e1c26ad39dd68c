"""Factories for actions tests."""

import factory
from django.utils import timezone

from rallypoint.actions.models import (
    Action,
    ActionKind,
    ActionStatus,
    Question,
    QuestionKind,
    Submission,
)
from rallypoint.mission.models import Campaign
from tests.factories import PersonFactory


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    name = factory.Sequence(lambda n: f"Campaign {n}")
    slug = factory.Sequence(lambda n: f"campaign-{n}")
    status = "live"


class ActionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Action

    kind = ActionKind.PETITION
    campaign = factory.SubFactory(CampaignFactory)
    title = factory.Sequence(lambda n: f"Fix the bus line {n}")
    slug = factory.Sequence(lambda n: f"fix-the-bus-{n}")
    status = ActionStatus.LIVE
    targets = factory.LazyFunction(lambda: [{"name": "Mayor Ana Ruiz"}])
    petition_text = "Run the 12 bus every 10 minutes."


class PledgeFactory(ActionFactory):
    kind = ActionKind.PLEDGE
    pledge_headline = "I will vote on November 4"


class FormFactory(ActionFactory):
    kind = ActionKind.FORM


class QuestionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Question

    action = factory.SubFactory(FormFactory)
    kind = QuestionKind.TEXT
    label = factory.Sequence(lambda n: f"Question {n}")
    position = factory.Sequence(lambda n: n)


class SubmissionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Submission

    action = factory.SubFactory(ActionFactory)
    person = factory.SubFactory(PersonFactory)
    created_at = factory.LazyFunction(timezone.now)
    source = "page"
