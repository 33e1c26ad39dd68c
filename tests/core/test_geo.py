"""Postal-code lookups."""

from rallypoint.core import geo


def test_lookup_gives_the_centre_of_a_real_code_and_none_for_others():
    geo.lookup_postal_code.cache_clear()
    denver = geo.lookup_postal_code("80202")
    assert (denver.locality, denver.region, denver.country) == ("Denver", "CO", "US")
    assert (denver.latitude, denver.longitude) == (39.7491, -104.9946)
    assert geo.lookup_postal_code("80202-1234") == denver
    for code, country in [("00000", "US"), ("8020", "US"), ("ABCDE", "US"), ("80202", "FR")]:
        assert geo.lookup_postal_code(code, country) is None
