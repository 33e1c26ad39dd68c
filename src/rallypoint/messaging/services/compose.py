"""Composing mailings: create, edit, duplicate and delete drafts; sanitise the body.

Only a draft can be edited (a scheduled mailing goes back to draft when it is unscheduled, see
services.delivery); sending, scheduling and stopping live in services.delivery.

A/B subjects: a mailing with extra subjects has one MailingVariant per subject, "A" being the
mailing's own subject and "B", "C", "D" the extras (at most three). No extras, no variants and no
test.
"""

import re
from collections.abc import Iterable
from dataclasses import dataclass
from email.utils import parseaddr
from typing import Any

import nh3
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from rallypoint.core.audit import log_action
from rallypoint.mission.models import Campaign
from rallypoint.segments.models import Segment

from ..models import AbMetric, Mailing, MailingStatus, MailingVariant, MailKind

# What a mailing body may hold: text formatting, headings, lists, links (a link with the class
# "button" is drawn as a button by the renderer) and images from http(s) addresses.
BODY_TAGS = {
    "p",
    "br",
    "h1",
    "h2",
    "h3",
    "b",
    "i",
    "u",
    "strong",
    "em",
    "ul",
    "ol",
    "li",
    "blockquote",
    "a",
    "img",
}
BODY_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt", "width", "height", "title"}}
BUTTON_CLASS = "button"
BODY_MAX = 500_000  # characters of HTML; a mailing is not a book
EXTRA_SUBJECTS_MAX = 3
VARIANT_LABELS = "ABCD"
AB_WAIT_MINUTES = (10, 7 * 24 * 60)  # the shortest and longest wait before the winner is picked
UNTITLED = "Untitled mailing"

EMPTY_BODY = re.compile(r"^(\s|<p>|</p>|<br\s*/?>|&nbsp;)*$", re.IGNORECASE)
MERGE_TAG = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
LONE_SURROGATE = re.compile("[\ud800-\udfff]")
IMAGE_WITHOUT_SOURCE = re.compile(r"<img(?![^>]*\ssrc=)[^>]*>")

TEXT_LIMITS = {"name": 200, "subject": 300, "preview_text": 200, "from_name": 100}
FIELDS = {
    "name",
    "subject",
    "preview_text",
    "from_name",
    "from_address",
    "reply_to",
    "body_html",
    "kind",
    "campaign",
    "include_segments",
    "exclude_segments",
    "track_opens",
    "track_clicks",
    "extra_subjects",
    "ab_sample_percent",
    "ab_wait_minutes",
    "ab_metric",
}


@dataclass(frozen=True)
class FromAddress:
    name: str
    address: str

    @property
    def label(self) -> str:
        return f"{self.name} <{self.address}>" if self.name else self.address


def from_addresses() -> list[FromAddress]:
    """The verified sending addresses of settings.MAILING_FROM_ADDRESSES, the default first."""
    found: list[FromAddress] = []
    for entry in settings.MAILING_FROM_ADDRESSES:
        name, address = parseaddr(entry)
        if address and "@" in address and address.lower() not in {f.address for f in found}:
            found.append(FromAddress(name=name.strip(), address=address.strip().lower()))
    return found


def _img_src_http(tag: str, attribute: str, value: str) -> str | None:
    if (
        tag == "img"
        and attribute == "src"
        and not value.lower().startswith(("http://", "https://"))
    ):
        return None
    return value


def _merge_tag_spaces(match: re.Match[str]) -> str:
    # Editors write spaces as &nbsp; (or U+00A0); the merge syntax wants plain ones.
    inner = match.group(1).replace("&nbsp;", " ").replace("\xa0", " ")
    return "{{ " + " ".join(inner.split()) + " }}"


def body_sanitize(html: str) -> str:
    """The mailing body with only harmless HTML left: no scripts, styles, event handlers or
    non-http(s) images; relative links made absolute against SITE_URL; the "button" class kept
    on links; merge tags (`{{ first_name | friend }}`) written with plain spaces."""
    text = (html or "").replace("\x00", "")
    text = LONE_SURROGATE.sub("", text)
    if EMPTY_BODY.match(text):
        return ""
    cleaned = nh3.clean(
        text,
        tags=BODY_TAGS,
        clean_content_tags={"script", "style"},
        attributes=BODY_ATTRIBUTES,
        attribute_filter=_img_src_http,
        allowed_classes={"a": {BUTTON_CLASS}},
        url_schemes={"http", "https", "mailto"},
        url_relative=("rewrite_with_base", settings.SITE_URL + "/"),
        link_rel="noopener",
    ).strip()
    cleaned = IMAGE_WITHOUT_SOURCE.sub("", MERGE_TAG.sub(_merge_tag_spaces, cleaned))
    return "" if EMPTY_BODY.match(cleaned) else cleaned


# --- checking the fields ----------------------------------------------------------------------


def _text(field: str, value: Any) -> str:
    text = str(value or "").strip()
    if "\x00" in text or LONE_SURROGATE.search(text):
        raise ValidationError({field: "Remove the invisible control characters from this text."})
    limit = TEXT_LIMITS[field]
    if len(text) > limit:
        raise ValidationError({field: f"Keep it to {limit} characters (it has {len(text)})."})
    if field == "subject" and ("\n" in text or "\r" in text):
        text = " ".join(text.split())
    return text


