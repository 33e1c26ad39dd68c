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


@lru_cache(maxsize=1000)
def _zip_prefix_index(prefix: str) -> dict[str, tuple[str, str, str, str]]:
    # zipcodes.matching() costs ~1 ms a call, which a national import pays for each of ~42,000
    # codes. One similar_to() call per 3-digit prefix (~1,000 in all) loads the codes in bulk;
    # only (city, state, lat, long) is kept, so all of them take ~15 MB.
    return {
        row["zip_code"]: (row.get("city", ""), row.get("state", ""), row["lat"], row["long"])
        for row in zipcodes.similar_to(prefix)
    }


@lru_cache(maxsize=65536)
def lookup_postal_code(postal_code: str, country: str = "US") -> Place | None:
    """The centre of a US ZIP code, or None when the code is unknown or not a US code."""
    code = (postal_code or "").strip()
    if country.upper() not in {"US", ""} or len(code) < 5:
        return None
    code = code[:5]
    if not code.isdigit():
        return None
    row = _zip_prefix_index(code[:3]).get(code)
    if row is None:
        return None
    city, state, lat_text, lng_text = row
    try:
        lat, lng = float(lat_text), float(lng_text)
    except (TypeError, ValueError):
        return None
    return Place(code, city.title(), state, "US", lat, lng)


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
