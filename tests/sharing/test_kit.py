from urllib.parse import parse_qs, urlsplit

import pytest
from django.template import Context, Template
from django.test import RequestFactory

from rallypoint.sharing.kit import intent_url, share_kit_build, share_token_read, share_url
from tests.factories import PersonFactory
from tests.mission.factories import CampaignFactory


def test_share_url_adds_code_and_channel(settings):
    settings.SITE_URL = "https://rally.example"
    url = share_url("/campaigns/schools/?utm=x&ref=old&ch=sms", code="abc234", channel="x")
    assert url == "https://rally.example/campaigns/schools/?utm=x&ref=abc234&ch=x"


def test_share_url_without_code_is_the_clean_page(settings):
    settings.SITE_URL = "https://rally.example"
    assert share_url("/a/?ref=zzzz1", code=None, channel="x") == "https://rally.example/a/"


@pytest.mark.django_db
def test_share_kit_links_carry_sharers_code_and_each_channel(client, settings):
    settings.SITE_URL = "http://testserver"
    person = PersonFactory(share_code="abcd2345")
    campaign = CampaignFactory(slug="schools", name="Fund our schools")
    kit = share_kit_build(
        person=person, url="/campaigns/schools/", title=campaign.name, campaign=campaign
    )
    assert kit.url == "http://testserver/campaigns/schools/?ref=abcd2345&ch=direct"
    assert [link.channel for link in kit.links] == [
        "facebook",
        "x",
        "whatsapp",
        "email",
        "sms",
        "bluesky",
        "mastodon",
    ]
    for link in kit.links:
        if link.channel == "mastodon":
            continue
        response = client.get(link.href)
        assert response.status_code == 302
        location = response["Location"]
        assert f"ref%3Dabcd2345%26ch%3D{link.channel}" in location or (
            f"ref=abcd2345&ch={link.channel}" in location
        ), location


def test_intent_x_uses_organizer_text_and_url():
    campaign = CampaignFactory.build(share_texts={"x": "Stand with {title}!"})
    url = intent_url("x", url="https://r.example/c/?ref=a&ch=x", campaign=campaign, title="Ohio")
    query = parse_qs(urlsplit(url).query)
    assert url.startswith("https://x.com/intent/post?")
    assert query == {"text": ["Stand with Ohio!"], "url": ["https://r.example/c/?ref=a&ch=x"]}


def test_share_token_tampered_is_rejected():
    assert share_token_read("not-a-token") is None


@pytest.mark.django_db
def test_share_kit_tag_renders_personal_link(settings):
    settings.SITE_URL = "http://testserver"
    person = PersonFactory(share_code="wxyz2345")
    request = RequestFactory().get("/campaigns/x/")
    request.session = {}
    html = Template(
        "{% load sharing %}"
        "{% share_kit request=request person=person url='/campaigns/x/' title='X' %}"
    ).render(Context({"request": request, "person": person}))
    assert 'value="http://testserver/campaigns/x/?ref=wxyz2345&amp;ch=direct"' in html
    assert "Your personal link" in html
