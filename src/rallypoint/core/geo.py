"""Postal-code geocoding (US, from the `zipcodes` package) and distance helpers."""

import math
from dataclasses import dataclass
from functools import lru_cache

import zipcodes

EARTH_RADIUS_KM = 6371.0088
KM_PER_MILE = 1.609344


@dataclass(frozen=True)
class Place:
    postal_code: str
    locality: str
    region: str
    country: str
    latitude: float
    longitude: float


@lru_cache(maxsize=1)
def _zip_index() -> dict[str, dict]:
    # zipcodes.matching() scans all ~42,000 codes per call; an import of a national list would
    # spend most of its time there. One dict, built once per process (~0.2 s), answers directly.
    return {row["zip_code"]: row for row in zipcodes.list_all()}


@lru_cache(maxsize=65536)
def lookup_postal_code(postal_code: str, country: str = "US") -> Place | None:
    """The centre of a US ZIP code, or None when the code is unknown or not a US code."""
    code = (postal_code or "").strip()
    if country.upper() not in {"US", ""} or len(code) < 5:
        return None
    code = code[:5]
    if not code.isdigit():
        return None
    row = _zip_index().get(code)
    if row is None:
        return None
    try:
        lat, lng = float(row["lat"]), float(row["long"])
    except (KeyError, TypeError, ValueError):
        return None
    return Place(code, row.get("city", "").title(), row.get("state", ""), "US", lat, lng)


def to_km(distance: float, unit: str) -> float:
    return distance * KM_PER_MILE if unit in {"mi", "mile", "miles"} else distance


def haversine_km(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(min(1.0, math.sqrt(a)))


def bounding_box(lat: float, lng: float, radius_km: float) -> tuple[float, float, float, float]:
    """(min_lat, max_lat, min_lng, max_lng) enclosing the circle; filter by it, then by distance."""
    dlat = math.degrees(radius_km / EARTH_RADIUS_KM)
    cos_lat = max(math.cos(math.radians(lat)), 1e-6)
    dlng = math.degrees(radius_km / (EARTH_RADIUS_KM * cos_lat))
    return lat - dlat, lat + dlat, lng - dlng, lng + dlng
