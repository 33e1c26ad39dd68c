"""Click and open tracking: signed per-recipient links that only lead to the mailing's own links,
counted once per recipient and link, people told apart from machines, and attribution kept."""

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from rallypoint.ledger.models import Activity
from rallypoint.messaging.models import Click, Delivery, DeliveryStatus, Mailing, MailingLink
from rallypoint.messaging.services.tracking import (
    PIXEL_GIF,
    delivery_token_sign,
    forward_url,
    html_track,
    machine_reason,
    mailing_links_freeze,
)
from tests.actions.factories import ActionFactory, CampaignFactory
from tests.messaging.factories import DeliveryFactory, MailingFactory

pytestmark = pytest.mark.django_db

CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
BODY = (
    '<p>Hi,</p><p><a href="https://example.org/act?x=1&amp;y=2">Act</a> and '
    "<a href='https://example.org/news'>read</a>, again "
    '<a href="https://example.org/act?x=1&amp;y=2">act</a>, '
    '<a href="mailto:team@example.org">write</a>, <a href="javascript:alert(1)">no</a>.</p>'
)


def _sent(**fields):
    """A delivery sent a minute ago (so a click now is past the scanners' seconds)."""
    mailing = fields.pop("mailing", None) or MailingFactory(body_html=fields.pop("body", BODY))
    return DeliveryFactory(
        mailing=mailing,
        status=DeliveryStatus.SENT,
        sent_at=timezone.now() - timedelta(minutes=1),
        **fields,
    )


def _wrapped(body: str) -> str:
    return f'<html><body><div><a href="https://example.org/">Brand</a></div>{body}</body></html>'


def _hrefs(html: str) -> list[str]:
    return re.findall(r'href="([^"]*)"', html.replace("'", '"'))


def _click_path(url: str) -> str:
    return urlsplit(url).path


# --- rewriting -------------------------------------------------------------------------------


def test_mailing_links_freeze_stores_each_http_link_once_in_order():
    mailing = MailingFactory(body_html=BODY)
    links = mailing_links_freeze(mailing)
    assert [(link.position, link.url) for link in links] == [
        (0, "https://example.org/act?x=1&y=2"),
        (1, "https://example.org/news"),
    ]
    mailing.body_html = '<a href="https://elsewhere.example/">changed</a>'
    mailing.save()
    again = mailing_links_freeze(mailing)
    assert [link.url for link in again] == [link.url for link in links]
    assert MailingLink.objects.filter(mailing=mailing).count() == 2


def test_html_track_rewrites_the_mailing_links_and_adds_the_pixel(settings):
    delivery = _sent()
    mailing_links_freeze(delivery.mailing)
    html = html_track(_wrapped(BODY), delivery=delivery)
    hrefs = _hrefs(html)
    prefix = settings.SITE_URL + "/mail/m/c/"
    assert hrefs[0] == "https://example.org/"  # the brand wrapper's link is not the mailing's
    assert [h.startswith(prefix) for h in hrefs[1:]] == [True, True, True, False, False]
    assert hrefs[1] == hrefs[3]  # the same link twice is one link
    assert hrefs[4:] == ["mailto:team@example.org", "javascript:alert(1)"]
    pixel = settings.SITE_URL + "/mail/m/o/"
    assert re.search(r'<img src="' + re.escape(pixel) + r'[^"]+\.gif"[^>]*></body>', html)


def test_html_track_switched_off_per_mailing_and_everywhere(settings):
    delivery = _sent()
    delivery.mailing.track_clicks = False
    html = html_track(_wrapped(BODY), delivery=delivery)
    assert "/mail/m/c/" not in html and "/mail/m/o/" in html
    delivery.mailing.track_clicks, delivery.mailing.track_opens = True, False
    html = html_track(_wrapped(BODY), delivery=delivery)
    assert "/mail/m/c/" in html and "/mail/m/o/" not in html
    settings.MAILING_TRACKING = False
    delivery.mailing.track_opens = True
    assert html_track(_wrapped(BODY), delivery=delivery) == _wrapped(BODY)


def test_html_track_reads_the_links_once_per_mailing(django_assert_num_queries):
    mailing = MailingFactory(body_html=BODY)
    mailing_links_freeze(Mailing.objects.get(pk=mailing.pk))
    deliveries = [_sent(mailing=mailing) for _ in range(3)]
    shared = Mailing.objects.get(pk=mailing.pk)
    for delivery in deliveries:
        delivery.mailing = shared
    with django_assert_num_queries(1):
        copies = [html_track(_wrapped(BODY), delivery=d) for d in deliveries]
    assert len({_hrefs(copy)[1] for copy in copies}) == 3  # one signed link per recipient


