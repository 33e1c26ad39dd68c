import time
from unittest import mock

import pytest
from django.core import signing

from rallypoint.people.referral import Referral
from rallypoint.sharing.referral import COOKIE_NAME, COOKIE_SALT, cookie_value
from tests.factories import PersonFactory, UserFactory

pytestmark = pytest.mark.django_db
PAGE = "/"


def _referral(response):
    return response.wsgi_request.referral


def test_referral_remembered_with_channel(client):
    client.get(PAGE, {"ref": "abcd2345", "ch": "twitter"})
    assert _referral(client.get(PAGE)) == Referral(code="abcd2345", channel="x")


def test_referral_without_channel_is_direct(client):
    assert _referral(client.get(PAGE, {"ref": "abcd2345"})) == Referral("abcd2345", "direct")


def test_referral_unknown_channel_becomes_other(client):
    assert _referral(client.get(PAGE, {"ref": "abcd2345", "ch": "myspace"})).channel == "other"


def test_referral_malformed_code_is_ignored(client):
    response = client.get(PAGE, {"ref": "<script>"})
    assert _referral(response) is None
    assert COOKIE_NAME not in response.cookies


def test_referral_first_touch_wins(client):
    client.get(PAGE, {"ref": "first2345", "ch": "email"})
    response = client.get(PAGE, {"ref": "second234", "ch": "sms"})
    assert _referral(response) == Referral("first2345", "email")
    assert _referral(client.get(PAGE)) == Referral("first2345", "email")


def test_referral_last_touch_when_configured(client, settings):
    settings.REFERRAL_ATTRIBUTION = "last"
    client.get(PAGE, {"ref": "first2345", "ch": "email"})
    client.get(PAGE, {"ref": "second234", "ch": "sms"})
    assert _referral(client.get(PAGE)) == Referral("second234", "sms")


def test_referral_cookie_expires_after_configured_days(client, settings):
    settings.REFERRAL_COOKIE_DAYS = 30
    signer = signing.get_cookie_signer(salt=COOKIE_NAME + COOKIE_SALT)
    with mock.patch("time.time", return_value=time.time() - 31 * 24 * 3600):
        client.cookies[COOKIE_NAME] = signer.sign(cookie_value(Referral("old23456", "x")))
    assert _referral(client.get(PAGE)) is None
    # ... and a new touch is remembered again
    client.get(PAGE, {"ref": "new234567"})
    assert _referral(client.get(PAGE)).code == "new234567"


def test_referral_cookie_within_lifetime_is_kept(client):
    signer = signing.get_cookie_signer(salt=COOKIE_NAME + COOKIE_SALT)
    with mock.patch("time.time", return_value=time.time() - 29 * 24 * 3600):
        client.cookies[COOKIE_NAME] = signer.sign(cookie_value(Referral("old23456", "x")))
    assert _referral(client.get(PAGE)) == Referral("old23456", "x")


def test_referral_tampered_cookie_is_ignored(client):
    client.cookies[COOKIE_NAME] = '{"code": "evil2345", "ch": "x"}'
    assert _referral(client.get(PAGE)) is None


def test_referral_cookie_is_httponly_and_lax(client):
    cookie = client.get(PAGE, {"ref": "abcd2345"}).cookies[COOKIE_NAME]
    assert (cookie["httponly"], cookie["samesite"], cookie["max-age"]) == (True, "Lax", 2592000)


def test_referral_own_link_does_not_lock_out_a_friends(client):
    person = PersonFactory()
    client.force_login(UserFactory(person=person))
    client.get(PAGE, {"ref": person.share_code, "ch": "x"})
    friend = client.get(PAGE, {"ref": "friend234", "ch": "sms"})
    assert _referral(friend) == Referral("friend234", "sms")


def test_referral_response_is_private_to_shared_caches(client):
    from tests.mission.factories import CampaignFactory

    CampaignFactory(slug="schools")
    assert client.get("/campaigns/schools/")["Cache-Control"] == "public, max-age=5"
    followed = client.get("/campaigns/schools/", {"ref": "abcd2345"})
    assert followed["Cache-Control"] == "max-age=5, private"


def test_share_link_visits_are_counted_once_per_browser_and_page(client):
    from django.test import Client

    from rallypoint.sharing.models import ShareVisit
    from tests.mission.factories import CampaignFactory

    sharer = PersonFactory()
    page = f"/campaigns/{CampaignFactory().slug}/"
    link = f"{page}?ref={sharer.share_code}&ch=x"
    assert client.get(link).status_code == 200
    client.get(link)  # a reload: the browser already came through this link
    Client().get(link)  # another browser
    visit = ShareVisit.objects.get()
    assert (visit.code, visit.channel, visit.path, visit.count) == (sharer.share_code, "x", page, 2)
    Client().get(f"/campaigns/nope/?ref={sharer.share_code}&ch=x")  # a 404 is not a visit
    assert ShareVisit.objects.get().count == 2
