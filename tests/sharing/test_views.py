from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

from rallypoint.ledger.models import Activity
from rallypoint.sharing.kit import share_kit_build, share_token
from tests.factories import PersonFactory
from tests.mission.factories import CampaignFactory

pytestmark = pytest.mark.django_db


def _kit(person, campaign, url="/campaigns/schools/"):
    return share_kit_build(person=person, url=url, title="Fund our schools", campaign=campaign)


def _href(kit, channel):
    return next(link.href for link in kit.links if link.channel == channel)


def test_share_go_records_one_share_act_then_redirects_to_intent(client, settings):
    settings.SITE_URL = "https://rally.example"
    campaign = CampaignFactory(slug="schools", points={"share": 2})
    person = PersonFactory(share_code="abcd2345")
    response = client.get(_href(_kit(person, campaign), "whatsapp"))
    assert response.status_code == 302
    location = urlsplit(response["Location"])
    assert (location.scheme, location.netloc) == ("https", "wa.me")
    text = parse_qs(location.query)["text"][0]
    assert text.endswith("https://rally.example/campaigns/schools/?ref=abcd2345&ch=whatsapp")
    act = Activity.objects.get()
    assert (act.person, act.kind, act.channel, act.campaign, act.points) == (
        person,
        "share",
        "whatsapp",
        campaign,
        2,
    )
    assert act.details == {"page": "/campaigns/schools/"}


def test_share_go_counts_once_per_person_page_channel_and_day(client):
    campaign = CampaignFactory()
    person = PersonFactory()
    kit = _kit(person, campaign)
    for _ in range(3):
        client.get(_href(kit, "x"))
    client.get(_href(kit, "facebook"))
    client.get(_href(_kit(person, campaign, url="/act/petition/"), "x"))
    assert sorted(Activity.objects.values_list("channel", "details__page")) == [
        ("facebook", "/campaigns/schools/"),
        ("x", "/act/petition/"),
        ("x", "/campaigns/schools/"),
    ]


def test_share_go_email_and_sms_hand_over_to_apps(client):
    kit = _kit(PersonFactory(share_code="abcd2345"), CampaignFactory())
    email = client.get(_href(kit, "email"))["Location"]
    sms = client.get(_href(kit, "sms"))["Location"]
    assert email.startswith("mailto:?subject=Will%20you%20join%20me%3F%20Fund%20our%20schools")
    assert "ref%3Dabcd2345%26ch%3Demail" in email
    assert sms.startswith("sms:?&body=") and "ref%3Dabcd2345%26ch%3Dsms" in sms


def test_share_go_copy_beacon_records_direct_share_without_redirect(client):
    person = PersonFactory()
    kit = _kit(person, CampaignFactory())
    response = client.get(kit.copy_beacon)
    assert response.status_code == 204
    assert list(Activity.objects.values_list("channel", flat=True)) == ["direct"]


def test_share_go_mastodon_asks_for_server_then_redirects(client):
    person = PersonFactory(share_code="abcd2345")
    href = _href(_kit(person, CampaignFactory()), "mastodon")
    token = parse_qs(urlsplit(href).query)["s"][0]
    ask = client.get(href)
    assert ask.status_code == 200
    assert b"Which one is your account on?" in ask.content
    assert b'method="post"' in ask.content
    assert Activity.objects.count() == 0
    bad = client.post(href, {"s": token, "instance": "not a server"})
    assert bad.status_code == 400
    assert b"Enter your Mastodon server&#x27;s name only, like mastodon.social." in bad.content
    assert Activity.objects.count() == 0
    good = client.post(href, {"s": token, "instance": "@ana@Mastodon.Social"})
    assert good.status_code == 302
    assert good["Location"].startswith("https://mastodon.social/share?text=")
    assert "ch%3Dmastodon" in good["Location"]
    assert good.cookies["rp_mastodon"].value == "mastodon.social"
    assert list(Activity.objects.values_list("channel", flat=True)) == ["mastodon"]


def test_share_go_mastodon_link_naming_a_server_never_redirects(client):
    """A crafted link (?instance=evil.example) on our domain must not send anyone anywhere: it
    only fills in the form, which the sharer submits themselves."""
    person = PersonFactory(share_code="abcd2345")
    href = _href(_kit(person, CampaignFactory()), "mastodon")
    response = client.get(href + "&instance=evil.example")
    assert response.status_code == 200
    assert "Location" not in response
    assert b'value="evil.example"' in response.content
    assert Activity.objects.count() == 0


def test_share_go_mastodon_post_needs_the_csrf_token(client):
    from django.test import Client

    person = PersonFactory(share_code="abcd2345")
    href = _href(_kit(person, CampaignFactory()), "mastodon")
    token = parse_qs(urlsplit(href).query)["s"][0]
    forged = Client(enforce_csrf_checks=True).post(href, {"s": token, "instance": "evil.example"})
    assert forged.status_code == 403
    assert "Location" not in forged
    assert Activity.objects.count() == 0


@pytest.mark.parametrize(
    "instance",
    [
        "https://evil.example/",
        "//evil.example",
        "evil.example/share",
        "mastodon.social:8443",
        "mastodon.social.",
        "user:pw@evil.example:443",
        "evil.example\\@mastodon.social",
        "evil.example?@mastodon.social",
        "evil.example#@mastodon.social",
        "mastodon.social@evil.example/x",
        "127.0.0.1",
        "2130706433",
        "[::1]",
        "javascript:alert(1)",
        "evil.example%2F",
        "mastodon.social\x00.evil.example",
        "<script>x</script>.example",
        "a" * 300 + ".example",
    ],
)
def test_share_go_mastodon_refuses_anything_but_a_server_name(client, instance):
    person = PersonFactory(share_code="abcd2345")
    href = _href(_kit(person, CampaignFactory()), "mastodon")
    token = parse_qs(urlsplit(href).query)["s"][0]
    response = client.post(href, {"s": token, "instance": instance})
    assert response.status_code == 400
    assert "Location" not in response
    assert b"Enter your Mastodon server&#x27;s name only, like mastodon.social." in response.content
    assert Activity.objects.count() == 0


def test_share_go_mastodon_refuses_invalid_utf8_in_the_server_name(client):
    person = PersonFactory(share_code="abcd2345")
    href = _href(_kit(person, CampaignFactory()), "mastodon")
    token = parse_qs(urlsplit(href).query)["s"][0]
    body = b"s=" + token.encode() + b"&instance=mastodon.%ED%A0%80social"
    response = client.post(href, body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 400
    assert "Location" not in response
    assert Activity.objects.count() == 0


def test_share_go_tampered_token_records_nothing(client):
    token = share_token(person=PersonFactory(), campaign=None, url="/", title="x")
    response = client.get(reverse("sharing:go", args=["x"]), {"s": token[:-3] + "abc"})
    assert response.status_code == 400
    assert b"That share link is broken" in response.content
    assert Activity.objects.count() == 0


def test_share_go_unknown_channel_is_rejected(client):
    token = share_token(person=PersonFactory(), campaign=None, url="/", title="x")
    response = client.get(reverse("sharing:go", args=["myspace"]), {"s": token})
    assert response.status_code == 400
    assert Activity.objects.count() == 0


def test_share_go_without_sharer_redirects_without_code(client, settings):
    settings.SITE_URL = "https://rally.example"
    kit = share_kit_build(person=None, url="/campaigns/schools/", title="T", campaign=None)
    location = client.get(_href(kit, "facebook"))["Location"]
    assert parse_qs(urlsplit(location).query) == {"u": ["https://rally.example/campaigns/schools/"]}
    assert Activity.objects.count() == 0
