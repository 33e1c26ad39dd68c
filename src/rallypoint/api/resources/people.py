"""People in OSDI's shape, and OSDI person documents read into the people service's PersonData."""

from typing import Any

from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import QueryDict

from rallypoint.people.models import EmailAddress, EmailStatus, Person, PhoneNumber, PostalAddress
from rallypoint.people.services import NAME_FIELDS, PersonData

from .. import odata
from ..errors import BadRequest
from ..hal import Links, dates, identifiers
from ..payload import (
    get_bool,
    get_dict,
    get_dicts,
    get_float,
    get_str,
    get_str_list,
    parse_uuid,
    pick_primary,
)

OWN_PREFIXES = ("rallypoint:", "action_network:")
# Relations a person links to; resources add theirs as their tools exist.
PERSON_SUBCOLLECTIONS = ["taggings", "signatures", "submissions", "attendances"]


def person_repr(person: Person, links: Links, *, created: bool = False) -> dict[str, Any]:
    """`person` should come from people.queries.people_with_contacts() (contacts prefetched)."""
    emails = list(person.email_addresses.all())
    phones = list(person.phone_numbers.all())
    addresses = list(person.postal_addresses.all())
    item_links: dict[str, Any] = {"self": links.link("people", person.uuid)}
    for plural in PERSON_SUBCOLLECTIONS:
        item_links[f"osdi:{plural}"] = links.link("people", person.uuid, plural)
    return {
        "identifiers": identifiers(person.uuid, person.foreign_identifiers),
        **dates(person, created=created),
        "given_name": person.given_name,
        "family_name": person.family_name,
        "additional_name": person.additional_name,
        "honorific_prefix": person.honorific_prefix,
        "honorific_suffix": person.honorific_suffix,
        "languages_spoken": list(person.languages_spoken),
        "custom_fields": dict(person.custom_fields),
        "source": person.source,
        "email_addresses": [_email_repr(e) for e in emails],
        "phone_numbers": [_phone_repr(p) for p in phones],
        "postal_addresses": [_address_repr(a) for a in addresses],
        "_links": item_links,
    }


def _email_repr(email: EmailAddress) -> dict[str, Any]:
    return {
        "address": email.address,
        "primary": email.primary,
        "address_type": email.address_type or "personal",
        "status": email.status,
    }


def _phone_repr(phone: PhoneNumber) -> dict[str, Any]:
    return {
        "number": phone.number.lstrip("+"),  # OSDI: digits with the country code
        "primary": phone.primary,
        "number_type": phone.number_type or "",
        "sms_capable": phone.sms_capable,
        "do_not_call": phone.do_not_call,
        "status": phone.status or ("subscribed" if phone.sms_consent else "unsubscribed"),
    }


def _address_repr(address: PostalAddress) -> dict[str, Any]:
    location: dict[str, Any] = {}
    if address.latitude is not None and address.longitude is not None:
        location = {
            "latitude": address.latitude,
            "longitude": address.longitude,
            "accuracy": address.accuracy or "approximate",
        }
    return {
        "primary": address.primary,
        "address_type": address.address_type or "home",
        "address_lines": list(address.address_lines),
        "locality": address.locality,
        "region": address.region,
        "postal_code": address.postal_code,
        "country": address.country,
        **({"location": location} if location else {}),
    }


def _identifier_q(op: str, value: Any) -> Any:
    """Find by any identifier: ours, the Action Network alias, or one a client posted."""
    if not isinstance(value, str):
        raise odata.FilterError("identifier takes a value in single quotes.")
    text = value.strip()
    if text.startswith(OWN_PREFIXES):
        found = parse_uuid(text)
        q = Q(uuid=found) if found else Q(pk__in=[])
    else:
        q = Q(foreign_identifiers__icontains=f'"{text}"')
    return q if op == "eq" else ~q


PEOPLE_FILTERS = {
    f.name: f
    for f in [
        odata.date_field("created_date", "created_at"),
        odata.date_field("modified_date", "modified_at"),
        odata.string_field("given_name", "given_name"),
        odata.string_field("family_name", "family_name"),
        odata.related_field(
            "email_address", EmailAddress, "address_normalized", "person_id", exact=True
        ),
        odata.related_field("postal_code", PostalAddress, "postal_code", "person_id"),
        odata.related_field("region", PostalAddress, "region", "person_id"),
        odata.related_field("locality", PostalAddress, "locality", "person_id"),
        odata.custom_field("identifier", _identifier_q),
    ]
}

# PersonData's names → the OSDI field a client should fix.
OSDI_FIELD_NAMES = {
    "email": "email_addresses",
    "phone": "phone_numbers",
    "postal_code": "postal_addresses",
    "email_status": "email_addresses.status",
}