def _from_address(value: Any) -> str:
    allowed = from_addresses()
    address = parseaddr(str(value or "").strip())[1].lower()
    if not address:
        return allowed[0].address if allowed else ""
    if address not in {a.address for a in allowed}:
        raise ValidationError(
            {
                "from_address": "Send from one of the verified addresses: "
                + ", ".join(a.address for a in allowed)
                + " (MAILING_FROM_ADDRESSES)."
            }
        )
    return address


def _reply_to(value: Any) -> str:
    address = str(value or "").strip()
    if not address:
        return ""
    try:
        validate_email(address)
    except ValidationError:
        raise ValidationError({"reply_to": "Enter an email address for replies."}) from None
    return address


def _segments(field: str, value: Iterable[Any] | None) -> list[Segment]:
    items = list(value or [])
    ids = [item.pk if isinstance(item, Segment) else item for item in items]
    try:
        ids = [int(i) for i in ids]
    except (TypeError, ValueError):
        raise ValidationError({field: "Choose segments from the list."}) from None
    found = list(Segment.objects.filter(pk__in=ids))
    if len(found) != len(set(ids)):
        raise ValidationError({field: "One of the chosen segments no longer exists."})
    return found


def _campaign(value: Any) -> Campaign | None:
    if value in (None, ""):
        return None
    if isinstance(value, Campaign):
        return value
    campaign = Campaign.objects.filter(pk=value).first() if str(value).isdigit() else None
    if campaign is None:
        raise ValidationError({"campaign": "That campaign no longer exists."})
    return campaign


def _extra_subjects(value: Iterable[Any] | None) -> list[str]:
    subjects = [_text("subject", s) for s in (value or [])]
    subjects = [s for s in subjects if s]
    if len(subjects) > EXTRA_SUBJECTS_MAX:
        raise ValidationError(
            {"extra_subjects": f"Test at most {EXTRA_SUBJECTS_MAX} other subjects."}
        )
    return subjects


def _int_in(field: str, value: Any, low: int, high: int, message: str) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise ValidationError({field: message}) from None
    if not low <= number <= high:
        raise ValidationError({field: message})
    return number


def _checked(fields: dict[str, Any], current: Mailing | None) -> dict[str, Any]:
    """The given fields validated and normalised (only those given)."""
    unknown = set(fields) - FIELDS
    if unknown:
        raise TypeError(f"Unknown mailing fields: {', '.join(sorted(unknown))}")
    out: dict[str, Any] = {}
    for field in TEXT_LIMITS:
        if field in fields:
            out[field] = _text(field, fields[field])
    if "from_address" in fields:
        out["from_address"] = _from_address(fields["from_address"])
    if "reply_to" in fields:
        out["reply_to"] = _reply_to(fields["reply_to"])
    if "body_html" in fields:
        raw = str(fields["body_html"] or "")
        if len(raw) > BODY_MAX:
            raise ValidationError({"body_html": "The message is too long to send."})
        out["body_html"] = body_sanitize(raw)
    if "kind" in fields:
        if fields["kind"] not in MailKind.values:
            raise ValidationError({"kind": "Choose what kind of mail this is."})
        out["kind"] = fields["kind"]
    if "campaign" in fields:
        out["campaign"] = _campaign(fields["campaign"])
    for field in ("include_segments", "exclude_segments"):
        if field in fields:
            out[field] = _segments(field, fields[field])
    if "include_segments" in out or "exclude_segments" in out:
        include = out.get("include_segments")
        exclude = out.get("exclude_segments")
        if include is None:
            include = list(current.include_segments.all()) if current else []
        if exclude is None:
            exclude = list(current.exclude_segments.all()) if current else []
        both = {s.pk for s in include} & {s.pk for s in exclude}
        if both:
            names = ", ".join(sorted(s.name for s in include if s.pk in both))
            raise ValidationError(
                {"exclude_segments": f"A segment can't be both included and excluded: {names}."}
            )
    for field in ("track_opens", "track_clicks"):
        if field in fields:
            out[field] = bool(fields[field])
    if "extra_subjects" in fields:
        out["extra_subjects"] = _extra_subjects(fields["extra_subjects"])
    if "ab_metric" in fields:
        if fields["ab_metric"] not in AbMetric.values:
            raise ValidationError({"ab_metric": "Pick the winner by clicks or by opens."})
        out["ab_metric"] = fields["ab_metric"]
    if "ab_wait_minutes" in fields:
        low, high = AB_WAIT_MINUTES
        out["ab_wait_minutes"] = _int_in(
            "ab_wait_minutes",
            fields["ab_wait_minutes"],
            low,
            high,
            "Wait between 10 minutes and 7 days before picking the winner.",
        )
    if "ab_sample_percent" in fields:
        out["ab_sample_percent"] = _int_in(
            "ab_sample_percent",
            fields["ab_sample_percent"] or 0,
            0,
            100,
            "The test group is a share of the audience between 1 and 100 percent.",
        )
    return out


