"""Who sent this visitor, on which channel: read from ?ref=CODE&ch=CHANNEL and a signed cookie."""

import json
import re

from django.conf import settings

from rallypoint.ledger.models import Channel
from rallypoint.people.referral import Referral

COOKIE_NAME = "rp_ref"
COOKIE_SALT = "rallypoint.referral"
CODE_RE = re.compile(r"^[a-z0-9]{4,16}$")


CHANNELS = frozenset(Channel.values)


def clean_channel(raw: str | None) -> str:
    value = (raw or "").strip().lower()
    if value in {"twitter", "tw"}:
        value = "x"
    if value in {"fb"}:
        value = "facebook"
    return value if value in CHANNELS else ("other" if value else "")


def from_query(params) -> Referral | None:
    code = (params.get("ref") or "").strip().lower()
    if not CODE_RE.match(code):
        return None
    return Referral(code=code, channel=clean_channel(params.get("ch")) or Channel.DIRECT)


def from_cookie(request) -> Referral | None:
    raw = request.get_signed_cookie(
        COOKIE_NAME, default=None, salt=COOKIE_SALT, max_age=referral_max_age()
    )
    if not raw:
        return None
    try:
        data = json.loads(raw)
        return Referral(code=str(data["code"]), channel=clean_channel(data.get("ch")))
    except (ValueError, KeyError, TypeError):
        return None


def referral_max_age() -> int:
    return int(getattr(settings, "REFERRAL_COOKIE_DAYS", 30)) * 24 * 3600


def cookie_value(referral: Referral) -> str:
    return json.dumps({"code": referral.code, "ch": referral.channel})