def person_data_from_osdi(person: dict[str, Any], *, path: str = "person") -> PersonData:
    """Read an OSDI person document. One email, phone and postal address go to the matching
    service: the one marked primary, else the first. Blank or null fields mean "not given"."""
    data = PersonData()
    for name in (
        "given_name",
        "family_name",
        "additional_name",
        "honorific_prefix",
        "honorific_suffix",
    ):
        setattr(data, name, get_str(person, name, path=f"{path}.{name}", max_length=100) or "")
    data.source = get_str(person, "source", path=f"{path}.source", max_length=200) or ""
    data.languages_spoken = get_str_list(
        person, "languages_spoken", path=f"{path}.languages_spoken", max_length=20
    )
    data.identifiers = [
        i
        for i in get_str_list(person, "identifiers", path=f"{path}.identifiers")
        if not i.startswith(OWN_PREFIXES) and ":" in i
    ]
    custom = get_dict(person, "custom_fields", path=f"{path}.custom_fields") or {}
    for key, value in custom.items():
        if value is None:
            continue
        if isinstance(value, dict | list):
            raise BadRequest(
                f"{path}.custom_fields.{key} must be a string.", field=f"{path}.custom_fields.{key}"
            )
        if len(str(key)) > 100 or len(str(value)) > 5000:
            raise BadRequest(
                f"{path}.custom_fields.{key} is too long.", field=f"{path}.custom_fields.{key}"
            )
        data.custom_fields[str(key)] = str(value)

    emails = get_dicts(person, "email_addresses", path=f"{path}.email_addresses")
    chosen = pick_primary([e for e in emails if e.get("address")])
    if chosen:
        index, email = chosen
        where = f"{path}.email_addresses[{index}]"
        data.email = get_str(email, "address", path=f"{where}.address", max_length=254) or ""
        status = get_str(email, "status", path=f"{where}.status")
        if status:
            if status not in EmailStatus.values:
                raise BadRequest(
                    f"{where}.status must be one of: {', '.join(EmailStatus.values)}.",
                    field=f"{where}.status",
                )
            data.email_status = status

    phones = get_dicts(person, "phone_numbers", path=f"{path}.phone_numbers")
    chosen = pick_primary([p for p in phones if p.get("number") not in (None, "")])
    if chosen:
        index, phone = chosen
        where = f"{path}.phone_numbers[{index}]"
        number = get_str(phone, "number", path=f"{where}.number", max_length=40) or ""
        if number.isdigit() and len(number) > 10:
            number = f"+{number}"  # OSDI sends digits with the country code
        data.phone = number
        status = get_str(phone, "status", path=f"{where}.status")
        if status in ("subscribed", "unsubscribed"):
            data.sms_consent = status == "subscribed"

    addresses = get_dicts(person, "postal_addresses", path=f"{path}.postal_addresses")
    chosen = pick_primary(addresses)
    if chosen:
        index, address = chosen
        where = f"{path}.postal_addresses[{index}]"
        data.address_lines = get_str_list(address, "address_lines", path=f"{where}.address_lines")
        data.locality = get_str(address, "locality", path=f"{where}.locality", max_length=100) or ""
        data.region = get_str(address, "region", path=f"{where}.region", max_length=100) or ""
        data.postal_code = (
            get_str(address, "postal_code", path=f"{where}.postal_code", max_length=20) or ""
        )
        country = get_str(address, "country", path=f"{where}.country", max_length=2)
        if country:
            if not country.isalpha() or len(country) != 2:
                raise BadRequest(
                    f"{where}.country must be a two-letter ISO code.", field=f"{where}.country"
                )
            data.country = country.upper()
        location = get_dict(address, "location", path=f"{where}.location") or {}
        latitude = get_float(location, "latitude", path=f"{where}.location.latitude")
        longitude = get_float(location, "longitude", path=f"{where}.location.longitude")
        if latitude is not None and longitude is not None:
            if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
                raise BadRequest(f"{where}.location is not on Earth.", field=f"{where}.location")
            data.latitude, data.longitude = latitude, longitude
    return data


def person_data_from_form(form: QueryDict) -> tuple[PersonData, list[str]]:
    """An HTML form posted to the signup helper from another site: flat field names
    (email / email_address, phone / phone_number, given_name, family_name, postal_code,
    tags as repeated `add_tags` or comma-separated)."""

    def first(*names: str, limit: int = 200) -> str:
        for name in names:
            value = (form.get(name) or "").strip()
            if value:
                return value[:limit]
        return ""

    data = PersonData(
        email=first("email", "email_address", limit=254),
        phone=first("phone", "phone_number", "mobile", limit=40),
        given_name=first("given_name", "first_name", limit=100),
        family_name=first("family_name", "last_name", limit=100),
        postal_code=first("postal_code", "zip", limit=20),
        source=first("source", limit=200),
    )
    country = first("country", limit=2).upper()
    if country:
        if not country.isalpha() or len(country) != 2:
            raise BadRequest("country must be a two-letter ISO code.", field="country")
        data.country = country
    opt_in = (form.get("sms_opt_in") or "").strip().lower()
    # A checkbox without a value attribute posts "on".
    if opt_in in ("on", "yes") or get_bool({"v": opt_in or None}, "v", path="sms_opt_in"):
        data.sms_consent = True
    tags: list[str] = []
    for raw in form.getlist("add_tags"):
        tags.extend(t.strip()[:100] for t in raw.split(",") if t.strip())
    return data, tags[:20]


