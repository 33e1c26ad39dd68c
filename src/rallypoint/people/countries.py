"""Country choices for forms, named by the `phonenumbers` metadata (no hand-kept list)."""

from functools import lru_cache

import phonenumbers
from phonenumbers import geocoder


@lru_cache(maxsize=1)
def country_choices() -> list[tuple[str, str]]:
    """(ISO alpha-2, English name), the United States first, then by name."""
    names = {}
    for region in phonenumbers.SUPPORTED_REGIONS:
        example = phonenumbers.example_number(region)
        name = geocoder.country_name_for_number(example, "en") if example else ""
        if name:
            names[region] = name
    others = sorted((item for item in names.items() if item[0] != "US"), key=lambda i: i[1])
    return [("US", "United States"), *others]
