"""The one way to turn a segment into people. Messaging, call lists, exports and the API all
call `segment_people`, so "who is in this audience" has one answer."""

import math
from datetime import datetime, time, timedelta
from typing import Any

from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.db.models.fields.json import KeyTextTransform
from django.db.models.functions import ASin, Cos, Power, Radians, Sin, Sqrt
from django.db.models.lookups import Exact
from django.utils import timezone

from rallypoint.core.geo import EARTH_RADIUS_KM, bounding_box
from rallypoint.ledger.models import Activity
from rallypoint.people.models import EmailAddress, Person, PhoneNumber, PostalAddress, Tagging

from .models import Segment

NOBODY = Q(pk__in=[])


def segment_people(segment: Segment) -> QuerySet[Person]:
    """Everyone who matches the segment right now."""
    return definition_people(segment.definition, _seen=frozenset({segment.pk}))


def segment_count(segment: Segment) -> int:
    return segment_people(segment).count()


def definition_people(
    definition: dict[str, Any], *, _seen: frozenset[int] = frozenset()
) -> QuerySet[Person]:
    """People matching a (cleaned) definition, e.g. one being edited before it is saved."""
    people = Person.objects.all()
    parts = [_condition(c, _seen) for c in definition.get("conditions", [])]
    if parts:
        combined = parts[0]
        for part in parts[1:]:
            combined = (combined | part) if definition.get("match") == "any" else (combined & part)
        people = people.filter(combined)
    for segment_id in definition.get("exclude_segments", []):
        members = _segment_members(segment_id, _seen)
        if members is not None:
            people = people.exclude(pk__in=members.values("pk"))
    return people


def _segment_members(segment_id: int, seen: frozenset[int]) -> QuerySet[Person] | None:
    if segment_id in seen or len(seen) > 8:
        return None  # a loop (refused on save) or a chain too deep: treat as empty
    segment = Segment.objects.filter(pk=segment_id).only("definition").first()
    if segment is None:
        return None
    return definition_people(segment.definition, _seen=seen | {segment_id})


def _day_start(day: str) -> datetime:
    return timezone.make_aware(datetime.combine(datetime.fromisoformat(day).date(), time.min))


def _ids(queryset) -> Q:
    """Members as `id IN (SELECT person_id …)`: the database starts from the condition's own
    index (tag, coordinates, postal code) instead of visiting every person."""
    return Q(pk__in=queryset.values("person_id"))


def _condition(c: dict[str, Any], seen: frozenset[int]) -> Q:
    kind = c["type"]
    if kind == "tags":
        if not c["tags"]:
            return NOBODY
        if c["mode"] == "all":
            q = Q()
            for tag_id in c["tags"]:
                q &= _ids(Tagging.objects.filter(tag_id=tag_id))
            return q
        if c["mode"] == "none":
            return ~Q(Exists(Tagging.objects.filter(person=OuterRef("pk"), tag_id__in=c["tags"])))
        return _ids(Tagging.objects.filter(tag_id__in=c["tags"]))
    if kind == "email_status":
        statuses = [s for s in c["statuses"] if s != "none"]
        q = NOBODY
        if statuses:
            # Most people are subscribed: checking each candidate beats listing them all.
            q = Q(Exists(EmailAddress.objects.filter(person=OuterRef("pk"), status__in=statuses)))
        if "none" in c["statuses"]:
            q |= ~Q(Exists(EmailAddress.objects.filter(person=OuterRef("pk"))))
        return q
    if kind == "phone":
        q = Q()
        if c.get("has_phone") is True:
            q &= Q(Exists(PhoneNumber.objects.filter(person=OuterRef("pk"))))
        elif c.get("has_phone") is False:
            q &= ~Q(Exists(PhoneNumber.objects.filter(person=OuterRef("pk"))))
        if c.get("sms_consent"):
            q &= _ids(PhoneNumber.objects.filter(sms_consent=True))
        return q
    if kind == "place":
        return _ids(_place_addresses(c))
    if kind == "near":
        return _ids(near_addresses(c["lat"], c["lng"], _radius_km(c)))
    if kind == "created":
        q = Q()
        if c.get("after"):
            q &= Q(created_at__gte=_day_start(c["after"]))
        if c.get("before"):
            q &= Q(created_at__lt=_day_start(c["before"]) + timedelta(days=1))
        return q
    if kind == "source":
        q = NOBODY
        for source in c["sources"]:
            q |= Q(source__iexact=source)
        return q
    if kind == "custom_field":
        value = KeyTextTransform(c["key"], "custom_fields")
        if c["value"]:
            return Q(Exact(value, c["value"]))
        return Q(Exists(Person.objects.filter(pk=OuterRef("pk"), custom_fields__has_key=c["key"])))
    if kind == "activity":
        acts = Activity.objects.filter(kind=c["kind"])
        if c.get("campaign") is not None:
            acts = acts.filter(campaign_id=c["campaign"])
        if c.get("since"):
            acts = acts.filter(created_at__gte=_day_start(c["since"]))
        if c.get("did", True):
            return _ids(acts)
        return ~Q(Exists(acts.filter(person=OuterRef("pk"))))
    if kind == "people":
        return Q(pk__in=c["people"]) if c["people"] else NOBODY
    if kind == "segments":
        q = NOBODY
        for segment_id in c["segments"]:
            members = _segment_members(segment_id, seen)
            if members is not None:
                q |= Q(pk__in=members.values("pk"))
        return q
    raise ValueError(f"Unknown condition type {kind!r}")


