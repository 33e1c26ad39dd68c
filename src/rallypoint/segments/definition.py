"""What a segment means, as JSON, and the one function that checks it.

    {"match": "all" | "any",
     "conditions": [
        {"type": "tags", "mode": "any" | "all" | "none", "tags": [<tag id>, …]},
        {"type": "email_status", "statuses": ["subscribed", …, "none"]},   # "none": no address
        {"type": "phone", "has_phone": true | false, "sms_consent": true | null},
        {"type": "place", "postal_codes": ["80202", "802*"], "regions": ["CO"],
         "countries": ["US"]},
        {"type": "near", "postal_code": "80202" | "", "lat": 39.7, "lng": -104.9,
         "radius": 25, "unit": "mi" | "km"},
        {"type": "created", "after": "2024-01-01" | null, "before": "2024-12-31" | null},
        {"type": "source", "sources": ["spring.csv", …]},
        {"type": "custom_field", "key": "team", "value": "north"},
        {"type": "activity", "kind": "sign", "campaign": <campaign id> | null,
         "since": "2024-01-01" | null, "did": true | false},
        {"type": "segments", "segments": [<segment id>, …]},                # in any of these
        {"type": "people", "people": [<person id>, …]}                      # picked by hand
     ],
     "exclude_segments": [<segment id>, …]}

Conditions combine with AND ("all") or OR ("any"); excluded segments are always left out.
Locations use each person's primary postal address.
"""

from datetime import date
from typing import Any

from django.core.exceptions import ValidationError

from rallypoint.core.geo import lookup_postal_code
from rallypoint.ledger.hooks import campaigns_by_id
from rallypoint.ledger.kinds import KINDS
from rallypoint.people.models import EmailStatus, Tag

CONDITION_TYPES = (
    "tags",
    "email_status",
    "phone",
    "place",
    "near",
    "created",
    "source",
    "custom_field",
    "activity",
    "segments",
    "people",
)
# People picked by hand into one segment (from the people list or "whom to ask next").
MAX_PICKED = 10_000
EMAIL_STATUS_CHOICES = [*EmailStatus.choices, ("none", "No email address")]
MAX_RADIUS_KM = 5000.0
MAX_CONDITIONS = 50
MAX_DEPTH = 8


def empty_definition() -> dict[str, Any]:
    return {"match": "all", "conditions": [], "exclude_segments": []}


def _ids(value: Any, what: str, errors: list[str]) -> list[int]:
    if not isinstance(value, list) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in value
    ):
        errors.append(f"{what} must be a list of ids.")
        return []
    return list(dict.fromkeys(value))


def _strings(value: Any, what: str, errors: list[str], *, limit: int = 200) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        errors.append(f"{what} must be a list of texts.")
        return []
    cleaned = [v.strip() for v in value if v.strip()]
    if any(len(v) > limit for v in cleaned):
        errors.append(f"{what}: keep each one under {limit} characters.")
    return list(dict.fromkeys(cleaned))


def _date(value: Any, what: str, errors: list[str]) -> str | None:
    if value in (None, ""):
        return None
    try:
        return date.fromisoformat(str(value)).isoformat()
    except ValueError:
        errors.append(f"{what}: use a date like 2024-05-31.")
        return None


def _clean_condition(raw: Any, errors: list[str]) -> dict[str, Any] | None:
    if not isinstance(raw, dict) or raw.get("type") not in CONDITION_TYPES:
        errors.append(f"Unknown condition: {str(raw)[:80]}.")
        return None
    kind = raw["type"]
    if kind == "tags":
        mode = raw.get("mode", "any")
        if mode not in {"any", "all", "none"}:
            errors.append("Tags: choose any, all or none.")
        tags = _ids(raw.get("tags"), "Tags", errors)
        known = set(Tag.objects.filter(pk__in=tags).values_list("pk", flat=True))
        if set(tags) - known:
            errors.append("Tags: one of the chosen tags no longer exists.")
        if not tags:
            errors.append("Tags: choose at least one tag.")
        return {"type": kind, "mode": mode, "tags": tags}
    if kind == "email_status":
        statuses = _strings(raw.get("statuses"), "Email status", errors)
        allowed = {value for value, _ in EMAIL_STATUS_CHOICES}
        if not statuses or set(statuses) - allowed:
            errors.append("Email status: choose from the listed statuses.")
        return {"type": kind, "statuses": statuses}
    if kind == "phone":
        has_phone, consent = raw.get("has_phone"), raw.get("sms_consent")
        if has_phone not in (True, False, None) or consent not in (True, None):
            errors.append("Phone: has_phone is true/false, sms_consent is true or empty.")
        if has_phone is None and consent is None:
            errors.append("Phone: choose 'has a phone', 'no phone' or 'agreed to texts'.")
        return {"type": kind, "has_phone": has_phone, "sms_consent": consent}
    if kind == "place":
        codes = _strings(raw.get("postal_codes", []), "ZIP codes", errors, limit=21)
        regions = [r.upper() for r in _strings(raw.get("regions", []), "States", errors)]
        countries = [c.upper() for c in _strings(raw.get("countries", []), "Countries", errors)]
        if any(len(c) != 2 for c in countries):
            errors.append("Countries: use two-letter codes such as US.")
        if not (codes or regions or countries):
            errors.append("Place: give ZIP codes, states or countries.")
        return {"type": kind, "postal_codes": codes, "regions": regions, "countries": countries}
    if kind == "near":
        return _clean_near(raw, errors)
    if kind == "created":
        after = _date(raw.get("after"), "Joined after", errors)
        before = _date(raw.get("before"), "Joined before", errors)
        if not after and not before:
            errors.append("Joined: give a start date, an end date or both.")
        elif after and before and after > before:
            errors.append("Joined: the start date is after the end date.")
        return {"type": kind, "after": after, "before": before}
    if kind == "source":
        sources = _strings(raw.get("sources"), "Source", errors)
        if not sources:
            errors.append("Source: give at least one source.")
        return {"type": kind, "sources": sources}
    if kind == "custom_field":
        key, value = str(raw.get("key") or "").strip(), str(raw.get("value") or "").strip()
        if not key or len(key) > 100 or len(value) > 1000:
            errors.append("Custom field: give a field name (and the value it must have).")
        return {"type": kind, "key": key, "value": value}
    if kind == "activity":
        return _clean_activity(raw, errors)
    if kind == "people":
        people = _ids(raw.get("people"), "People", errors)
        if not people:
            errors.append("People: pick at least one person.")
        elif len(people) > MAX_PICKED:
            errors.append(
                f"People: a segment holds at most {MAX_PICKED:,} people picked by hand; "
                "use tags or other conditions for more."
            )
        return {"type": kind, "people": people}
    segments = _ids(raw.get("segments"), "Segments", errors)
    if not segments:
        errors.append("Segments: choose at least one segment.")
    return {"type": kind, "segments": segments}


