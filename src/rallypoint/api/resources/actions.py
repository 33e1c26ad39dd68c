"""Petitions and forms (actions of kind petition / form) with their signatures and submissions,
in OSDI's shape. One description per kind keeps the two resources the same code."""

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.urls import reverse

from rallypoint.actions.models import Action, ActionKind, Submission

from .. import odata
from ..errors import BadRequest
from ..hal import Links, dates, identifiers, osdi_date
from ..payload import get_list, get_str


@dataclass(frozen=True)
class ActionResource:
    kind: str  # the ActionKind created through this resource
    kinds: tuple[str, ...]  # the kinds listed (pledges read as petitions: one name per person)
    plural: str  # "petitions"
    item_plural: str  # "signatures"
    item: str  # "signature"
    helper: str  # "osdi:record_signature_helper"
    total_field: str  # "total_signatures"
    comment_field: str  # "comments"


PETITIONS = ActionResource(
    ActionKind.PETITION,
    (ActionKind.PETITION, ActionKind.PLEDGE),
    "petitions",
    "signatures",
    "signature",
    "osdi:record_signature_helper",
    "total_signatures",
    "comments",
)
FORMS = ActionResource(
    ActionKind.FORM,
    (ActionKind.FORM,),
    "forms",
    "submissions",
    "submission",
    "osdi:record_submission_helper",
    "total_submissions",
    "comment",
)
BY_KIND = {kind: r for r in (PETITIONS, FORMS) for kind in r.kinds}


def browser_url(action: Action) -> str:
    return f"{settings.SITE_URL}{reverse('actions:detail', args=[action.slug])}"


def action_repr(
    action: Action, resource: ActionResource, links: Links, *, created: bool = False
) -> dict[str, Any]:
    """`action` should carry `total` (api_actions annotates it)."""
    body: dict[str, Any] = {
        "identifiers": identifiers(action.uuid),
        **dates(action, created=created),
        "title": action.title,
        "name": action.slug,
        "summary": action.summary,
        "description": action.description,
        "browser_url": browser_url(action),
        "status": action.status,
        resource.total_field: getattr(action, "total", 0),
        "_links": {
            "self": links.link(resource.plural, action.uuid),
            f"osdi:{resource.item_plural}": links.link(
                resource.plural, action.uuid, resource.item_plural
            ),
            resource.helper: links.link(resource.plural, action.uuid, resource.item_plural),
        },
    }
    if resource.kind == ActionKind.PETITION:
        body["petition_text"] = action.petition_text or action.pledge_headline
        body["target"] = [{"name": t.get("name", "")} for t in action.targets if t.get("name")]
    return body


def submission_repr(
    submission: Submission, resource: ActionResource, links: Links, *, created: bool = False
) -> dict[str, Any]:
    """`submission` should have action, person and referrer loaded."""
    when = osdi_date(submission.created_at)
    referrer_data: dict[str, str] = {}
    if submission.referrer_id:
        referrer_data["referrer"] = submission.referrer.share_code
    if submission.channel:
        referrer_data["source"] = submission.channel
    action_uuid = submission.action.uuid
    return {
        "identifiers": identifiers(f"{resource.item}-{submission.pk}"),
        "created_date": when,
        "modified_date": when,
        resource.comment_field: submission.comment,
        "referrer_data": referrer_data,
        "_links": {
            "self": links.link(resource.plural, action_uuid, resource.item_plural, submission.pk),
            f"osdi:{resource.plural[:-1]}": links.link(resource.plural, action_uuid),
            "osdi:person": links.link("people", submission.person.uuid),
        },
    }


ACTION_FILTERS = {
    f.name: f
    for f in [
        odata.date_field("created_date", "created_at"),
        odata.date_field("modified_date", "modified_at"),
        odata.string_field("title", "title"),
    ]
}

SUBMISSION_FILTERS = {
    f.name: f
    for f in [
        odata.date_field("created_date", "created_at"),
        odata.date_field("modified_date", "created_at"),
    ]
}


def submission_id(value: str) -> int:
    """Signature and submission ids: "123", "signature-123" or "rallypoint:signature-123"."""
    text = (value or "").rsplit(":", 1)[-1].rsplit("-", 1)[-1]
    if not text.isdigit() or len(text) > 18:
        return 0
    return int(text)


def action_values_from_osdi(
    document: dict[str, Any], resource: ActionResource, *, partial: bool
) -> dict[str, Any]:
    """The actions service's fields from an OSDI petition or form document."""
    values: dict[str, Any] = {}
    title = get_str(document, "title", max_length=200)
    if title is not None:
        values["title"] = title
    elif not partial:
        raise BadRequest(f"A {resource.plural[:-1]} needs a title.", field="title")
    for name, limit in (("summary", 300), ("description", 20000)):
        value = get_str(document, name, max_length=limit)
        if value is not None:
            values[name] = value
    if resource.kind == ActionKind.PETITION:
        text = get_str(document, "petition_text", max_length=20000)
        if text is not None:
            values["petition_text"] = text
        if "target" in document:
            values["targets"] = _targets(document)
    return values


def _targets(document: dict[str, Any]) -> list[dict[str, str]]:
    raw = document.get("target")
    if raw is None:
        return []
    if isinstance(raw, str):
        return [{"name": raw.strip()[:200]}] if raw.strip() else []
    if isinstance(raw, dict):
        raw = [raw]
        document = {"target": raw}
    get_list(document, "target", max_items=50)
    targets = []
    for index, entry in enumerate(raw):
        if isinstance(entry, str):
            entry = {"name": entry}
        if not isinstance(entry, dict):
            raise BadRequest(f"target[{index}] must be an object.", field=f"target[{index}]")
        name = get_str(entry, "name", path=f"target[{index}].name", max_length=200)
        if name:
            targets.append({"name": name})
    return targets
