"""One message of a mailing for one person: merge fields, the brand wrapper, the plain-text part,
the headers and the Message-ID.

Merge fields are written `{{ first_name }}` or `{{ first_name | friend }}` (the text after the
bar is used when the person has no value) in the subject, the preview text and the body. The
fields are MERGE_FIELDS; a field not among them is left in the message as it was written, so a
typo shows in the preview instead of vanishing. Values are HTML-escaped in the body and the
preview; nothing the organizer wrote ever goes through the Django template engine (only the
brand wrapper, our own template, does, once per mailing).

A mailing is compiled once (`MailingTemplate`: the body split at its merge tags, the wrapper
rendered with markers where the per-person parts go, the plain text made from the body), then
each recipient's copy is a few joins: the send worker compiles once per run and renders
thousands of messages from it.
"""

import binascii
import html
import re
import uuid
from dataclasses import dataclass, field
from email.header import Header
from email.utils import formataddr, formatdate, make_msgid
from html.parser import HTMLParser
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMessage, EmailMultiAlternatives
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

from rallypoint.people.models import EmailAddress, Person, PostalAddress

from ..models import Delivery, Mailing
from . import suppression, tracking

MERGE_FIELDS = ("first_name", "last_name", "full_name", "email", "city", "postal_code")
MERGE_TAG = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*(?:\|([^{}]*))?\}\}")
TEST_PREFIX = "[Test] "
WRAPPER = "messaging/email/wrapper"
# Where links that would act on a real recipient (unsubscribe, preferences) point in a
# preview or a test message: nowhere that does anything.
PREVIEW_LINK_PATH = "/"

# Inline styles: many mail clients drop <style> blocks.
LINK_STYLE = "color:{primary};text-decoration:underline"
BUTTON_STYLE = (
    "display:inline-block;background:{primary};color:#ffffff;text-decoration:none;"
    "font-weight:700;padding:12px 22px;border-radius:999px"
)
IMG_STYLE = "max-width:100%;height:auto;border:0"
_A_TAG = re.compile(r"<a\s([^>]*)>", re.IGNORECASE)
_IMG_TAG = re.compile(r"<img\s([^>]*?)\s*/?>", re.IGNORECASE)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


@dataclass(frozen=True)
class RenderedMessage:
    subject: str
    preview_text: str
    html: str
    text: str
    headers: dict[str, str]
    message_id: str


# --- merge fields ---------------------------------------------------------------------------


def merge_values(
    person: Person | None, *, email: str = "", place: tuple[str, str] | None = None
) -> dict[str, str]:
    """The merge fields of one person (empty strings for what they don't have). `place`
    (city, postal code) of their primary postal address, when the caller has it; otherwise it
    is read."""
    if person is None:
        return {"email": email} if email else {}
    if place is None:
        found = (
            PostalAddress.objects.filter(person=person, primary=True)
            .values_list("locality", "postal_code")
            .first()
        )
        place = found or ("", "")
    if not email and person.pk:
        email = (
            EmailAddress.objects.filter(person=person, primary=True)
            .values_list("address", flat=True)
            .first()
        ) or ""
    return {
        "first_name": person.given_name.strip(),
        "last_name": person.family_name.strip(),
        "full_name": person.full_name.strip(),
        "email": email,
        "city": place[0].strip(),
        "postal_code": place[1].strip(),
    }


def _fallback(raw: str | None) -> str:
    text = (raw or "").strip()
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1]
    return text


@dataclass
class MergeText:
    """Text with merge tags, split once: literal pieces and (field, fallback) slots."""

    pieces: list[str | tuple[str, str]] = field(default_factory=list)

    @classmethod
    def compile(cls, text: str) -> "MergeText":
        pieces: list[str | tuple[str, str]] = []
        at = 0
        for match in MERGE_TAG.finditer(text or ""):
            name = match.group(1).lower()
            if name not in MERGE_FIELDS:
                continue  # unknown: stays as written
            pieces.append(text[at : match.start()])
            pieces.append((name, _fallback(match.group(2))))
            at = match.end()
        pieces.append((text or "")[at:])
        return cls([p for p in pieces if p != ""])

    def fill(self, values: dict[str, str], *, escape: bool) -> str:
        """The text with each slot replaced by the person's value (HTML-escaped when `escape`)
        or its fallback (written by the organizer in the same language as the text around it,
        so never escaped again)."""
        out = []
        for piece in self.pieces:
            if isinstance(piece, str):
                out.append(piece)
                continue
            value = values.get(piece[0], "")
            if value:
                out.append(html.escape(value) if escape else value)
            else:
                out.append(piece[1])
        return "".join(out)


