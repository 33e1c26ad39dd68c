"""Who a mailing reaches: included segments, minus excluded ones, minus suppressed addresses and
people who stopped the mailing's kind of mail."""

import pytest

from rallypoint.messaging.models import MailKind
from rallypoint.messaging.services.audience import (
    audience_count,
    audience_queryset,
    audience_with_addresses,
)
from rallypoint.people.models import EmailStatus
from tests.factories import EmailAddressFactory, PersonFactory, TaggingFactory
from tests.messaging.factories import (
    MailingFactory,
    MailPreferenceFactory,
    SegmentFactory,
    audience_of,
    segment_tag,
    subscriber,
)

pytestmark = pytest.mark.django_db


def ids(queryset) -> set[int]:
    return set(queryset.values_list("pk", flat=True))


def test_audience_is_anyone_in_an_included_segment_once():
    first, (ana, ben) = audience_of(2)
    second, (cy,) = audience_of(1)
    subscriber(second, address="ben2@example.org")  # someone else
    # Ben is in both segments: counted once.
    TaggingFactory(person=ben, tag=segment_tag(second))
    people = audience_queryset([first.pk, second.pk], [], None)
    assert people.count() == 4
    assert {ana.pk, ben.pk, cy.pk} <= ids(people)


def test_audience_leaves_out_excluded_segments():
    everyone, (ana, ben, cy) = audience_of(3)
    donors = SegmentFactory()
    TaggingFactory(person=ben, tag=segment_tag(donors))
    assert ids(audience_queryset([everyone.pk], [donors.pk], None)) == {ana.pk, cy.pk}


@pytest.mark.parametrize(
    "status",
    [
        EmailStatus.UNSUBSCRIBED,
        EmailStatus.BOUNCING,
        EmailStatus.PREVIOUS_BOUNCE,
        EmailStatus.SPAM_COMPLAINT,
        EmailStatus.PREVIOUS_SPAM_COMPLAINT,
    ],
)
def test_audience_leaves_out_suppressed_addresses(status):
    segment, (ana,) = audience_of(1)
    subscriber(segment, status=status)
    assert ids(audience_queryset([segment.pk], [], None)) == {ana.pk}


def test_audience_needs_a_subscribed_primary_address():
    segment, (ana,) = audience_of(1)
    no_email = PersonFactory()
    TaggingFactory(person=no_email, tag=segment_tag(segment))
    # A subscribed address that is not the primary one (the primary is unsubscribed).
    secondary = subscriber(segment, status=EmailStatus.UNSUBSCRIBED)
    EmailAddressFactory(person=secondary, primary=False)
    assert ids(audience_queryset([segment.pk], [], None)) == {ana.pk}


def test_audience_leaves_out_people_who_stopped_that_kind_of_mail():
    segment, (ana, ben) = audience_of(2)
    MailPreferenceFactory(person=ben, kind=MailKind.FUNDRAISING)
    assert ids(audience_queryset([segment.pk], [], MailKind.FUNDRAISING)) == {ana.pk}
    assert ids(audience_queryset([segment.pk], [], MailKind.NEWS)) == {ana.pk, ben.pk}
    assert ids(audience_queryset([segment.pk], [], None)) == {ana.pk, ben.pk}


def test_audience_without_an_included_segment_is_nobody():
    segment, _ = audience_of(2)
    assert audience_queryset([], [segment.pk], None).count() == 0
    assert audience_queryset([], [], None).count() == 0
    assert audience_count(MailingFactory()) == 0


def test_audience_count_follows_the_mailing(django_assert_num_queries):
    segment, people = audience_of(3)
    excluded = SegmentFactory()
    TaggingFactory(person=people[0], tag=segment_tag(excluded))
    mailing = MailingFactory(include=[segment], exclude=[excluded], kind=MailKind.NEWS)
    MailPreferenceFactory(person=people[1], kind=MailKind.NEWS)
    # The mailing's segments in one query, then one COUNT.
    with django_assert_num_queries(2):
        assert audience_count(mailing) == 1


def test_audience_addresses_one_row_per_person_with_their_subscribed_primary():
    segment, (ana,) = audience_of(1, given_name="Ana")
    mailing = MailingFactory(include=[segment])
    address = ana.email_addresses.get().address
    assert list(audience_with_addresses(mailing)) == [(ana.pk, address)]
