"""Reading request bodies and query parameters defensively: every wrong shape is a 400 that names
the field, never a 500."""

import json
import uuid
from typing import Any
from urllib.parse import urlparse

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.db.models import Model, QuerySet
from django.http import QueryDict
from django.http.multipartparser import MultiPartParserError

from rallypoint.sharing.referral import CODE_RE, Referral, clean_channel

from .errors import BadRequest, NotFound, TooLarge
from .hal import MAX_PAGE_SIZE

MAX_BODY_BYTES = 1024 * 1024
FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


def read_body(request) -> dict[str, Any]:
    """The JSON object in the body. Content types are taken liberally: JSON is read whatever the
    header says; an HTML form post (embedded forms) is read as flat fields."""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    if length > MAX_BODY_BYTES:
        raise TooLarge(f"The body is too large (at most {MAX_BODY_BYTES // 1024} KB).")
    try:
        raw = request.body
    except RequestDataTooBig:
        raise TooLarge(f"The body is too large (at most {MAX_BODY_BYTES // 1024} KB).")
    if len(raw) > MAX_BODY_BYTES:
        raise TooLarge(f"The body is too large (at most {MAX_BODY_BYTES // 1024} KB).")
    content_type = (request.content_type or "").lower()
    if content_type in FORM_TYPES and not raw.lstrip().startswith((b"{", b"[")):
        try:
            return {"_form": request.POST}
        except (MultiPartParserError, TooManyFieldsSent, RequestDataTooBig) as exc:
            raise BadRequest(f"The form data could not be read: {exc}")
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError:
        raise BadRequest("The body is not UTF-8 text.")
    except RecursionError:
        raise BadRequest("The JSON body is nested too deeply.")
    except ValueError as exc:
        raise BadRequest(f"The body is not valid JSON: {exc}.")
    if not isinstance(data, dict):
        raise BadRequest("The body must be a JSON object ({...}).")
    return data


def form_fields(body: dict[str, Any]) -> QueryDict | None:
    return body.get("_form")


# --- typed getters: each names the field in its error -----------------------------------------


def get_str(
    data: dict[str, Any], name: str, *, path: str = "", max_length: int | None = None
) -> str | None:
    """A string field; None when absent or null. Numbers are accepted and turned into text."""
    field = path or name
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise BadRequest(f"{field} must be a string.", field=field)
    text = str(value).strip()
    if max_length is not None and len(text) > max_length:
        raise BadRequest(f"{field} must be at most {max_length} characters.", field=field)
    return text


def get_bool(data: dict[str, Any], name: str, *, path: str = "") -> bool | None:
    field = path or name
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in {"true", "false", "1", "0"}:
        return value.lower() in {"true", "1"}
    raise BadRequest(f"{field} must be true or false.", field=field)


def get_int(
    data: dict[str, Any], name: str, *, path: str = "", minimum: int | None = None
) -> int | None:
    field = path or name
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool):
        raise BadRequest(f"{field} must be a whole number.", field=field)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        value = int(value.strip())
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if not isinstance(value, int) or abs(value) > 2**53:
        raise BadRequest(f"{field} must be a whole number.", field=field)
    if minimum is not None and value < minimum:
        raise BadRequest(f"{field} must be at least {minimum}.", field=field)
    return value


def get_float(data: dict[str, Any], name: str, *, path: str = "") -> float | None:
    field = path or name
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool):
        raise BadRequest(f"{field} must be a number.", field=field)
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise BadRequest(f"{field} must be a number.", field=field)
    if number != number or number in (float("inf"), float("-inf")):
        raise BadRequest(f"{field} must be a number.", field=field)
    return number


def get_dict(data: dict[str, Any], name: str, *, path: str = "") -> dict[str, Any] | None:
    field = path or name
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, dict):
        raise BadRequest(f"{field} must be an object.", field=field)
    return value


def get_list(
    data: dict[str, Any], name: str, *, path: str = "", max_items: int = 100
) -> list[Any] | None:
    field = path or name
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, list):
        raise BadRequest(f"{field} must be a list.", field=field)
    if len(value) > max_items:
        raise BadRequest(f"{field} may hold at most {max_items} entries.", field=field)
    return value


def get_str_list(
    data: dict[str, Any], name: str, *, path: str = "", max_length: int = 200
) -> list[str]:
    field = path or name
    values = get_list(data, name, path=field) or []
    result = []
    for index, value in enumerate(values):
        if isinstance(value, bool) or not isinstance(value, str | int | float):
            raise BadRequest(f"{field}[{index}] must be a string.", field=f"{field}[{index}]")
        text = str(value).strip()
        if len(text) > max_length:
            raise BadRequest(
                f"{field}[{index}] must be at most {max_length} characters.",
                field=f"{field}[{index}]",
            )
        if text:
            result.append(text)
    return result


