"""The share kit: one-click share links per channel, each carrying the sharer's code and channel.

A kit link points at /share/go/<channel>/?s=<signed token>; that view records the share act and
redirects to the channel's web intent (no API keys). The token is signed so nobody can record
shares in someone else's name or turn the endpoint into an open redirect.
"""

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from django.conf import settings
from django.core import signing
from django.urls import reverse

TOKEN_SALT = "rallypoint.sharing.kit"

# Channels offered by the kit, in the order shown. "direct" is the copy-link box.
KIT_CHANNELS: list[tuple[str, str]] = [
    ("facebook", "Facebook"),
    ("x", "X"),
    ("whatsapp", "WhatsApp"),
    ("email", "Email"),
    ("sms", "Text message"),
    ("bluesky", "Bluesky"),
    ("mastodon", "Mastodon"),
]
CHANNELS_OPENING_APPS = {"email", "sms"}  # same tab: the phone hands over to its mail/SMS app

# Pre-written text per channel; organizers override any of them per campaign
# (Campaign.share_texts). "{title}" is replaced by the page title; the link is added for them.
DEFAULT_SHARE_TEXTS: dict[str, str] = {
    "facebook": "",
    "x": "I just took action: {title}. Join me!",
    "whatsapp": "I just took action for {title}. Will you join me? It takes a minute:",
    "email_subject": "Will you join me? {title}",
    "email": (
        "Hi,\n\nI just took action for {title}, and it would mean a lot if you joined me. "
        "It only takes a minute:"
    ),
    "sms": "I just took action for {title}. Will you join me?",
    "bluesky": "I just took action: {title}. Join me!",
    "mastodon": "I just took action: {title}. Join me!",
}
SHARE_TEXT_LABELS: dict[str, str] = {
    "x": "X post",
    "whatsapp": "WhatsApp message",
    "email_subject": "Email subject",
    "email": "Email body",
    "sms": "Text message",
    "bluesky": "Bluesky post",
    "mastodon": "Mastodon post",
}
SHARE_TEXT_MAX = 500


@dataclass(frozen=True)
class ShareLink:
    channel: str
    label: str
    href: str  # our redirect endpoint, which records the act
    opens_app: bool


@dataclass(frozen=True)
class ShareKit:
    url: str  # the page as the sharer would copy it (ref code, channel "direct")
    title: str
    links: list[ShareLink]
    copy_beacon: str  # requested by the copy button: records a "direct" share
    native_beacon: str  # requested when the phone's share sheet is used: an "other" share
    native_url: str
    native_text: str


def absolute_url(url: str, base: str | None = None) -> str:
    """`url` as an absolute URL on this site: paths are resolved against `base` (the address
    the visitor used, e.g. "https://rally.example") or else SITE_URL."""
    if url.startswith(("http://", "https://")):
        return url
    return (base or settings.SITE_URL).rstrip("/") + (url if url.startswith("/") else "/" + url)


def strip_referral(url: str) -> str:
    """The page address without anybody's ref code or channel."""
    parts = urlsplit(url)
    query = [
        (k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k not in {"ref", "ch"}
    ]
    return urlunsplit(parts._replace(query=urlencode(query), fragment=""))


def share_url(url: str, *, code: str | None, channel: str) -> str:
    """The page address a sharer hands out: their code and the channel it travels on."""
    base = strip_referral(absolute_url(url))
    if not code:
        return base
    parts = urlsplit(base)
    query = [*parse_qsl(parts.query, keep_blank_values=True), ("ref", code), ("ch", channel)]
    return urlunsplit(parts._replace(query=urlencode(query)))


def share_text(campaign: Any, key: str, *, title: str) -> str:
    """The organizer's text for `key` (a channel or "email_subject"), else the default."""
    custom = (getattr(campaign, "share_texts", None) or {}).get(key) if campaign else None
    template = custom if isinstance(custom, str) and custom.strip() else DEFAULT_SHARE_TEXTS[key]
    return template.replace("{title}", title).strip()


def _join(text: str, url: str, sep: str = " ") -> str:
    return f"{text}{sep}{url}" if text else url


def intent_url(channel: str, *, url: str, campaign: Any, title: str, instance: str = "") -> str:
    """The web intent (or mailto:/sms: link) that opens a ready-to-send message on `channel`."""
    text = share_text(campaign, channel, title=title) if channel in DEFAULT_SHARE_TEXTS else ""
    if channel == "facebook":
        return "https://www.facebook.com/sharer/sharer.php?" + urlencode({"u": url})
    if channel == "x":
        return "https://x.com/intent/post?" + urlencode({"text": text, "url": url})
    if channel == "whatsapp":
        return "https://wa.me/?" + urlencode({"text": _join(text, url)})
    if channel == "email":
        subject = share_text(campaign, "email_subject", title=title)
        body = _join(text, url, "\n\n")
        return f"mailto:?subject={quote(subject, safe='')}&body={quote(body, safe='')}"
    if channel == "sms":
        # "sms:?&body=" is understood by both iOS and Android messaging apps.
        return f"sms:?&body={quote(_join(text, url), safe='')}"
    if channel == "bluesky":
        return "https://bsky.app/intent/compose?" + urlencode({"text": _join(text, url)})
    if channel == "mastodon":
        if not instance:
            raise ValueError("Mastodon needs an instance")
        return f"https://{instance}/share?" + urlencode({"text": _join(text, url)})
    raise ValueError(f"Unknown share channel {channel!r}")


def share_token(*, person: Any, campaign: Any, url: str, title: str) -> str:
    payload = {
        "p": person.pk if person is not None else None,
        "c": campaign.pk if campaign is not None else None,
        "u": strip_referral(absolute_url(url)),
        "t": title[:200],
    }
    return signing.dumps(payload, salt=TOKEN_SALT, compress=True)


@dataclass(frozen=True)
class ShareRequest:
    person_id: int | None
    campaign_id: int | None
    url: str
    title: str


def share_token_read(token: str) -> ShareRequest | None:
    try:
        data = signing.loads(token, salt=TOKEN_SALT)
        return ShareRequest(
            person_id=int(data["p"]) if data.get("p") is not None else None,
            campaign_id=int(data["c"]) if data.get("c") is not None else None,
            url=str(data["u"]),
            title=str(data.get("t", "")),
        )
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None


def share_kit_build(
    *, person: Any, url: str, title: str, campaign: Any = None, base: str | None = None
) -> ShareKit:
    code = getattr(person, "share_code", None)
    url = absolute_url(url, base)
    token = share_token(person=person, campaign=campaign, url=url, title=title)
    query = urlencode({"s": token})
    links = [
        ShareLink(
            channel=channel,
            label=label,
            href=f"{reverse('sharing:go', args=[channel])}?{query}",
            opens_app=channel in CHANNELS_OPENING_APPS,
        )
        for channel, label in KIT_CHANNELS
    ]
    return ShareKit(
        url=share_url(url, code=code, channel="direct"),
        title=title,
        links=links,
        copy_beacon=f"{reverse('sharing:go', args=['direct'])}?{query}&beacon=1",
        native_beacon=f"{reverse('sharing:go', args=['other'])}?{query}&beacon=1",
        native_url=share_url(url, code=code, channel="other"),
        native_text=share_text(campaign, "sms", title=title),
    )
