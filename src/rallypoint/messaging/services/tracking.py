"""Signed click and open links inside sent mail, and whether an open or a click was a person's.

Every http(s) link of a mailing's body is frozen once, when sending starts, as a MailingLink
(position, url); each recipient's copy links to `/mail/m/c/<token>/`, whose token is the
delivery's public id, the link's position and a short HMAC of both. The redirect only ever goes
to a link of that mailing, looked up by position: a token for a position that does not exist or
with a bad signature answers a page saying the link is broken, never a redirect elsewhere. The
open pixel is `/mail/m/o/<token>.gif`.

Opens and clicks by machines (mail privacy proxies, image proxies, security scanners) are
recorded but told apart from people's by `machine_reason` (docs/email.md, "Tracking").
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from html import escape, unescape
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.db import transaction
from django.db.models import DateTimeField, F, Prefetch, Value, prefetch_related_objects
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.crypto import constant_time_compare, salted_hmac

from rallypoint.ledger.models import Channel
from rallypoint.sharing.kit import share_url

from ..models import Click, Delivery, Mailing, MailingLink

# The attribute Django's prefetch cache keeps a mailing's frozen links under (see `_links`).
LINKS_ATTR = "frozen_links"
URL_MAX = 2000  # MailingLink.url; longer links stay as they are (untracked)
TOKEN_MAX = 80  # any token longer than this is not one of ours

# A 1×1 transparent GIF.
PIXEL_GIF = base64.b64decode("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7")

# --- signed tokens ----------------------------------------------------------------------------
#
# <delivery token as 22 characters of base64url>[.<extra>].<12 characters of HMAC-SHA256>
# Each purpose (click, open, unsubscribe, preferences) has its own key, so a token made for one
# is refused by the others.


def _uuid22(value: uuid.UUID) -> str:
    return base64.urlsafe_b64encode(value.bytes).rstrip(b"=").decode()


def _sig(purpose: str, value: str, secret: str | None = None) -> str:
    digest = salted_hmac(
        f"rallypoint.messaging.{purpose}", value, secret=secret, algorithm="sha256"
    ).digest()
    return base64.urlsafe_b64encode(digest[:9]).decode()  # 72 bits, 12 characters


def _sig_valid(purpose: str, value: str, sig: str) -> bool:
    """Signed with SECRET_KEY or one of SECRET_KEY_FALLBACKS: rotating the key keeps the links
    in mail already sent working (unsubscribe links above all)."""
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return any(constant_time_compare(sig, _sig(purpose, value, secret)) for secret in secrets)


def delivery_token_sign(delivery_token: uuid.UUID, purpose: str, extra: str = "") -> str:
    """A short signed token naming one delivery (and `extra`, e.g. a link's position)."""
    head = _uuid22(delivery_token) + (f".{extra}" if extra else "")
    return f"{head}.{_sig(purpose, head)}"


def delivery_token_read(raw: str, purpose: str) -> tuple[uuid.UUID, str] | None:
    """(delivery token, extra) of a token made by `delivery_token_sign` for `purpose`, or None
    when it is malformed or its signature does not match."""
    if not raw or len(raw) > TOKEN_MAX:
        return None
    head, _, sig = raw.rpartition(".")
    if not head or not _sig_valid(purpose, head, sig):
        return None
    first, _, extra = head.partition(".")
    if len(first) != 22:
        return None
    try:
        return uuid.UUID(bytes=base64.urlsafe_b64decode(first + "==")), extra
    except (binascii.Error, ValueError):
        return None


# --- the links of a mailing -------------------------------------------------------------------


class _Hrefs(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "a":
            for name, value in attrs:
                if name == "href" and value:
                    self.urls.append(value.strip())


def _trackable(url: str) -> bool:
    return url.lower().startswith(("http://", "https://")) and len(url) <= URL_MAX


def body_links(html: str) -> list[str]:
    """The distinct http(s) links of `html`, in the order they first appear."""
    parser = _Hrefs()
    parser.feed(html or "")
    parser.close()
    return list(dict.fromkeys(url for url in parser.urls if _trackable(url)))


def mailing_links_freeze(mailing: Mailing) -> list[MailingLink]:
    """Store the links of the mailing's body as its MailingLinks (position 0, 1, …), once: a
    mailing whose links are stored keeps them (the first freeze wins, also against a concurrent
    one). Called when sending starts; returns the links, which html_track then reuses."""
    links = list(MailingLink.objects.filter(mailing=mailing).order_by("position"))
    if not links:
        urls = body_links(mailing.body_html)
        if urls:
            MailingLink.objects.bulk_create(
                [MailingLink(mailing=mailing, position=i, url=url) for i, url in enumerate(urls)],
                ignore_conflicts=True,
            )
            links = list(MailingLink.objects.filter(mailing=mailing).order_by("position"))
    # The same attribute Django's prefetch (to_attr) fills: later calls for this Mailing object
    # read it instead of the database.
    setattr(mailing, LINKS_ATTR, links)
    return links


def _links(mailing: Mailing) -> list[MailingLink]:
    """The mailing's frozen links, read once per Mailing object (Django's prefetch cache): a
    renderer that uses one Mailing object for all its deliveries pays one query in all."""
    if hasattr(mailing, LINKS_ATTR):
        return getattr(mailing, LINKS_ATTR)
    prefetch_related_objects(
        [mailing],
        Prefetch("links", queryset=MailingLink.objects.order_by("position"), to_attr=LINKS_ATTR),
    )
    links: list[MailingLink] = getattr(mailing, LINKS_ATTR)
    if not links:
        links = mailing_links_freeze(mailing)  # rendering before sending started: freeze now
    return links


# --- rewriting a recipient's copy ---------------------------------------------------------------

_HREF = re.compile(r"""(<a\b[^>]*?\shref\s*=\s*)(?:"([^"]*)"|'([^']*)')""", re.IGNORECASE)
_BODY_END = re.compile(r"</body\s*>", re.IGNORECASE)


def tracking_on(mailing: Mailing) -> tuple[bool, bool]:
    """(clicks, opens): whether this mailing's links and opens are tracked."""
    everywhere = bool(settings.MAILING_TRACKING)
    return everywhere and mailing.track_clicks, everywhere and mailing.track_opens


@lru_cache(maxsize=16)
def _token_url_parts(site_url: str, name: str) -> tuple[str, str]:
    """The absolute URL of route `name` around its token, reversed once per process (every
    message carries several such links: reversing each would dominate rendering)."""
    url = site_url + reverse(name, args=[TOKEN_PLACEHOLDER])
    before, after = url.split(TOKEN_PLACEHOLDER)
    return before, after


TOKEN_PLACEHOLDER = "TOKEN0PLACEHOLDER"


def token_url(name: str, token: str) -> str:
    """settings.SITE_URL + reverse(name, args=[token]), for the routes of sent mail."""
    before, after = _token_url_parts(settings.SITE_URL, name)
    return before + token + after


def click_url(delivery: Delivery, position: int) -> str:
    token = delivery_token_sign(delivery.token, "click", str(position))
    return token_url("messaging:track_click", token)


def open_url(delivery: Delivery) -> str:
    token = delivery_token_sign(delivery.token, "open")
    return token_url("messaging:track_open", token)


def html_track(html: str, *, delivery: Delivery, links: list[MailingLink] | None = None) -> str:
    """`html` (one recipient's copy of the mailing) with each link of the mailing's body pointing
    to its signed redirect and a 1×1 open pixel before `</body>`, as the mailing's and the
    site's tracking settings allow. Links that are not among the mailing's frozen links (the
    brand wrapper's, the unsubscribe link, links made of merge fields) stay as they are.

    `links`: the mailing's frozen links when the caller has them (mailing_links_freeze's
    answer); otherwise they are read once per Mailing object, so pass deliveries that share one
    (`delivery.mailing = mailing`) to render many without a query each."""
    mailing = delivery.mailing
    clicks, opens = tracking_on(mailing)
    if clicks:
        frozen = links if links is not None else _links(mailing)
        positions = {link.url: link.position for link in frozen}
        if positions:
            # Each link only adds its signature to the route's prefix.
            prefix = _token_url_parts(settings.SITE_URL, "messaging:track_click")[0]
            head = _uuid22(delivery.token)

            def rewrite(match: re.Match[str]) -> str:
                raw = match.group(2) if match.group(2) is not None else match.group(3)
                position = positions.get(unescape(raw).strip())
                if position is None:
                    return match.group(0)
                signed = f"{head}.{position}"
                url = f"{prefix}{signed}.{_sig('click', signed)}/"
                return f'{match.group(1)}"{escape(url)}"'

            html = _HREF.sub(rewrite, html)
    if opens:
        pixel = (
            f'<img src="{escape(open_url(delivery))}" width="1" height="1" alt="" '
            'style="display:block;width:1px;height:1px;border:0">'
        )
        ends = list(_BODY_END.finditer(html))
        if ends:
            at = ends[-1].start()
            html = html[:at] + pixel + html[at:]
        else:
            html += pixel
    return html


def forward_url(delivery: Delivery) -> str:
    """ "Forward to a friend": the mailing's campaign page (the Join page without one) carrying
    the recipient's own share code on channel email, so whoever acts through it is recorded as
    recruited by them, by email, in the social grid."""
    campaign = delivery.mailing.campaign
    page = (
        reverse("mission:detail", args=[campaign.slug])
        if campaign is not None
        else reverse("people:join")
    )
    return share_url(page, code=delivery.person.share_code, channel=Channel.EMAIL)


# --- people or machines -----------------------------------------------------------------------

# Security scanners and link checkers that announce themselves, and HTTP libraries no person
# reads mail with.
_BOT_UA = re.compile(
    r"\b(?:[a-z0-9-]*bot|crawler|spider|slurp|curl|wget|python-requests|python-urllib|aiohttp"
    r"|go-http-client|java|okhttp|libwww-perl|apache-httpclient|headlesschrome|phantomjs"
    r"|barracuda|mimecast|proofpoint|messagelabs|safelinks|scanner)\b",
    re.IGNORECASE,
)


def machine_reason(*, user_agent: str, head: bool, sent_at: datetime | None, at: datetime) -> str:
    """Why an open or a click looks like a machine's ("" when it looks like a person's).
    The rules and their sources are in docs/email.md ("Tracking")."""
    ua = (user_agent or "").strip()
    if head:
        return "HEAD request"
    if not ua:
        return "no user agent"
    if ua == "Mozilla/5.0":
        return "Apple Mail Privacy Protection"
    if "GoogleImageProxy" in ua:
        return "Google image proxy"
    if "YahooMailProxy" in ua:
        return "Yahoo image proxy"
    if _BOT_UA.search(ua):
        return "bot or scanner"
    seconds = int(settings.MAILING_MACHINE_SECONDS)
    if sent_at is not None and at - sent_at < timedelta(seconds=seconds):
        return f"within {seconds} s of sending"
    return ""


def _at(now: datetime) -> Value:
    return Value(now, output_field=DateTimeField())


# --- opens ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OpenResult:
    human: bool
    reason: str  # why it was judged a machine's ("" for a person)


def open_record(
    *, token: str, user_agent: str = "", head: bool = False, now: datetime | None = None
) -> OpenResult | None:
    """Count one load of the open pixel (see `delivery_open_record`). None (nothing recorded)
    for a token that is not a valid open token of an existing delivery."""
    parsed = delivery_token_read(token, "open")
    if parsed is None:
        return None
    row = Delivery.objects.filter(token=parsed[0]).values("pk", "sent_at").first()
    if row is None:
        return None
    return delivery_open_record(
        delivery_id=row["pk"], sent_at=row["sent_at"], user_agent=user_agent, head=head, now=now
    )


def delivery_open_record(
    *,
    delivery_id: int,
    sent_at: datetime | None,
    user_agent: str = "",
    head: bool = False,
    now: datetime | None = None,
) -> OpenResult:
    """One open of one delivery: open_count + 1, opened_at on the first open of any kind,
    human_opened_at on the first open judged a person's. One UPDATE."""
    now = now or timezone.now()
    reason = machine_reason(user_agent=user_agent, head=head, sent_at=sent_at, at=now)
    changes = {"open_count": F("open_count") + 1, "opened_at": Coalesce("opened_at", _at(now))}
    if not reason:
        changes["human_opened_at"] = Coalesce("human_opened_at", _at(now))
    Delivery.objects.filter(pk=delivery_id).update(**changes)
    return OpenResult(human=not reason, reason=reason)


# --- clicks -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClickToken:
    delivery_token: uuid.UUID
    position: int


def click_token_read(raw: str) -> ClickToken | None:
    """The delivery and link position of a click token, or None when it is not one of ours."""
    parsed = delivery_token_read(raw, "click")
    if parsed is None or not parsed[1].isdigit() or len(parsed[1]) > 5:
        return None
    return ClickToken(delivery_token=parsed[0], position=int(parsed[1]))


@dataclass(frozen=True)
class ClickResult:
    url: str  # where the visitor goes: the mailing's link, with the recipient's referral
    human: bool
    reason: str  # why it was judged a machine's ("" for a person)
    counted: bool  # a first click on this link by a person (or the first one at all)


def click_record(
    *, token: ClickToken, user_agent: str = "", head: bool = False, now: datetime | None = None
) -> ClickResult | None:
    """Record a click on one link of one delivery: one Click per recipient and link (a repeat
    changes nothing; a person's click after a scanner's makes the row a person's), and on the
    first click by a person the delivery's clicked_at (and human_opened_at: they read it).
    None when the delivery or the link does not exist."""
    delivery = (
        Delivery.objects.select_related("person")
        .only("pk", "mailing_id", "sent_at", "person__share_code")
        .filter(token=token.delivery_token)
        .first()
    )
    if delivery is None:
        return None
    link = MailingLink.objects.filter(
        mailing_id=delivery.mailing_id, position=token.position
    ).first()
    if link is None:
        return None
    now = now or timezone.now()
    reason = machine_reason(user_agent=user_agent, head=head, sent_at=delivery.sent_at, at=now)
    human = not reason
    with transaction.atomic():
        click, created = Click.objects.get_or_create(
            delivery=delivery, link=link, defaults={"at": now, "machine": not human}
        )
        counted = created
        if not created and human and click.machine:
            counted = bool(
                Click.objects.filter(pk=click.pk, machine=True).update(machine=False, at=now)
            )
        if human and counted:
            Delivery.objects.filter(pk=delivery.pk).update(
                clicked_at=Coalesce("clicked_at", _at(now)),
                human_opened_at=Coalesce("human_opened_at", _at(now)),
                opened_at=Coalesce("opened_at", _at(now)),
            )
    return ClickResult(
        url=landing_url(link.url, share_code=delivery.person.share_code),
        human=human,
        reason=reason,
        counted=counted,
    )


def click_landing(token: ClickToken) -> str | None:
    """Where a click goes, without recording it (None when the delivery or link is gone)."""
    row = (
        MailingLink.objects.filter(
            mailing__deliveries__token=token.delivery_token, position=token.position
        )
        .values("url", "mailing__deliveries__person__share_code")
        .first()
    )
    if row is None:
        return None
    return landing_url(row["url"], share_code=row["mailing__deliveries__person__share_code"])


def landing_url(url: str, *, share_code: str) -> str:
    """A link to this site gets the recipient's own referral (`ref=<their code>&ch=email`,
    read by sharing's middleware), so the acts that follow carry channel email; a link that
    already names a referral, and links to other sites, are left as they are."""
    parts = urlsplit(url)
    site = urlsplit(settings.SITE_URL)
    if parts.netloc.lower() != site.netloc.lower() or not share_code:
        return url
    query = parse_qsl(parts.query, keep_blank_values=True)
    if any(key == "ref" for key, _ in query):
        return url
    query += [("ref", share_code), ("ch", Channel.EMAIL.value)]
    return urlunsplit(parts._replace(query=urlencode(query)))
