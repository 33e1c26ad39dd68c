"""Who a mailing reaches: people in any included segment, minus anyone in an excluded segment,
minus anyone whose primary email address is not subscribed (unsubscribed, bouncing, a spam
complaint…: suppressed), minus anyone who stopped the mailing's kind of mail.

The audience is one queryset built from segments.queries.segment_people (the one answer to
"who is in this segment"), so the live count on the compose page, the snapshot and the API's
`total_targeted` agree. Reads only: nothing here writes.
"""

from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery

from rallypoint.people.models import EmailAddress, EmailStatus, Person
from rallypoint.segments.models import Segment
from rallypoint.segments.queries import segment_people

from ..models import Mailing, MailPreference

NOBODY = Q(pk__in=[])


def sendable_addresses() -> QuerySet[EmailAddress]:
    """Addresses a mailing may go to: a person's primary address, still subscribed."""
    return EmailAddress.objects.filter(primary=True, status=EmailStatus.SUBSCRIBED)


def audience_queryset(
    include_ids: list[int], exclude_ids: list[int], kind: str | None
) -> QuerySet[Person]:
    """People in any of `include_ids`' segments, not in any of `exclude_ids`', with a subscribed
    primary address, who have not stopped mail of `kind` (None: every kind is welcome)."""
    wanted = set(include_ids) | set(exclude_ids)
    segments = {s.pk: s for s in Segment.objects.filter(pk__in=wanted)} if wanted else {}
    return _audience(
        [segments[pk] for pk in include_ids if pk in segments],
        [segments[pk] for pk in exclude_ids if pk in segments],
        kind,
    )


def _audience(include: list[Segment], exclude: list[Segment], kind: str | None):
    if not include:
        return Person.objects.none()
    members = NOBODY
    for segment in include:
        members |= Q(pk__in=segment_people(segment).values("pk"))
    people = Person.objects.filter(members)
    for segment in exclude:
        people = people.exclude(pk__in=segment_people(segment).values("pk"))
    people = people.filter(Exists(sendable_addresses().filter(person=OuterRef("pk"))))
    if kind:
        people = people.exclude(
            Exists(MailPreference.objects.filter(person=OuterRef("pk"), kind=kind))
        )
    return people.order_by()


def mailing_audience(mailing: Mailing) -> QuerySet[Person]:
    """The audience of a mailing as its segments and kind say right now (one query to read its
    segments; the queryset itself is lazy)."""
    include_through = Mailing.include_segments.through.objects.filter(mailing_id=mailing.pk)
    exclude_through = Mailing.exclude_segments.through.objects.filter(mailing_id=mailing.pk)
    segments = Segment.objects.filter(
        Q(pk__in=include_through.values("segment_id"))
        | Q(pk__in=exclude_through.values("segment_id"))
    ).annotate(included=Exists(include_through.filter(segment_id=OuterRef("pk"))))
    include: list[Segment] = []
    exclude: list[Segment] = []
    for segment in segments:
        (include if segment.included else exclude).append(segment)
    return _audience(include, exclude, mailing.kind)


def audience_count(mailing: Mailing) -> int:
    """How many people the mailing would reach if sent now (one query for its segments, one
    COUNT)."""
    if mailing.pk is None:
        return 0
    return mailing_audience(mailing).count()


def audience_with_addresses(mailing: Mailing) -> QuerySet:
    """(person id, address) pairs of the audience, for the snapshot: one row per person (their
    first subscribed primary address, should a record carry two)."""
    first_address = sendable_addresses().filter(person=OuterRef("pk")).order_by("pk")
    return (
        mailing_audience(mailing)
        .annotate(send_to=Subquery(first_address.values("address")[:1]))
        .values_list("pk", "send_to")
        .order_by("pk")
    )
