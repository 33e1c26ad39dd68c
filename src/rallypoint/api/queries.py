"""Reads of the API app."""

from django.db.models import QuerySet

from .models import ApiKey, key_hash


def apikeys_for_listing() -> QuerySet[ApiKey]:
    return ApiKey.objects.select_related("created_by", "revoked_by").order_by(
        "revoked_at", "-created_at", "-id"
    )


def apikey_by_token(raw: str) -> ApiKey | None:
    """The key a request presents, active or revoked (the caller decides what revoked means)."""
    raw = (raw or "").strip()
    if not raw or len(raw) > 200:
        return None
    return ApiKey.objects.filter(key_hash=key_hash(raw)).first()


def apikeys_matching(name_or_prefix: str) -> QuerySet[ApiKey]:
    """Active keys named `name_or_prefix` (any case) or whose shown prefix starts with it."""
    value = (name_or_prefix or "").strip()
    by_name = ApiKey.objects.filter(revoked_at__isnull=True, name__iexact=value)
    if by_name.exists() or len(value) < 4:
        return by_name
    return ApiKey.objects.filter(revoked_at__isnull=True, prefix__startswith=value.rstrip("…"))


# --- Resource reads: ordered oldest first, so pages stay put while new records arrive --------


def api_people() -> QuerySet:
    from rallypoint.people.queries import people_with_contacts

    return people_with_contacts().order_by("created_at", "id")


def api_tags() -> QuerySet:
    from rallypoint.people.models import Tag

    return Tag.objects.order_by("created_at", "id")


def api_taggings(*, tag=None, person=None) -> QuerySet:
    from rallypoint.people.models import Tagging

    queryset = Tagging.objects.select_related("tag", "person").order_by("created_at", "id")
    if tag is not None:
        queryset = queryset.filter(tag=tag)
    if person is not None:
        queryset = queryset.filter(person=person)
    return queryset


def api_actions(kinds: tuple[str, ...]) -> QuerySet:
    """Petitions (and pledges) or forms, each with `total`: the people who put their name."""
    from django.db.models import Count, Q

    from rallypoint.actions.models import Action

    return (
        Action.objects.filter(kind__in=kinds)
        .annotate(total=Count("submissions", filter=Q(submissions__counted=True)))
        .order_by("created_at", "id")
    )


def api_submissions(*, kinds: tuple[str, ...], action=None, person=None) -> QuerySet:
    from rallypoint.actions.models import Submission

    queryset = (
        Submission.objects.filter(action__kind__in=kinds)
        .select_related("action", "person", "referrer")
        .order_by("created_at", "id")
    )
    if action is not None:
        queryset = queryset.filter(action=action)
    if person is not None:
        queryset = queryset.filter(person=person)
    return queryset


def api_events() -> QuerySet:
    """Events, each with `total_accepted`: the RSVPs that hold a seat."""
    from django.db.models import Count, Q

    from rallypoint.events.models import Event, RsvpStatus

    return Event.objects.annotate(
        total_accepted=Count("rsvps", filter=Q(rsvps__status=RsvpStatus.ACCEPTED))
    ).order_by("created_at", "id")


def api_attendances(*, event=None, person=None) -> QuerySet:
    from rallypoint.events.models import Rsvp

    queryset = Rsvp.objects.select_related("event", "person").order_by("created_at", "id")
    if event is not None:
        queryset = queryset.filter(event=event)
    if person is not None:
        queryset = queryset.filter(person=person)
    return queryset


def api_lists() -> QuerySet:
    from rallypoint.segments.models import Segment

    return Segment.objects.order_by("created_at", "id")


def api_list_items(segment) -> QuerySet:
    """The segment's members now (segments.queries.segment_people), in a stable order."""
    from rallypoint.segments.queries import segment_people

    return segment_people(segment).order_by("created_at", "id")


def api_messages() -> QuerySet:
    from rallypoint.messaging.models import Mailing

    return Mailing.objects.prefetch_related("include_segments").order_by("-created_at", "-id")
