"""Radius search in SQL on any database: a bounding box on the indexed latitude/longitude,
then the exact great-circle distance (haversine) as an annotation to filter and sort by."""

from django.db.models import F, FloatField, QuerySet, Value
from django.db.models.functions import ASin, Cos, Least, Power, Radians, Sin, Sqrt

from rallypoint.core.geo import EARTH_RADIUS_KM, bounding_box


def distance_km(lat: float, lng: float, lat_field: str = "latitude", lng_field: str = "longitude"):
    lat1, lng1 = Radians(Value(lat, FloatField())), Radians(Value(lng, FloatField()))
    lat2, lng2 = Radians(F(lat_field)), Radians(F(lng_field))
    a = Power(Sin((lat2 - lat1) / 2), 2) + Cos(lat1) * Cos(lat2) * Power(Sin((lng2 - lng1) / 2), 2)
    return Value(2 * EARTH_RADIUS_KM, FloatField()) * ASin(Least(Sqrt(a), Value(1.0, FloatField())))


def within_radius(
    qs: QuerySet, lat: float, lng: float, radius_km: float, *, prefix: str = ""
) -> QuerySet:
    """Rows of `qs` within `radius_km`, annotated with `distance_km`."""
    min_lat, max_lat, min_lng, max_lng = bounding_box(lat, lng, radius_km)
    lat_field, lng_field = f"{prefix}latitude", f"{prefix}longitude"
    return (
        qs.filter(
            **{
                f"{lat_field}__gte": min_lat,
                f"{lat_field}__lte": max_lat,
                f"{lng_field}__gte": min_lng,
                f"{lng_field}__lte": max_lng,
            }
        )
        .annotate(distance_km=distance_km(lat, lng, lat_field, lng_field))
        .filter(distance_km__lte=radius_km)
    )