def test_html_track_freezes_the_links_when_sending_did_not():
    delivery = _sent()
    html = html_track(BODY, delivery=delivery)
    assert MailingLink.objects.filter(mailing=delivery.mailing).count() == 2
    assert _hrefs(html)[0].startswith("http")


# --- clicks ----------------------------------------------------------------------------------


def _links_of(delivery) -> list[str]:
    mailing_links_freeze(delivery.mailing)
    html = html_track(delivery.mailing.body_html, delivery=delivery)
    return [h for h in _hrefs(html) if "/mail/m/c/" in h]


def test_click_redirects_to_the_link_and_counts_once_per_recipient_and_link():
    delivery = _sent()
    first, second = _links_of(delivery)[:2]
    browser = Client(HTTP_USER_AGENT=CHROME)
    response = browser.get(_click_path(first))
    assert response.status_code == 302
    assert response["Location"] == "https://example.org/act?x=1&y=2"
    assert response["Referrer-Policy"] == "no-referrer"
    assert "no-store" in response["Cache-Control"]
    delivery.refresh_from_db()
    clicked_at = delivery.clicked_at
    assert clicked_at is not None and delivery.human_opened_at == clicked_at
    assert browser.get(_click_path(first))["Location"] == "https://example.org/act?x=1&y=2"
    assert browser.get(_click_path(second))["Location"] == "https://example.org/news"
    assert Click.objects.filter(delivery=delivery).count() == 2
    assert list(Click.objects.values_list("machine", flat=True)) == [False, False]
    delivery.refresh_from_db()
    assert delivery.clicked_at == clicked_at


def test_click_refuses_tampered_and_foreign_tokens():
    delivery = _sent()
    link = _links_of(delivery)[0]
    token = _click_path(link).split("/")[-2]
    head, position, sig = token.split(".")
    other = _sent()
    other_token = _click_path(_links_of(other)[1]).split("/")[-2]
    forged = [
        f"{head}.1.{sig}",  # another position with this link's signature
        f"{head}.0.{sig[:-1]}A" if sig[-1] != "A" else f"{head}.0.{sig[:-1]}B",
        f"{other_token.split('.')[0]}.0.{sig}",  # another recipient with this signature
        "https%3A%2F%2Fevil.example",
        "-",
        "x" * 500,
        f"{head}\x00.0.{sig}",
    ]
    client = Client(HTTP_USER_AGENT=CHROME)
    for bad in forged:
        response = client.get(reverse("messaging:track_click", args=[bad]))
        assert response.status_code == 400, bad
        assert "Location" not in response
    # Signed, but for a position the mailing has no link at.
    missing = delivery_token_sign(delivery.token, "click", "7")
    response = client.get(reverse("messaging:track_click", args=[missing]))
    assert response.status_code == 404
    assert "Location" not in response
    # A click token is not an open or unsubscribe token.
    assert client.get(reverse("messaging:unsubscribe", args=[token])).status_code == 400
    assert Click.objects.count() == 0


def test_click_with_a_query_string_still_goes_only_to_the_mailing_link():
    delivery = _sent()
    link = _links_of(delivery)[1]
    response = Client().get(_click_path(link) + "?url=https://evil.example/&next=//evil.example")
    assert response["Location"] == "https://example.org/news"


def test_click_by_a_scanner_then_by_the_person(settings):
    settings.MAILING_MACHINE_SECONDS = 10
    delivery = _sent()
    Delivery.objects.filter(pk=delivery.pk).update(sent_at=timezone.now())
    link = _links_of(delivery)[0]
    response = Client(HTTP_USER_AGENT=CHROME).get(_click_path(link))  # within 10 s of sending
    assert response.status_code == 302
    click = Click.objects.get()
    assert click.machine is True
    delivery.refresh_from_db()
    assert delivery.clicked_at is None
    Delivery.objects.filter(pk=delivery.pk).update(sent_at=timezone.now() - timedelta(hours=1))
    Client(HTTP_USER_AGENT=CHROME).get(_click_path(link))
    click.refresh_from_db()
    assert click.machine is False
    delivery.refresh_from_db()
    assert delivery.clicked_at is not None
    assert Click.objects.count() == 1


def test_click_head_request_is_a_machine():
    delivery = _sent()
    link = _links_of(delivery)[0]
    response = Client(HTTP_USER_AGENT=CHROME).head(_click_path(link))
    assert response.status_code == 302
    assert Click.objects.get().machine is True
    delivery.refresh_from_db()
    assert delivery.clicked_at is None