MERGED_FIELDS = ("custom_fields", "languages_spoken", "identifiers", "postal_addresses")


def person_update_from_osdi(person: Person, document: dict[str, Any], *, actor: Any) -> Person:
    """PUT /people/{id}: through the people services, inside the caller's transaction.
    Names and source go through person_update (null clears them); new email addresses and phone
    numbers through person_contact_add (which refuses ones on someone else's record); statuses
    through email_status_set; custom fields, languages, identifiers and a postal address are
    merged by matching the person on an address they already have."""
    from rallypoint.people.normalize import email_key
    from rallypoint.people.services import (
        email_status_set,
        person_contact_add,
        person_match_or_create,
        person_update,
    )

    own: dict[str, str] = {}
    for name in (*NAME_FIELDS, "source"):
        if name in document:
            limit = 200 if name == "source" else 100
            own[name] = get_str(document, name, max_length=limit) or ""
    if own:
        person_update(person=person, actor=actor, **own)

    for index, entry in enumerate(get_dicts(document, "email_addresses")):
        where = f"email_addresses[{index}]"
        address = get_str(entry, "address", path=f"{where}.address", max_length=254)
        if not address:
            continue
        status = get_str(entry, "status", path=f"{where}.status")
        if status and status not in EmailStatus.values:
            raise BadRequest(
                f"{where}.status must be one of: {', '.join(EmailStatus.values)}.",
                field=f"{where}.status",
            )
        mine = person.email_addresses.filter(address_normalized=email_key(address)).first()
        if mine is None:
            try:
                person_contact_add(person=person, actor=actor, email=address)
            except ValidationError as exc:
                raise BadRequest.from_validation(exc, {"email": f"{where}.address"})
            mine = person.email_addresses.get(address_normalized=email_key(address))
        if status:
            email_status_set(email=mine, status=status, actor=actor)

    for index, entry in enumerate(get_dicts(document, "phone_numbers")):
        where = f"phone_numbers[{index}]"
        number = get_str(entry, "number", path=f"{where}.number", max_length=40)
        if not number:
            continue
        if number.isdigit() and len(number) > 10:
            number = f"+{number}"
        status = get_str(entry, "status", path=f"{where}.status")
        consent = {"subscribed": True, "unsubscribed": False}.get(status or "")
        try:
            person_contact_add(person=person, actor=actor, phone=number, sms_consent=consent)
        except ValidationError as exc:
            raise BadRequest.from_validation(exc, {"phone": f"{where}.number"})

    if any(name in document for name in MERGED_FIELDS):
        rest = {name: document[name] for name in MERGED_FIELDS if name in document}
        data = person_data_from_osdi(rest, path="person")
        anchor_email = person.email_addresses.order_by("-primary", "id").first()
        anchor_phone = person.phone_numbers.order_by("-primary", "id").first()
        if anchor_email is None and anchor_phone is None:
            raise BadRequest(
                "Add an email address or phone number to this person before other details.",
                field="email_addresses",
            )
        data.email = anchor_email.address if anchor_email else ""
        data.phone = anchor_phone.number if anchor_phone and not anchor_email else ""
        matched, _ = person_match_or_create(data, trusted=True)
        if matched.pk != person.pk:  # cannot happen: the anchor is this person's own address
            raise BadRequest("This person's addresses point at another record.", field="person")
    return person


def person_data_for(person: Person) -> PersonData:
    """PersonData that the matching service resolves to exactly this person (their own primary
    email, else phone): how an act is recorded for a person a client links to by id."""
    email = person.email_addresses.order_by("-primary", "id").first()
    phone = None if email else person.phone_numbers.order_by("-primary", "id").first()
    if email is None and phone is None:
        raise BadRequest(
            "This person has no email address or phone number to record the act with.",
            field="_links.osdi:person",
        )
    return PersonData(email=email.address if email else "", phone=phone.number if phone else "")


def person_from_link(body: dict[str, Any]) -> Person | None:
    """The person named by `_links["osdi:person"].href`; None when no link was sent."""
    from ..errors import NotFound
    from ..payload import linked_uuid

    found = linked_uuid(body, "osdi:person")
    if found is None:
        return None
    person = Person.objects.filter(uuid=found).first()
    if person is None:
        raise NotFound(f"Couldn't find person with id = {found}.")
    return person
