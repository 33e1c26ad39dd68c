"""Rate limits count the address the operator's proxy saw, never one the client wrote."""

import pytest
from django.test import RequestFactory
from django.urls import reverse

from rallypoint.core.ratelimit import client_ip

PROXY = "10.0.0.2"  # the reverse proxy, as the application sees it (REMOTE_ADDR)
EDGE = "10.0.0.1"  # a second proxy in front of it (a CDN, a load balancer)


@pytest.fixture
def behind_one_proxy(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.TRUST_X_FORWARDED_FOR = True  # how the same deployment was described before


def _ip(forwarded: str | None, remote: str = PROXY) -> str:
    headers = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return client_ip(RequestFactory().get("/", **headers))


def test_client_ip_behind_one_proxy_is_the_address_the_proxy_appended(behind_one_proxy):
    # The client wrote "1.1.1.1, 2.2.2.2"; the proxy appended the address it saw.
    assert _ip("1.1.1.1, 2.2.2.2, 198.51.100.7") == "198.51.100.7"
    assert _ip("198.51.100.7") == "198.51.100.7"


def test_client_ip_behind_two_proxies_skips_the_inner_proxy_entry(settings):
    settings.TRUSTED_PROXY_COUNT = 2
    assert _ip(f"6.6.6.6, 198.51.100.7, {EDGE}") == "198.51.100.7"


def test_client_ip_without_trusted_proxies_ignores_the_header(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert _ip("198.51.100.7", remote="203.0.113.9") == "203.0.113.9"


@pytest.mark.parametrize(
    "forwarded",
    [
        None,  # the proxy was bypassed or does not add the header
        "",
        "not-an-address",
        "198.51.100.7, <script>",
        "198.51.100.7,",  # the proxy's entry is empty
        "\x00",
        "999.1.1.1",
    ],
)
def test_client_ip_with_a_malformed_header_falls_back_to_the_peer(behind_one_proxy, forwarded):
    assert _ip(forwarded) == PROXY


def test_client_ip_with_fewer_entries_than_proxies_falls_back_to_the_peer(settings):
    settings.TRUSTED_PROXY_COUNT = 2
    assert _ip("198.51.100.7") == PROXY


@pytest.mark.parametrize(
    ("forwarded", "counted"),
    [
        ("198.51.100.7:51234", "198.51.100.7"),
        ("[2001:db8:1:2::7]:51234", "2001:db8:1:2::/64"),
        ("2001:DB8:1:2:aaaa::7", "2001:db8:1:2::/64"),
        ("::ffff:198.51.100.7", "198.51.100.7"),
    ],
)
def test_client_ip_reads_ports_brackets_and_mapped_addresses(behind_one_proxy, forwarded, counted):
    assert _ip(forwarded) == counted


def test_client_ip_counts_one_ipv6_network_as_one_client(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    assert _ip(None, remote="2001:db8:1:2::1") == _ip(None, remote="2001:db8:1:2:ffff::9")
    assert _ip(None, remote="2001:db8:1:3::1") != _ip(None, remote="2001:db8:1:2::1")


@pytest.mark.django_db
def test_join_rate_limit_behind_a_proxy_counts_a_client_rotating_its_forwarded_header(
    client, settings, behind_one_proxy
):
    """The attack: each request writes a fresh leftmost X-Forwarded-For entry; the proxy
    appends the same real address each time."""
    settings.JOIN_RATE_LIMIT = (3, 600)
    statuses = [
        client.post(
            reverse("people:join"),
            {},
            REMOTE_ADDR=PROXY,
            HTTP_X_FORWARDED_FOR=f"203.0.113.{n}, 198.51.100.7",
        ).status_code
        for n in range(5)
    ]
    assert statuses == [200, 200, 200, 429, 429]
    # Another visitor behind the same proxy still gets in.
    other = client.post(
        reverse("people:join"), {}, REMOTE_ADDR=PROXY, HTTP_X_FORWARDED_FOR="198.51.100.8"
    )
    assert other.status_code == 200