def get_dicts(data: dict[str, Any], name: str, *, path: str = "") -> list[dict[str, Any]]:
    field = path or name
    values = get_list(data, name, path=field) or []
    for index, value in enumerate(values):
        if not isinstance(value, dict):
            raise BadRequest(f"{field}[{index}] must be an object.", field=f"{field}[{index}]")
    return values


def pick_primary(entries: list[dict[str, Any]]) -> tuple[int, dict[str, Any]] | None:
    """The entry marked primary, else the first one."""
    if not entries:
        return None
    for index, entry in enumerate(entries):
        if entry.get("primary") is True:
            return index, entry
    return 0, entries[0]


# --- identifiers and links --------------------------------------------------------------------


def parse_uuid(value: Any) -> uuid.UUID | None:
    """A uuid from "<uuid>", "rallypoint:<uuid>" or "action_network:<uuid>"."""
    if not isinstance(value, str):
        return None
    text = value.strip()
    if ":" in text:
        text = text.rsplit(":", 1)[1]
    try:
        return uuid.UUID(text)
    except ValueError:
        return None


def get_object(queryset: QuerySet, value: Any, *, noun: str) -> Model:
    """The object with this public id, or a 404 that says what was missing."""
    found = parse_uuid(value)
    obj = queryset.filter(uuid=found).first() if found else None
    if obj is None:
        raise NotFound(f"Couldn't find {noun} with id = {value}.")
    return obj


def uuid_from_href(href: Any) -> uuid.UUID | None:
    """The id in a link's last path segment, whatever host it names (clients often build links
    with another vendor's host)."""
    if not isinstance(href, str):
        return None
    path = urlparse(href.strip()).path.rstrip("/")
    return parse_uuid(path.rsplit("/", 1)[-1]) if path else None


def linked_uuid(data: dict[str, Any], rel: str) -> uuid.UUID | None:
    """The id behind `_links[rel].href`; None when the link is absent. A malformed link is a 400."""
    links = get_dict(data, "_links") or {}
    link = links.get(rel)
    if link is None:
        return None
    if not isinstance(link, dict) or not isinstance(link.get("href"), str):
        raise BadRequest(f"_links.{rel} must be an object with an href.", field=f"_links.{rel}")
    found = uuid_from_href(link["href"])
    if found is None:
        raise BadRequest(
            f"_links.{rel}.href does not end with an id we know.", field=f"_links.{rel}.href"
        )
    return found


# --- referrer_data ----------------------------------------------------------------------------


def get_referral(data: dict[str, Any]) -> tuple[Referral | None, dict[str, str]]:
    """`referrer_data` (or `action_network:referrer_data`): {source, referrer, website, url}.
    `referrer` is a person's share code; `source` names the channel (email, facebook, …).
    Returns the Referral for the ledger and the cleaned data to keep with the act."""
    name = "referrer_data" if "referrer_data" in data else "action_network:referrer_data"
    raw = get_dict(data, name)
    if not raw:
        return None, {}
    cleaned = {}
    for key in ("source", "referrer", "website", "url"):
        value = get_str(raw, key, path=f"{name}.{key}", max_length=500)
        if value:
            cleaned[key] = value
    code = cleaned.get("referrer", "").lower()
    if not code:
        return None, cleaned
    if not CODE_RE.match(code):
        return None, cleaned  # a code from another system: kept in the details, credits nobody
    channel = clean_channel(cleaned.get("source")) or "direct"
    return Referral(code=code, channel=channel), cleaned


# --- pagination -------------------------------------------------------------------------------


def page_params(request) -> tuple[int, int]:
    """(page, per_page) from the query string: page ≥ 1, 1 ≤ per_page ≤ 25 (larger is capped)."""
    page = _positive(request.GET.get("page"), "page", default=1)
    per_page = min(_positive(request.GET.get("per_page"), "per_page", default=25), MAX_PAGE_SIZE)
    return page, per_page


def _positive(raw: str | None, name: str, *, default: int) -> int:
    if raw is None or raw.strip() == "":
        return default
    text = raw.strip()
    if not text.isdigit() or len(text) > 9 or int(text) < 1:
        raise BadRequest(f"{name} must be a whole number of 1 or more.", field=name)
    return int(text)
