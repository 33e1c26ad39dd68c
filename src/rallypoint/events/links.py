"""Private links to one RSVP (its page, its cancel link, its "change your shifts" page) and the
check that a link an event shows is a web address.

An RSVP's links carry a signature bound to the RSVP and to its person, made with the site's
SECRET_KEY. They are only sent by email to the person's own address (or shown to that person
when logged in), so typing someone's email on an event page never reaches their RSVP."""

from datetime import timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from django.conf import settings
from django.core import signing
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.urls import reverse

if TYPE_CHECKING:
    from .models import Rsvp

SALT = "rallypoint.events.rsvp-link"
# Long enough for an RSVP made months ahead; the link is useless once the event is over.
MAX_AGE = timedelta(days=400)
WEB_SCHEMES = ("http", "https")
web_url_validator = URLValidator(
    schemes=list(WEB_SCHEMES), message="Enter a web address starting with https:// or http://."
)


def _value(rsvp: "Rsvp") -> str:
    return f"{rsvp.uuid}.{rsvp.person.uuid}"


def rsvp_token(rsvp: "Rsvp") -> str:
    """The signature part of an RSVP's private links (the RSVP's id is in the path)."""
    value = _value(rsvp)
    signed = signing.TimestampSigner(salt=SALT).sign(value)
    return signed[len(value) + 1 :]


def rsvp_token_valid(rsvp: "Rsvp", token: str | None) -> bool:
    if not token or not isinstance(token, str) or len(token) > 200:
        return False
    try:
        signing.TimestampSigner(salt=SALT).unsign(f"{_value(rsvp)}:{token}", max_age=MAX_AGE)
    except signing.BadSignature:
        return False
    return True


def _signed(name: str, rsvp: "Rsvp") -> str:
    path = reverse(name, args=[rsvp.uuid])
    return f"{path}?{urlencode({'t': rsvp_token(rsvp)})}"


def rsvp_page_path(rsvp: "Rsvp") -> str:
    return _signed("events:rsvp_done", rsvp)


def rsvp_cancel_path(rsvp: "Rsvp") -> str:
    return _signed("events:rsvp_cancel", rsvp)


def rsvp_shifts_path(rsvp: "Rsvp") -> str:
    return _signed("events:rsvp_shifts", rsvp)


def rsvp_page_url(rsvp: "Rsvp") -> str:
    return settings.SITE_URL + rsvp_page_path(rsvp)


def rsvp_cancel_url(rsvp: "Rsvp") -> str:
    return settings.SITE_URL + rsvp_cancel_path(rsvp)


def is_web_url(value: str | None) -> bool:
    """True for an http(s) address; False for javascript:, data:, ftp: and anything else."""
    if not value or not isinstance(value, str):
        return False
    try:
        web_url_validator(value)
    except ValidationError:
        return False
    return True