def one_line(text: str) -> str:
    """A header value: no line breaks or control characters, spaces collapsed."""
    return " ".join(_CONTROL.sub(" ", text).split())


# --- HTML to plain text -----------------------------------------------------------------------


class _Text(HTMLParser):
    BLOCKS = {"p", "div", "h1", "h2", "h3", "h4", "blockquote", "ul", "ol", "table", "tr"}

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.links: list[tuple[str, int]] = []  # (href, position in out where its text starts)
        self.skip = 0

    def _block(self) -> None:
        self.out.append("\n\n")

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag in ("style", "script", "head", "title"):
            self.skip += 1
        elif tag in self.BLOCKS:
            self._block()
        elif tag == "br":
            self.out.append("\n")
        elif tag == "li":
            self.out.append("\n- ")
        elif tag == "a":
            self.links.append(((values.get("href") or "").strip(), len(self.out)))
        elif tag == "img" and values.get("alt"):
            self.out.append(f"[{values['alt']}]")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("style", "script", "head", "title"):
            self.skip = max(0, self.skip - 1)
        elif tag in self.BLOCKS:
            self._block()
        elif tag == "a" and self.links:
            href, start = self.links.pop()
            label = "".join(self.out[start:]).strip()
            if href and not href.lower().startswith("mailto:") and href != label:
                self.out.append(f" ({href})" if label else href)
            elif href.lower().startswith("mailto:") and not label:
                self.out.append(href[7:])

    def handle_data(self, data: str) -> None:
        if not self.skip:
            self.out.append(re.sub(r"\s+", " ", data))

    def text(self) -> str:
        raw = "".join(self.out)
        lines = [" ".join(line.split()) for line in raw.split("\n")]
        text = "\n".join(lines)
        return re.sub(r"\n{3,}", "\n\n", text).strip()


def html_to_text(markup: str) -> str:
    """A plain-text version of an email's HTML: paragraphs and line breaks kept, list items as
    "- ", links as "text (url)", images as their alt text."""
    parser = _Text()
    parser.feed(markup or "")
    parser.close()
    return parser.text()


# --- the compiled mailing ---------------------------------------------------------------------


def _styled(body: str, brand: dict[str, str]) -> str:
    """Inline styles for the body's links ("button" links drawn as buttons) and images. The body
    was sanitised (services.compose): no style attribute of its own survives."""
    primary = html.escape(brand.get("primary", "#1d4ed8"))

    def link(match: re.Match[str]) -> str:
        attrs = match.group(1)
        style = BUTTON_STYLE if re.search(r'class="[^"]*\bbutton\b', attrs) else LINK_STYLE
        return f'<a {attrs} style="{style.format(primary=primary)}">'

    body = _A_TAG.sub(link, body)
    return _IMG_TAG.sub(lambda m: f'<img {m.group(1)} style="{IMG_STYLE}">', body)


# Markers the wrapper is rendered with, replaced per recipient. They cannot occur in what the
# wrapper's own context renders (brand and campaign names are escaped: no "\x00").
_SLOTS = ("preheader", "body", "unsubscribe", "preferences", "forward")


def _marker(name: str) -> str:
    return f"\x00{name}\x00"


def _split(rendered: str) -> list[str | tuple[str]]:
    parts: list[str | tuple[str]] = []
    for i, chunk in enumerate(rendered.split("\x00")):
        if i % 2:
            parts.append((chunk,))
        elif chunk:
            parts.append(chunk)
    return parts


def _join(parts: list[str | tuple[str]], values: dict[str, str]) -> str:
    return "".join(p if isinstance(p, str) else values[p[0]] for p in parts)


def message_host() -> str:
    return urlsplit(settings.SITE_URL).hostname or "localhost"


def delivery_message_id(mailing: Mailing, delivery: Delivery) -> str:
    """The same Message-ID for every attempt at one recipient's copy of one mailing, so a copy
    sent twice (see services.delivery) is recognisably the same message. The delivery's token
    comes first: the bounce and complaint handlers find the delivery by the first id in it."""
    return f"<delivery-{delivery.token.hex}.mailing-{mailing.uuid.hex}@{message_host()}>"


