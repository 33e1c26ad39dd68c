"""What a keyless helper post may carry: the Join page's fields. Anyone at all can send one (an
embedded form on another site), so anything only a key may change (tags, custom fields, email
status, identifiers, acting for a person by id…) is refused with a 400 naming every such field,
before anything is read or written."""

from collections.abc import Iterable
from typing import Any

from .errors import BadRequest
from .payload import MAX_REPORTED, field_path, form_fields

ANY = True
REFERRER_DATA = {"source": ANY, "referrer": ANY, "website": ANY, "url": ANY}
# The Join page's fields in OSDI's shape (names, email, phone with SMS consent, postal code and
# country, referral). A leaf is ANY or the set of values allowed; a list gives each entry's shape.
HELPER_DOCUMENT: dict[str, Any] = {
    "person": {
        "given_name": ANY,
        "family_name": ANY,
        "email_addresses": [{"address": ANY, "primary": ANY}],
        "phone_numbers": [{"number": ANY, "primary": ANY, "status": frozenset({"subscribed"})}],
        "postal_addresses": [{"postal_code": ANY, "country": ANY, "primary": ANY}],
    },
    "referrer_data": REFERRER_DATA,
    "action_network:referrer_data": REFERRER_DATA,
}
# The same fields as flat HTML form names (see resources.people.person_data_from_form).
HELPER_FORM_FIELDS = frozenset(
    {
        "email",
        "email_address",
        "phone",
        "phone_number",
        "mobile",
        "given_name",
        "first_name",
        "family_name",
        "last_name",
        "postal_code",
        "zip",
        "country",
        "sms_opt_in",
        "ref",
        "ch",
    }
)
NOT_WITHOUT_KEY = (
    "Not accepted without an API key: a sign-up form may send names, email, phone, postal code, "
    "SMS consent and referral only."
)


def helper_body_check(body: dict[str, Any], *, extra: Iterable[str] = ()) -> None:
    """A keyless helper post (an embedded form: anyone at all) may carry the Join page's fields
    and the `extra` top-level ones its route takes (a comment, guests); anything else would let a
    stranger change what only a key may (tags, custom fields, email status, identifiers…).
    Refused with a 400 naming every such field, before anything is read or written."""
    allowed = frozenset(extra)
    form = form_fields(body)
    if form is not None:
        known = HELPER_FORM_FIELDS | allowed
        refused = [(field_path("", key), NOT_WITHOUT_KEY) for key in form if key not in known]
    else:
        shape = {**HELPER_DOCUMENT, **dict.fromkeys(allowed, ANY)}
        refused = _refused(body, shape, "")
    if refused:
        names = ", ".join(field for field, _ in refused[:MAX_REPORTED])
        raise BadRequest(
            f"Without an API key only the sign-up fields are accepted; refused: {names}.",
            errors=[{"field": f, "description": d} for f, d in refused[:MAX_REPORTED]],
        )


def _refused(value: Any, shape: Any, path: str) -> list[tuple[str, str]]:
    """Fields of `value` outside `shape`. A value of the wrong type is left to the field's reader,
    which names it in its own 400."""
    found: list[tuple[str, str]] = []
    if isinstance(shape, dict) and isinstance(value, dict):
        for key, child in value.items():
            where = field_path(path, key)
            if key in shape:
                found.extend(_refused(child, shape[key], where))
            else:
                found.append((where, NOT_WITHOUT_KEY))
    elif isinstance(shape, list) and isinstance(value, list):
        for index, entry in enumerate(value):
            found.extend(_refused(entry, shape[0], field_path(path, index)))
    elif isinstance(shape, frozenset) and value is not None and not _one_of(value, shape):
        choices = " or ".join(f'"{v}"' for v in sorted(shape))
        found.append((path, f"Without an API key this may only be {choices} (or left out)."))
    return found


def _one_of(value: Any, choices: frozenset[str]) -> bool:
    return isinstance(value, str) and value in choices