def _clean_near(raw: dict, errors: list[str]) -> dict[str, Any]:
    postal_code = str(raw.get("postal_code") or "").strip()
    unit = raw.get("unit", "mi")
    if unit not in {"mi", "km"}:
        errors.append("Distance: use miles (mi) or kilometres (km).")
    try:
        radius = float(raw.get("radius"))
    except (TypeError, ValueError):
        radius = 0.0
    radius_km = radius * 1.609344 if unit == "mi" else radius
    if not 0 < radius_km <= MAX_RADIUS_KM:
        errors.append("Distance: give a radius above 0 and up to 5,000 km (3,100 miles).")
    lat, lng = raw.get("lat"), raw.get("lng")
    if postal_code:
        place = lookup_postal_code(postal_code, "US")
        if place is None:
            errors.append(f"Distance: {postal_code[:12]} isn't a US ZIP code we know.")
        else:
            lat, lng = place.latitude, place.longitude
    try:
        lat, lng = float(lat), float(lng)
        if not (-90 <= lat <= 90 and -180 <= lng <= 180):
            raise ValueError
    except (TypeError, ValueError):
        if not postal_code:
            errors.append("Distance: give a ZIP code or a latitude and longitude.")
        lat = lng = 0.0
    return {
        "type": "near",
        "postal_code": postal_code,
        "lat": lat,
        "lng": lng,
        "radius": radius,
        "unit": unit,
    }


def _clean_activity(raw: dict, errors: list[str]) -> dict[str, Any]:
    kind = raw.get("kind")
    if kind not in KINDS:
        errors.append("Activity: choose what they did.")
    campaign = raw.get("campaign")
    if campaign is not None and (
        not isinstance(campaign, int) or campaign not in campaigns_by_id([campaign])
    ):
        errors.append("Activity: that campaign no longer exists.")
    did = raw.get("did", True)
    if did not in (True, False):
        errors.append("Activity: did is true or false.")
    since = _date(raw.get("since"), "Activity since", errors)
    return {"type": "activity", "kind": kind, "campaign": campaign, "since": since, "did": did}


def referenced_segments(definition: dict[str, Any]) -> set[int]:
    ids = set(definition.get("exclude_segments", []))
    for condition in definition.get("conditions", []):
        if condition.get("type") == "segments":
            ids.update(condition.get("segments", []))
    return ids


def definition_clean(raw: Any, *, segment_id: int | None = None) -> dict[str, Any]:
    """The checked, normalised definition; raises ValidationError listing every problem.
    `segment_id` is the segment being saved, to refuse definitions that lead back to it."""
    from .models import Segment

    errors: list[str] = []
    if not isinstance(raw, dict):
        raise ValidationError("A segment definition is a JSON object.")
    match = raw.get("match", "all")
    if match not in {"all", "any"}:
        errors.append("Match must be all or any.")
    conditions_raw = raw.get("conditions", [])
    if not isinstance(conditions_raw, list) or len(conditions_raw) > MAX_CONDITIONS:
        errors.append(f"Conditions must be a list of at most {MAX_CONDITIONS}.")
        conditions_raw = []
    conditions = [c for c in (_clean_condition(r, errors) for r in conditions_raw) if c]
    excluded = _ids(raw.get("exclude_segments", []), "Excluded segments", errors)
    definition = {"match": match, "conditions": conditions, "exclude_segments": excluded}
    referenced = referenced_segments(definition)
    if referenced:
        stored = dict(Segment.objects.values_list("pk", "definition"))
        if referenced - set(stored):
            errors.append("One of the chosen segments no longer exists.")
        if segment_id is not None and _leads_to(referenced, segment_id, stored):
            errors.append("A segment can't include or exclude itself, even through another one.")
    if errors:
        raise ValidationError(list(dict.fromkeys(errors)))
    return definition


def _leads_to(start: set[int], target: int, stored: dict[int, dict]) -> bool:
    seen: set[int] = set()
    todo = list(start)
    while todo:
        current = todo.pop()
        if current == target:
            return True
        if current in seen:
            continue
        seen.add(current)
        todo.extend(referenced_segments(stored.get(current) or {}))
    return False
