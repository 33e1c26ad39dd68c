"""Messages (mailings) in OSDI's shape, and OSDI message documents read into the fields of
messaging.services.compose."""

from email.utils import formataddr, parseaddr
from typing import Any

from django.conf import settings
from django.urls import reverse

from rallypoint.messaging.models import OSDI_STATUS, Mailing, MailingStatus
from rallypoint.messaging.queries import Totals, acts_after, mailing_totals
from rallypoint.segments.models import Segment

from .. import odata
from ..errors import BadRequest
from ..hal import Links, dates, identifiers, osdi_date
from ..payload import get_dicts, get_str, uuid_from_href

# compose's field names → the OSDI fields they come from, for error messages.
MESSAGE_FIELD_NAMES = {
    "name": "name",
    "subject": "subject",
    "body_html": "body",
    "from_address": "from",
    "from_name": "from",
    "reply_to": "reply_to",
    "include_segments": "targets",
    "exclude_segments": "targets",
}


def message_statistics(mailing: Mailing, totals: Totals | None = None) -> dict[str, int]:
    """OSDI's statistics from the mailing's report: the same numbers as its report page."""
    totals = totals or mailing_totals(mailing)
    return {
        "sent": totals.sent,
        "opened": totals.opened_human,
        "clicked": totals.clicked,
        "actions": acts_after(mailing).count(),
        "forwards": 0,  # forwards are counted as the recipients' recruits (social grid)
        "unsubscribed": totals.unsubscribes,
        "bounced": totals.bounced,
        "spam_reports": totals.complaints,
    }


def message_repr(mailing: Mailing, links: Links, *, created: bool = False) -> dict[str, Any]:
    """`mailing` with its include_segments prefetched (api_messages does it)."""
    sender = formataddr((mailing.from_name, mailing.from_address)) if mailing.from_address else ""
    body: dict[str, Any] = {
        "identifiers": identifiers(mailing.uuid),
        **dates(mailing, created=created),
        "name": mailing.name,
        "subject": mailing.subject,
        "body": mailing.body_html,
        "from": sender,
        "reply_to": mailing.reply_to,
        "type": "email",
        "targets": [
            {"href": links.url("lists", segment.uuid)} for segment in mailing.include_segments.all()
        ],
        "total_targeted": mailing.total_targeted,
        "status": OSDI_STATUS[MailingStatus(mailing.status)],
        "sent_start_date": osdi_date(mailing.started_at),
        "sent_end_date": osdi_date(mailing.finished_at),
        "scheduled_start_date": osdi_date(mailing.scheduled_at),
        "statistics": message_statistics(mailing),
        "browser_url": settings.SITE_URL + reverse("messaging:detail", args=[mailing.pk]),
        "_links": {
            "self": links.link("messages", mailing.uuid),
            "osdi:send_helper": links.link("messages", mailing.uuid, "send"),
            "osdi:schedule_helper": links.link("messages", mailing.uuid, "schedule"),
            "osdi:targets": [links.link("lists", s.uuid) for s in mailing.include_segments.all()],
        },
    }
    return body


def message_fields_from_osdi(body: dict[str, Any]) -> dict[str, Any]:
    """The compose service's fields for the OSDI fields present in `body` (a PUT changes only
    what it sends)."""
    fields: dict[str, Any] = {}
    for osdi, ours in (("name", "name"), ("subject", "subject"), ("reply_to", "reply_to")):
        value = get_str(body, osdi)
        if value is not None:
            fields[ours] = value
    if "body" in body:
        fields["body_html"] = get_str(body, "body") or ""
    sender = get_str(body, "from")
    if sender is not None:
        name, address = parseaddr(sender)
        if not address or "@" not in address:
            raise BadRequest(
                "from: give an address from the verified list, e.g. "
                '"Campaign <hello@example.org>".',
                field="from",
            )
        fields["from_address"] = address
        if name:
            fields["from_name"] = name
    if "targets" in body:
        fields["include_segments"] = _targets(body)
    return fields


def _targets(body: dict[str, Any]) -> list[Segment]:
    segments = []
    for index, target in enumerate(get_dicts(body, "targets")):
        found = uuid_from_href(target.get("href"))
        segment = Segment.objects.filter(uuid=found).first() if found else None
        if segment is None:
            raise BadRequest(
                f"targets[{index}]: no list at {str(target.get('href'))[:200]!r}.",
                field=f"targets[{index}].href",
            )
        segments.append(segment)
    return segments


MESSAGE_FILTERS = {
    f.name: f
    for f in [
        odata.date_field("created_date", "created_at"),
        odata.date_field("modified_date", "modified_at"),
        odata.string_field("name", "name"),
        odata.string_field("subject", "subject"),
    ]
}
