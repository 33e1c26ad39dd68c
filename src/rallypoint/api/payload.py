"""Reading request bodies and query parameters defensively: every wrong shape is a 400 that names
the field, never a 500.

Every body and query string passes `text_check` where it is read: a NUL character or a lone
surrogate (text no database column and no UTF-8 encoder accepts) anywhere in it is refused with the
path of the field that held it, whichever route reads it next."""

import json
import re
import uuid
from collections.abc import Iterator, Mapping
from typing import Any
from urllib.parse import urlparse

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, ValidationError
from django.core.validators import URLValidator
from django.db.models import Model, QuerySet
from django.http import QueryDict
from django.http.multipartparser import MultiPartParserError

from rallypoint.people.referral import Referral
from rallypoint.sharing.referral import CODE_RE, clean_channel

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
            form = request.POST
        except (MultiPartParserError, TooManyFieldsSent, RequestDataTooBig) as exc:
            raise BadRequest(f"The form data could not be read: {exc}")
        query_check(form)
        return {"_form": form}
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw.decode("utf-8-sig"), parse_constant=_refuse_constant)
    except UnicodeDecodeError:
        raise BadRequest("The body is not UTF-8 text.")
    except RecursionError:
        raise BadRequest("The JSON body is nested too deeply.")
    except ValueError as exc:
        raise BadRequest(f"The body is not valid JSON: {exc}.")
    if not isinstance(data, dict):
        raise BadRequest("The body must be a JSON object ({...}).")
    text_check(data)
    return data


def _refuse_constant(name: str) -> Any:
    # Python's json reads NaN and Infinity, which JSON does not have: no field wants them.
    raise ValueError(f"{name} is not a JSON value")


# --- text no database stores ------------------------------------------------------------------

# NUL: PostgreSQL refuses it in text, SQLite cuts strings at it. A lone surrogate (JSON's "\ud800")
# is not a character at all: UTF-8 cannot encode it, so neither the database nor a response can.
BAD_TEXT_RE = re.compile(r"[\x00\ud800-\udfff]")
MAX_REPORTED = 20


def _shown(text: str) -> str:
    """`text` safe to echo in an error: NULs and lone surrogates written as \\u escapes."""
    return BAD_TEXT_RE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)


def field_path(path: str, key: Any) -> str:
    """`path` and one step into it, as errors name fields: `person.email_addresses[0]`."""
    if isinstance(key, int):
        return f"{path}[{key}]"
    name = _shown(str(key))
    return f"{path}.{name}" if path else name


def _bad_text_fields(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """(field path, what is wrong) for each string, key included, holding a NUL or a lone
    surrogate. Iterative: a document nested as deeply as the JSON reader allows is walked too."""
    stack: list[tuple[str, Any]] = [(path, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            found = BAD_TEXT_RE.search(item)
            if found is not None:
                yield where, _bad_text_reason(found.group(), "This value")
        elif isinstance(item, Mapping):
            children = []
            for key, child in item.items():
                child_path = field_path(where, key)
                found = BAD_TEXT_RE.search(str(key))
                if found is not None:
                    yield child_path, _bad_text_reason(found.group(), "This field's name")
                children.append((child_path, child))
            stack.extend(reversed(children))
        elif isinstance(item, list | tuple):
            stack.extend(reversed([(field_path(where, i), child) for i, child in enumerate(item)]))


def _bad_text_reason(char: str, subject: str) -> str:
    if char == "\x00":
        return f"{subject} contains a NUL character (\\u0000), which text may not hold."
    return (
        f"{subject} contains a lone surrogate (\\u{ord(char):04x}), which is not a character: "
        "send valid Unicode text."
    )


def text_check(value: Any, *, path: str = "") -> None:
    """Refuse (400, naming each field) any NUL character or lone surrogate in `value`: a parsed
    JSON document, form fields or query parameters."""
    problems: list[dict[str, str]] = []
    for field, reason in _bad_text_fields(value, path):
        problems.append({"field": field, "description": reason})
        if len(problems) == MAX_REPORTED:
            break
    if problems:
        fields = ", ".join(p["field"] or "(the body)" for p in problems)
        raise BadRequest(f"Text that cannot be stored in: {fields}.", errors=problems)


def query_check(params: QueryDict) -> None:
    """The same check for a query string (`filter`, `page`…) or form fields."""
    fields: dict[str, Any] = {}
    for key in params:
        values = params.getlist(key)
        fields[key] = values[0] if len(values) == 1 else values
    text_check(fields)


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


WEB_SCHEMES = ("http", "https")
ID_PREFIXES = ("rallypoint", "action_network")  # "action_network:<id>" in place of a link
SCHEME_RE = re.compile(r"^\s*([A-Za-z][A-Za-z0-9+.\-]*):")


def url_scheme(text: str) -> str:
    """The scheme `text` starts with, lower-cased ("" for a bare host or path). Browsers drop
    tabs and newlines inside a scheme (`java\tscript:`): so does this."""
    found = SCHEME_RE.match(re.sub(r"[\t\n\r]", "", text))
    return found.group(1).lower() if found else ""


def get_url(
    data: dict[str, Any],
    name: str,
    *,
    path: str = "",
    max_length: int = 500,
    bare_host: bool = False,
) -> str | None:
    """A web address: http(s) only, so no `javascript:`, `data:` or `file:` link is ever stored
    or shown. `bare_host` also takes a host without a scheme ("www.facebook.com", as Action
    Network's referrer_data.website is written)."""
    field = path or name
    text = get_str(data, name, path=field, max_length=max_length)
    if not text:
        return text
    scheme = url_scheme(text)
    candidate = f"https://{text}" if bare_host and not scheme and "://" not in text else text
    if scheme and scheme not in WEB_SCHEMES:
        raise BadRequest(f"{field} must be an http(s) address, not {scheme}:.", field=field)
    try:
        URLValidator(schemes=list(WEB_SCHEMES))(candidate)
    except ValidationError:
        raise BadRequest(f"{field} must be an http(s) address (https://…).", field=field)
    return text


def linked_uuid(data: dict[str, Any], rel: str) -> uuid.UUID | None:
    """The id behind `_links[rel].href`; None when the link is absent. A malformed link is a 400."""
    links = get_dict(data, "_links") or {}
    link = links.get(rel)
    if link is None:
        return None
    if not isinstance(link, dict) or not isinstance(link.get("href"), str):
        raise BadRequest(f"_links.{rel} must be an object with an href.", field=f"_links.{rel}")
    scheme = url_scheme(link["href"])
    if scheme and scheme not in (*WEB_SCHEMES, *ID_PREFIXES):
        raise BadRequest(
            f"_links.{rel}.href must be an http(s) address, not {scheme}:.",
            field=f"_links.{rel}.href",
        )
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
    for key in ("source", "referrer"):
        value = get_str(raw, key, path=f"{name}.{key}", max_length=500)
        if value:
            cleaned[key] = value
    for key in ("website", "url"):
        value = get_url(raw, key, path=f"{name}.{key}", bare_host=key == "website")
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
