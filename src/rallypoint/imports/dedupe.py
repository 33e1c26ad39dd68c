"""Finding likely duplicate people that matching at entry could not catch.

Each finder returns keys of groups (one GROUP BY query, paginated by the caller); the people of
one page of groups are then loaded in a fixed number of queries.
"""

from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import Lower

from rallypoint.people.models import EmailAddress, Person, PhoneNumber, PostalAddress
from rallypoint.people.normalize import TYPO_DOMAINS
from rallypoint.people.queries import people_with_contacts

KINDS = {
    "phone": "Same phone number",
    "name": "Same name and ZIP / postal code",
    "email": "Email address with a misspelt domain",
}


@dataclass
class DuplicateGroup:
    kind: str
    key: str  # what they share, for the organizer ("+12025550123", "ana diaz · 80202")
    people: list[Person] = field(default_factory=list)

    @property
    def keep(self) -> Person:
        """The suggested record to keep: the oldest (it carries the longest history)."""
        return min(self.people, key=lambda p: (p.created_at, p.pk))


def phone_group_keys() -> QuerySet:
    return (
        PhoneNumber.objects.values("number")
        .annotate(people=Count("person_id", distinct=True))
        .filter(people__gt=1)
        .order_by("number")
    )


def name_group_keys() -> QuerySet:
    return (
        PostalAddress.objects.filter(primary=True)
        .exclude(postal_code="")
        .exclude(person__given_name="")
        .exclude(person__family_name="")
        .annotate(given=Lower("person__given_name"), family=Lower("person__family_name"))
        .values("given", "family", "postal_code")
        .annotate(people=Count("person_id", distinct=True))
        .filter(people__gt=1)
        .order_by("family", "given", "postal_code")
    )


def typo_email_pairs() -> list[tuple[str, str]]:
    """(misspelt address, the address it was meant to be) where both are on file. Misspelt
    addresses are few even in a large list, so this stays two indexed queries."""
    condition = Q()
    for typo in TYPO_DOMAINS:
        condition |= Q(address_normalized__endswith=f"@{typo}")
    typos = dict(
        EmailAddress.objects.filter(condition)
        .order_by("address_normalized")
        .values_list("address_normalized", "person_id")
    )
    meant = {}
    for address in typos:
        local, _, domain = address.rpartition("@")
        meant[address] = f"{local}@{TYPO_DOMAINS[domain]}"
    found = dict(
        EmailAddress.objects.filter(address_normalized__in=set(meant.values())).values_list(
            "address_normalized", "person_id"
        )
    )
    return [
        (typo, right)
        for typo, right in meant.items()
        if right in found and found[right] != typos[typo]
    ]


def duplicate_group_count(kind: str) -> int:
    if kind == "phone":
        return phone_group_keys().count()
    if kind == "name":
        return name_group_keys().count()
    return len(typo_email_pairs())


def duplicate_groups(kind: str, *, offset: int = 0, limit: int = 20) -> list[DuplicateGroup]:
    """One page of duplicate groups of `kind` ("phone", "name" or "email") with their people
    and contacts loaded."""
    groups: list[DuplicateGroup] = []
    members: dict[int, list[DuplicateGroup]] = {}
    if kind == "phone":
        keys = [row["number"] for row in phone_group_keys()[offset : offset + limit]]
        by_number = {k: DuplicateGroup(kind, k) for k in keys}
        groups = list(by_number.values())
        for number, person_id in PhoneNumber.objects.filter(number__in=keys).values_list(
            "number", "person_id"
        ):
            members.setdefault(person_id, []).append(by_number[number])
    elif kind == "name":
        rows = list(name_group_keys()[offset : offset + limit])
        by_key = {}
        condition = Q()
        for row in rows:
            key = (row["given"], row["family"], row["postal_code"])
            by_key[key] = DuplicateGroup(kind, f"{row['given']} {row['family']} · {key[2]}")
            condition |= Q(
                given=row["given"], family=row["family"], postal_addresses__postal_code=key[2]
            )
        groups = list(by_key.values())
        if rows:
            matches = (
                Person.objects.annotate(given=Lower("given_name"), family=Lower("family_name"))
                .filter(condition & Q(postal_addresses__primary=True))
                .values_list("pk", "given", "family", "postal_addresses__postal_code")
            )
            for pk, given, family, postal in matches:
                group = by_key.get((given, family, postal))
                if group is not None and group not in members.get(pk, []):
                    members.setdefault(pk, []).append(group)
    else:
        pairs = typo_email_pairs()[offset : offset + limit]
        by_address = {}
        for typo, right in pairs:
            group = DuplicateGroup(kind, f"{typo} → {right}")
            groups.append(group)
            by_address[typo] = by_address[right] = group
        for address, person_id in EmailAddress.objects.filter(
            address_normalized__in=by_address
        ).values_list("address_normalized", "person_id"):
            members.setdefault(person_id, []).append(by_address[address])
    for person in people_with_contacts().filter(pk__in=members).order_by("created_at", "pk"):
        for group in members[person.pk]:
            group.people.append(person)
    return [g for g in groups if len(g.people) > 1]