def _ab_check(mailing: Mailing, extras: list[str]) -> None:
    if not extras:
        mailing.ab_sample_percent = 0
        return
    if not mailing.subject:
        raise ValidationError({"subject": "Write the first subject before testing others."})
    if mailing.subject in extras or len(set(extras)) != len(extras):
        raise ValidationError({"extra_subjects": "Each subject in a test must be different."})
    if not mailing.ab_sample_percent:
        raise ValidationError(
            {"ab_sample_percent": "Say what share of the audience gets the test (e.g. 20%)."}
        )


def _save(mailing: Mailing, values: dict[str, Any]) -> None:
    """Write checked values to the mailing, its segments and its variants (in a transaction)."""
    include = values.pop("include_segments", None)
    exclude = values.pop("exclude_segments", None)
    extras = values.pop("extra_subjects", None)
    for field, value in values.items():
        setattr(mailing, field, value)
    if not mailing.name:
        mailing.name = mailing.subject[:200] or UNTITLED
    if extras is None:
        extras = [v.subject for v in mailing.variants.all()[1:]] if mailing.pk else []
    _ab_check(mailing, extras)
    mailing.save()
    if include is not None:
        mailing.include_segments.set(include)
    if exclude is not None:
        mailing.exclude_segments.set(exclude)
    wanted = [mailing.subject, *extras] if extras else []
    stored = list(mailing.variants.all())
    if [v.subject for v in stored] != wanted:
        MailingVariant.objects.filter(mailing=mailing).delete()
        MailingVariant.objects.bulk_create(
            MailingVariant(mailing=mailing, label=VARIANT_LABELS[i], subject=subject)
            for i, subject in enumerate(wanted)
        )


def _editable(mailing: Mailing) -> None:
    if mailing.status != MailingStatus.DRAFT:
        hint = " Unschedule it first." if mailing.status == MailingStatus.SCHEDULED else ""
        raise ValidationError(
            f"Only a draft can be changed; this mailing is {mailing.get_status_display().lower()}."
            + hint
        )


# --- the services -----------------------------------------------------------------------------


def mailing_create(by: Any = None, **fields: Any) -> Mailing:
    """A new draft. Unset sender fields take the first verified address and its name."""
    values = _checked(fields, None)
    default = next(iter(from_addresses()), None)
    mailing = Mailing(created_by=by if getattr(by, "is_authenticated", False) else None)
    if "from_address" not in values and default:
        values["from_address"] = default.address
    if not values.get("from_name"):
        campaign = values.get("campaign")
        chosen = next(
            (a for a in from_addresses() if a.address == values.get("from_address")), None
        )
        values["from_name"] = (
            (chosen.name if chosen else "") or (campaign.name[:100] if campaign else "")
        ) or settings.RALLYPOINT_BRAND["name"][:100]
    with transaction.atomic():
        _save(mailing, values)
        log_action("mailing.created", obj=mailing, actor=by, data={"name": mailing.name})
    return mailing


def mailing_update(mailing: Mailing, by: Any = None, **fields: Any) -> Mailing:
    """Change a draft. Only the fields given are changed."""
    with transaction.atomic():
        locked = Mailing.objects.select_for_update().get(pk=mailing.pk)
        _editable(locked)
        values = _checked(fields, locked)
        changed = sorted(values)
        _save(locked, values)
        log_action("mailing.updated", obj=locked, actor=by, data={"fields": changed})
    mailing.refresh_from_db()
    return mailing


def mailing_duplicate(mailing: Mailing, by: Any = None) -> Mailing:
    """A new draft with the same content, audience, sender, tracking and A/B settings."""
    copy_fields = [
        "subject",
        "preview_text",
        "from_name",
        "from_address",
        "reply_to",
        "body_html",
        "kind",
        "campaign",
        "track_opens",
        "track_clicks",
        "ab_sample_percent",
        "ab_wait_minutes",
        "ab_metric",
    ]
    with transaction.atomic():
        copy = Mailing(
            name=f"Copy of {mailing.name}"[:200],
            created_by=by if getattr(by, "is_authenticated", False) else None,
            **{field: getattr(mailing, field) for field in copy_fields},
        )
        copy.save()
        copy.include_segments.set(mailing.include_segments.all())
        copy.exclude_segments.set(mailing.exclude_segments.all())
        MailingVariant.objects.bulk_create(
            MailingVariant(mailing=copy, label=v.label, subject=v.subject)
            for v in mailing.variants.all()
        )
        log_action(
            "mailing.duplicated", obj=copy, actor=by, data={"from": mailing.pk, "name": copy.name}
        )
    return copy


def mailing_delete(mailing: Mailing, by: Any = None) -> None:
    """Delete a draft (a mailing that went out stays, with its report)."""
    with transaction.atomic():
        locked = Mailing.objects.select_for_update().get(pk=mailing.pk)
        if locked.status != MailingStatus.DRAFT:
            raise ValidationError("Only drafts can be deleted; a sent mailing keeps its report.")
        log_action("mailing.deleted", obj=locked, actor=by, data={"name": locked.name})
        locked.delete()