def _place_addresses(c: dict[str, Any]) -> QuerySet[PostalAddress]:
    address = Q()
    if c.get("postal_codes"):
        codes = Q()
        for code in c["postal_codes"]:
            if code.endswith("*"):
                codes |= Q(postal_code__startswith=code.rstrip("*"))
            else:
                codes |= Q(postal_code=code)
        address &= codes
    if c.get("regions"):
        address &= Q(region__in=c["regions"])
    if c.get("countries"):
        address &= Q(country__in=c["countries"])
    return PostalAddress.objects.filter(address, primary=True)


def distance_km_expression(lat: float, lng: float):
    """Great-circle distance (haversine) from (lat, lng) to a PostalAddress row, in SQL."""
    dlat = Radians(F("latitude") - lat)
    dlng = Radians(F("longitude") - lng)
    a = Power(Sin(dlat / 2), 2) + math.cos(math.radians(lat)) * Cos(Radians(F("latitude"))) * Power(
        Sin(dlng / 2), 2
    )
    return 2 * EARTH_RADIUS_KM * ASin(Sqrt(a))


def _radius_km(c: dict[str, Any]) -> float:
    return c["radius"] * 1.609344 if c.get("unit", "mi") == "mi" else c["radius"]


def near_addresses(lat: float, lng: float, radius_km: float) -> QuerySet[PostalAddress]:
    """Primary addresses within `radius_km` of a point: the (latitude, longitude) index narrows
    to a bounding box, then the exact great-circle distance decides."""
    min_lat, max_lat, min_lng, max_lng = bounding_box(lat, lng, radius_km)
    return (
        PostalAddress.objects.filter(
            primary=True,
            latitude__range=(min_lat, max_lat),
            longitude__range=(min_lng, max_lng),
        )
        .annotate(distance_km=distance_km_expression(lat, lng))
        .filter(distance_km__lte=radius_km)
    )


def segments_list() -> QuerySet[Segment]:
    return Segment.objects.select_related("created_by").order_by("name")


def segments_using(segment: Segment) -> list[Segment]:
    """Other segments that include or exclude this one."""
    from .definition import referenced_segments

    return [
        other
        for other in Segment.objects.exclude(pk=segment.pk).only("pk", "name", "definition")
        if segment.pk in referenced_segments(other.definition)
    ]


def definition_summary(definition: dict[str, Any]) -> list[str]:
    """The definition in plain words, one line per condition (names looked up in 3 queries)."""
    from rallypoint.ledger.hooks import campaigns_by_id
    from rallypoint.ledger.kinds import KINDS
    from rallypoint.people.models import Tag

    from .definition import EMAIL_STATUS_CHOICES, referenced_segments

    conditions = definition.get("conditions", [])
    tag_ids = {t for c in conditions if c["type"] == "tags" for t in c["tags"]}
    tags = dict(Tag.objects.filter(pk__in=tag_ids).values_list("pk", "name")) if tag_ids else {}
    seg_ids = referenced_segments(definition)
    segments = (
        dict(Segment.objects.filter(pk__in=seg_ids).values_list("pk", "name")) if seg_ids else {}
    )
    campaign_ids = {c["campaign"] for c in conditions if c["type"] == "activity" and c["campaign"]}
    campaigns = {pk: campaign.name for pk, campaign in campaigns_by_id(campaign_ids).items()}
    statuses = dict(EMAIL_STATUS_CHOICES)

    def names(ids, known):
        return ", ".join(known.get(i, "(deleted)") for i in ids)

    lines = []
    for c in conditions:
        kind = c["type"]
        if kind == "tags":
            verb = {"any": "any of", "all": "all of", "none": "none of"}[c["mode"]]
            lines.append(f"Tagged with {verb}: {names(c['tags'], tags)}")
        elif kind == "email_status":
            lines.append("Email: " + " or ".join(statuses.get(s, s) for s in c["statuses"]))
        elif kind == "phone":
            if c.get("sms_consent"):
                lines.append("Agreed to text messages")
            else:
                lines.append("Has a phone number" if c["has_phone"] else "Has no phone number")
        elif kind == "place":
            parts = [
                *(f"ZIP {z}" for z in c["postal_codes"]),
                *c["regions"],
                *c["countries"],
            ]
            lines.append("Lives in " + ", ".join(parts))
        elif kind == "near":
            unit = "miles" if c["unit"] == "mi" else "km"
            where = f"ZIP {c['postal_code']}" if c["postal_code"] else f"{c['lat']}, {c['lng']}"
            lines.append(f"Within {c['radius']:g} {unit} of {where}")
        elif kind == "created":
            lines.append(
                "Joined"
                + (f" on or after {c['after']}" if c.get("after") else "")
                + (" and" if c.get("after") and c.get("before") else "")
                + (f" on or before {c['before']}" if c.get("before") else "")
            )
        elif kind == "source":
            lines.append("Source is " + " or ".join(c["sources"]))
        elif kind == "custom_field":
            lines.append(f"{c['key']} = {c['value']}" if c["value"] else f"Has {c['key']}")
        elif kind == "activity":
            label = KINDS[c["kind"]].label if c["kind"] in KINDS else c["kind"]
            text = ("" if c.get("did", True) else "Never ") + label
            if c.get("campaign"):
                text += f" in {campaigns.get(c['campaign'], '(deleted campaign)')}"
            if c.get("since"):
                text += f" since {c['since']}"
            lines.append(text[0].upper() + text[1:])
        elif kind == "segments":
            lines.append(f"In segment: {names(c['segments'], segments)}")
        elif kind == "people":
            count = len(c["people"])
            lines.append(f"Picked by hand: {count:,} {'person' if count == 1 else 'people'}")
    if len(lines) > 1:
        lines.insert(0, "Every condition:" if definition.get("match") != "any" else "Any of:")
    if not lines:
        lines = ["Everyone"]
    if definition.get("exclude_segments"):
        lines.append(f"Leaving out: {names(definition['exclude_segments'], segments)}")
    return lines
