import factory

from rallypoint.groups.models import Group, GroupStatus, MemberRole, Membership, MemberStatus
from tests.events.factories import person_with_email


class GroupFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Group

    name = factory.Sequence(lambda n: f"Neighbors {n}")
    slug = factory.Sequence(lambda n: f"neighbors-{n}")
    postal_code = "80202"
    locality = "Denver"
    region = "CO"
    latitude = 39.7491
    longitude = -104.9946
    status = GroupStatus.ACTIVE


class MembershipFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Membership

    group = factory.SubFactory(GroupFactory)
    person = factory.LazyFunction(person_with_email)
    role = MemberRole.MEMBER
    status = MemberStatus.ACTIVE