class MailingTemplate:
    """A mailing compiled for rendering many copies. Read its fields once: later changes to the
    mailing are not seen (a mailing being sent is not edited)."""

    def __init__(self, mailing: Mailing):
        brand = settings.RALLYPOINT_BRAND
        self.mailing = mailing
        self.subject = MergeText.compile(mailing.subject)
        self.variant_subjects: dict[str, MergeText] = {}
        self.preview = MergeText.compile(mailing.preview_text)
        body = _styled(mailing.body_html or "", brand)
        self.body = MergeText.compile(body)
        self.body_text = MergeText.compile(html_to_text(mailing.body_html or ""))
        campaign = mailing.campaign.name if mailing.campaign_id and mailing.campaign else ""
        context = {
            "brand": brand,
            "site_url": settings.SITE_URL,
            "campaign_name": campaign or brand.get("name", ""),
            "kind": mailing.get_kind_display(),
            **{slot: mark_safe(_marker(slot)) for slot in _SLOTS},  # noqa: S308 - our markers
        }
        self.html_parts = _split(render_to_string(f"{WRAPPER}.html", context))
        self.text_parts = _split(render_to_string(f"{WRAPPER}.txt", context))
        self.tracked_links: list | None = None
        self.from_header = formataddr((mailing.from_name, mailing.from_address), charset="utf-8")

    def links_freeze(self) -> None:
        """Read (or store) the mailing's tracked links now, once for every copy."""
        if self.tracked_links is None:
            self.tracked_links = tracking.mailing_links_freeze(self.mailing)

    def subject_for(self, subject: str | None) -> MergeText:
        if subject is None:
            return self.subject
        compiled = self.variant_subjects.get(subject)
        if compiled is None:
            compiled = self.variant_subjects[subject] = MergeText.compile(subject)
        return compiled

    def render(
        self,
        *,
        values: dict[str, str],
        delivery: Delivery | None = None,
        subject: str | None = None,
    ) -> RenderedMessage:
        """One copy. With a `delivery`, links are tracked (as the mailing and MAILING_TRACKING
        allow) and the unsubscribe links are the recipient's; without one (a preview or a
        test) nothing is tracked and those links lead nowhere that acts."""
        subject_text = one_line(self.subject_for(subject).fill(values, escape=False))
        preview = one_line(self.preview.fill(values, escape=False))
        body = self.body.fill(values, escape=True)
        if delivery is not None:
            delivery.mailing = self.mailing  # one Mailing object for every copy (tracking)
            links = {
                "unsubscribe": suppression.unsubscribe_url(delivery),
                "preferences": suppression.preferences_url(delivery),
                "forward": tracking.forward_url(delivery),
            }
            headers = suppression.unsubscribe_headers(delivery)
            message_id = delivery_message_id(self.mailing, delivery)
        else:
            preview_link = settings.SITE_URL + PREVIEW_LINK_PATH
            links = {"unsubscribe": preview_link, "preferences": preview_link}
            links["forward"] = preview_link
            headers = {}
            message_id = make_msgid(domain=message_host())
        markup = _join(
            self.html_parts,
            {
                "preheader": html.escape(preview),
                "body": body,
                **{name: html.escape(url) for name, url in links.items()},
            },
        )
        if delivery is not None:
            self.links_freeze()
            markup = tracking.html_track(markup, delivery=delivery, links=self.tracked_links)
        text = _join(
            self.text_parts,
            {"preheader": preview, "body": self.body_text.fill(values, escape=False), **links},
        )
        return RenderedMessage(
            subject=subject_text,
            preview_text=preview,
            html=markup,
            text=text.strip() + "\n",
            headers=headers,
            message_id=message_id,
        )


def mailing_render(
    mailing: Mailing,
    *,
    person: Person | None = None,
    delivery: Delivery | None = None,
    subject: str | None = None,
) -> RenderedMessage:
    """One message of `mailing` for `person` (or the recipient of `delivery`; nobody: every
    merge field shows its fallback). `subject` replaces the mailing's (an A/B variant's, or a
    test's)."""
    if person is None and delivery is not None:
        person = delivery.person
    if subject is None and delivery is not None and delivery.variant_id:
        subject = delivery.variant.subject if delivery.variant else None
    values = merge_values(person, email=delivery.address if delivery is not None else "")
    return MailingTemplate(mailing).render(values=values, delivery=delivery, subject=subject)


