"""Factories for the messaging tests: mailings, their variants and deliveries, and segments and
subscribers to send them to.

    segment, people = audience_of(3)                  # 3 subscribed people tagged into a segment
    mailing = MailingFactory(include=[segment])       # a draft ready to send
"""

import factory
from django.conf import settings

from rallypoint.messaging.models import (
    Delivery,
    DeliveryStatus,
    Mailing,
    MailingLink,
    MailingStatus,
    MailingVariant,
    MailPreference,
)
from rallypoint.people.models import EmailStatus
from rallypoint.segments.models import Segment
from tests.factories import EmailAddressFactory, PersonFactory, TagFactory, TaggingFactory


def default_from_address() -> str:
    from email.utils import parseaddr

    return parseaddr(settings.MAILING_FROM_ADDRESSES[0])[1].lower()


class SegmentFactory(factory.django.DjangoModelFactory):
    """A segment of everyone tagged with its own tag (`segment_tag(segment)` to tag people)."""

    class Meta:
        model = Segment

    name = factory.Sequence(lambda n: f"Segment {n}")
    slug = factory.Sequence(lambda n: f"segment-{n}")
    definition = factory.LazyFunction(
        lambda: {
            "match": "all",
            "conditions": [{"type": "tags", "mode": "any", "tags": [TagFactory().pk]}],
            "exclude_segments": [],
        }
    )


def segment_tag(segment: Segment):
    """The tag a SegmentFactory segment is made of."""
    from rallypoint.people.models import Tag

    return Tag.objects.get(pk=segment.definition["conditions"][0]["tags"][0])


def subscriber(
    segment: Segment | None = None,
    *,
    address: str | None = None,
    status: str = EmailStatus.SUBSCRIBED,
    **person_fields,
):
    """A person with a primary email address (subscribed unless told), tagged into `segment`."""
    person = PersonFactory(**person_fields)
    email_fields = {"person": person, "status": status}
    if address is not None:
        email_fields["address"] = address
    EmailAddressFactory(**email_fields)
    if segment is not None:
        TaggingFactory(person=person, tag=segment_tag(segment))
    return person


def audience_of(count: int, segment: Segment | None = None, **person_fields):
    """A segment (new unless given) with `count` subscribed people in it."""
    segment = segment or SegmentFactory()
    people = [subscriber(segment, **person_fields) for _ in range(count)]
    return segment, people


class MailingFactory(factory.django.DjangoModelFactory):
    """A draft that passes every check of mailing_send once it has an audience:
    `MailingFactory(include=[segment], exclude=[other])`."""

    class Meta:
        model = Mailing
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Mailing {n}")
    subject = "Hello {{ first_name | friend }}"
    preview_text = "News from the campaign"
    from_name = "The Campaign"
    from_address = factory.LazyFunction(default_from_address)
    body_html = (
        '<p>Hi {{ first_name | friend }},</p><p><a href="https://example.org/act">Act now</a></p>'
    )
    status = MailingStatus.DRAFT

    @factory.post_generation
    def include(obj, create, extracted, **kwargs):  # noqa: N805
        if create and extracted:
            obj.include_segments.set(extracted)

    @factory.post_generation
    def exclude(obj, create, extracted, **kwargs):  # noqa: N805
        if create and extracted:
            obj.exclude_segments.set(extracted)


class MailingVariantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MailingVariant

    mailing = factory.SubFactory(MailingFactory)
    label = factory.Sequence(lambda n: "ABCD"[n % 4])
    subject = factory.Sequence(lambda n: f"Subject {n}")


def ab_mailing(*subjects: str, sample_percent: int = 20, metric: str = "clicks", **fields):
    """A mailing with an A/B subject test: the first subject is the mailing's own ("A")."""
    mailing = MailingFactory(
        subject=subjects[0], ab_sample_percent=sample_percent, ab_metric=metric, **fields
    )
    for label, subject in zip("ABCD", subjects, strict=False):
        MailingVariant.objects.create(mailing=mailing, label=label, subject=subject)
    return mailing


class DeliveryFactory(factory.django.DjangoModelFactory):
    """A recipient already in a mailing's snapshot (pending unless told)."""

    class Meta:
        model = Delivery

    mailing = factory.SubFactory(MailingFactory, status=MailingStatus.SENDING)
    person = factory.SubFactory(PersonFactory)
    address = factory.Sequence(lambda n: f"recipient{n}@example.org")
    status = DeliveryStatus.PENDING


class MailingLinkFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MailingLink

    mailing = factory.SubFactory(MailingFactory)
    position = factory.Sequence(lambda n: n)
    url = factory.Sequence(lambda n: f"https://example.org/page/{n}")


class MailPreferenceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MailPreference

    person = factory.SubFactory(PersonFactory)
    kind = "news"
