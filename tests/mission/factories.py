import factory

from rallypoint.mission.models import Campaign, CampaignStatus, Goal


class CampaignFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Campaign

    name = factory.Sequence(lambda n: f"Campaign {n}")
    slug = factory.Sequence(lambda n: f"campaign-{n}")
    summary = "Fund our schools"
    status = CampaignStatus.LIVE


class GoalFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Goal

    campaign = factory.SubFactory(CampaignFactory)
    kind = "sign"
    target = 100