def email_message(
    mailing: Mailing,
    rendered: RenderedMessage,
    *,
    to: str,
    delivery: Delivery | None = None,
    from_header: str | None = None,
) -> EmailMultiAlternatives:
    """The message to hand to the sending route: From as the mailing says, its Message-ID and
    unsubscribe headers; for a delivery, the return path naming it (VERP, plain SMTP with a
    bounce address) and its token in the provider's metadata (anymail)."""
    sender = from_header or formataddr((mailing.from_name, mailing.from_address), charset="utf-8")
    headers = {**rendered.headers, "Message-ID": rendered.message_id}
    envelope = sender
    if delivery is not None:
        bounce = suppression.bounce_address(delivery)
        if bounce:
            headers["From"] = sender
            envelope = bounce
    message = EmailMultiAlternatives(
        subject=rendered.subject,
        body=rendered.text,
        from_email=envelope,
        to=[to],
        reply_to=[mailing.reply_to] if mailing.reply_to else None,
        headers=headers,
    )
    message.attach_alternative(rendered.html, "text/html")
    if delivery is not None:
        # Read by anymail's backends (ignored by Django's own): the provider's events then name
        # the delivery (suppression.provider_event_record).
        message.metadata = {suppression.METADATA_KEY: str(delivery.token)}  # type: ignore[attr-defined]
    return message


# --- the message as bytes ---------------------------------------------------------------------

# Headers message_bytes writes itself (the others of extra_headers follow them as they are).
_OWN_HEADERS = {"from", "to", "subject", "date", "message-id", "reply-to", "mime-version"}


def _ascii(value: str) -> bool:
    return value.isascii() and "\r" not in value and "\n" not in value


def _qp(text: str) -> bytes:
    return binascii.b2a_qp(text.encode("utf-8"), istext=True).replace(b"\n", b"\r\n")


def message_bytes(message: EmailMultiAlternatives) -> bytes:
    """The MIME form of a message made by `email_message` (a text part and an HTML alternative,
    both quoted-printable UTF-8), written directly: what Django's `message().as_bytes()` gives
    for it, for about a tenth of the time (bench/mail_send.py). Raises ValueError for what it
    does not write (another shape, an address that needs SMTPUTF8): send the message itself.
    """
    if len(message.alternatives) != 1 or message.alternatives[0][1] != "text/html":
        raise ValueError("not a mailing message")
    if message.attachments or message.cc or message.bcc or len(message.to) != 1:
        raise ValueError("not a mailing message")
    extra = dict(message.extra_headers)
    sender = extra.get("From", message.from_email)
    to = message.to[0]
    if not (_ascii(sender) and _ascii(to) and all(_ascii(r) for r in message.reply_to)):
        raise ValueError("an address that is not ASCII")
    subject, body, markup = str(message.subject), message.body, message.alternatives[0][0]
    if not isinstance(body, str) or not isinstance(markup, str):
        raise ValueError("not a mailing message")
    if not _ascii(subject):
        if "\n" in subject or "\r" in subject:
            raise ValueError("a subject on more than one line")
        subject = Header(subject, "utf-8").encode(linesep="\r\n")
    boundary = f"=_rp{uuid.uuid4().hex}"
    lines = [
        f"From: {sender}",
        f"To: {to}",
        f"Subject: {subject}",
        f"Date: {formatdate(localtime=settings.EMAIL_USE_LOCALTIME)}",
        f"Message-ID: {extra.get('Message-ID') or make_msgid(domain=message_host())}",
        "MIME-Version: 1.0",
    ]
    if message.reply_to:
        lines.append(f"Reply-To: {', '.join(message.reply_to)}")
    for name, value in extra.items():
        if name.lower() in _OWN_HEADERS:
            continue
        if not _ascii(name) or not _ascii(str(value)):
            raise ValueError(f"header {name} is not ASCII")
        lines.append(f"{name}: {value}")
    lines += [f'Content-Type: multipart/alternative; boundary="{boundary}"', ""]
    head = "\r\n".join(lines).encode("ascii")
    part = (
        '\r\n--{b}\r\nContent-Type: text/{kind}; charset="utf-8"\r\n'
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    )
    return b"".join(
        [
            head,
            part.format(b=boundary, kind="plain").encode("ascii"),
            _qp(body),
            part.format(b=boundary, kind="html").encode("ascii"),
            _qp(markup),
            f"\r\n--{boundary}--\r\n".encode("ascii"),
        ]
    )


def message_raw(message: EmailMessage) -> bytes | None:
    """The bytes of a mailing's message for the sending route (message_bytes), or None for a
    shape it does not write (Django writes those)."""
    if not isinstance(message, EmailMultiAlternatives):
        return None
    try:
        return message_bytes(message)
    except ValueError:
        return None