def test_click_to_this_site_carries_the_recipient_referral_and_acts_follow_on_email(settings):
    action = ActionFactory()
    page = settings.SITE_URL + reverse("actions:detail", args=[action.slug])
    delivery = _sent(body=f'<a href="{page}?utm_source=mail#sign">Sign</a>')
    delivery.person.email_addresses.create(
        address="ana@example.org", address_normalized="ana@example.org", primary=True
    )
    link = _links_of(delivery)[0]
    browser = Client(HTTP_USER_AGENT=CHROME)
    location = browser.get(_click_path(link))["Location"]
    parts = urlsplit(location)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == page
    assert parse_qs(parts.query) == {
        "utm_source": ["mail"],
        "ref": [delivery.person.share_code],
        "ch": ["email"],
    }
    assert parts.fragment == "sign"
    assert browser.get(f"{parts.path}?{parts.query}").status_code == 200
    browser.post(
        parts.path,
        {
            "given_name": "Ana",
            "family_name": "Ruiz",
            "email": "ana@example.org",
            "postal_code": "80202",
        },
    )
    act = Activity.objects.get(kind="sign")
    assert (act.person_id, act.channel, act.referrer) == (delivery.person_id, "email", None)


def test_forward_url_carries_the_recipient_share_code_on_email():
    campaign = CampaignFactory(slug="buses")
    delivery = _sent(mailing=MailingFactory(campaign=campaign))
    url = urlsplit(forward_url(delivery))
    assert url.path == reverse("mission:detail", args=["buses"])
    assert parse_qs(url.query) == {"ref": [delivery.person.share_code], "ch": ["email"]}
    without = urlsplit(forward_url(_sent()))
    assert without.path == reverse("people:join")


# --- opens -----------------------------------------------------------------------------------


def _pixel_path(delivery) -> str:
    return reverse("messaging:track_open", args=[delivery_token_sign(delivery.token, "open")])


def test_open_pixel_is_a_gif_never_cached_and_counts_human_opens():
    delivery = _sent()
    response = Client(HTTP_USER_AGENT=CHROME).get(_pixel_path(delivery))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/gif"
    assert response.content == PIXEL_GIF and PIXEL_GIF.startswith(b"GIF89a")
    assert "no-store" in response["Cache-Control"]
    assert "Set-Cookie" not in response
    Client(HTTP_USER_AGENT=CHROME).get(_pixel_path(delivery))
    delivery.refresh_from_db()
    assert delivery.open_count == 2
    assert delivery.opened_at == delivery.human_opened_at is not None


@pytest.mark.parametrize(
    "user_agent",
    [
        "Mozilla/5.0",
        "Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)",
        "YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html",
        "Barracuda Sentinel (EE)",
        "python-requests/2.32.3",
        "",
    ],
)
def test_open_by_a_proxy_or_scanner_is_counted_but_not_as_a_person(user_agent):
    delivery = _sent()
    Client(HTTP_USER_AGENT=user_agent).get(_pixel_path(delivery))
    delivery.refresh_from_db()
    assert (delivery.open_count, delivery.human_opened_at) == (1, None)
    assert delivery.opened_at is not None


def test_open_within_seconds_of_sending_or_by_head_is_a_machine(settings):
    settings.MAILING_MACHINE_SECONDS = 5
    delivery = _sent()
    Client(HTTP_USER_AGENT=CHROME).head(_pixel_path(delivery))
    Delivery.objects.filter(pk=delivery.pk).update(sent_at=timezone.now() - timedelta(seconds=1))
    Client(HTTP_USER_AGENT=CHROME).get(_pixel_path(delivery))
    delivery.refresh_from_db()
    assert (delivery.open_count, delivery.human_opened_at) == (2, None)


def test_open_pixel_with_a_bad_token_is_still_a_gif_and_records_nothing():
    delivery = _sent()
    for bad in ["-", delivery_token_sign(delivery.token, "click", "0"), "a" * 300]:
        response = Client().get(reverse("messaging:track_open", args=[bad]))
        assert (response.status_code, response.content) == (200, PIXEL_GIF)
    delivery.refresh_from_db()
    assert (delivery.open_count, delivery.opened_at) == (0, None)


def test_machine_reason_names_each_rule(settings):
    settings.MAILING_MACHINE_SECONDS = 5
    now = timezone.now()
    old = now - timedelta(hours=1)
    cases = {
        ("Mozilla/5.0", False, old): "Apple Mail Privacy Protection",
        ("x GoogleImageProxy", False, old): "Google image proxy",
        ("YahooMailProxy", False, old): "Yahoo image proxy",
        ("Mozilla/5.0 (compatible; bingbot/2.0)", False, old): "bot or scanner",
        (CHROME, True, old): "HEAD request",
        (CHROME, False, now - timedelta(seconds=2)): "within 5 s of sending",
        (CHROME, False, old): "",
        (CHROME, False, None): "",
    }
    for (ua, head, sent_at), reason in cases.items():
        assert machine_reason(user_agent=ua, head=head, sent_at=sent_at, at=now) == reason
