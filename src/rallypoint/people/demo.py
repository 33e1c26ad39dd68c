"""Demo people: thousands of supporters spread over real US postal codes.

About a third joined before the campaign began; the others joined while it ran, more of them
each week. A few people were entered twice, on purpose, the ways it happens (the duplicates
page has something true to show); otherwise names are unique within a ZIP code and phone
numbers (all in the fictional 555-01xx range) are unique, so no two different people look
like one."""

from dataclasses import dataclass
from datetime import timedelta

import zipcodes

from rallypoint.core.demo_support import moment

from .models import EmailAddress, Person, PhoneNumber, PostalAddress, Tag, Tagging

GIVEN = [
    "Ana",
    "Ben",
    "Carla",
    "Dev",
    "Elena",
    "Farah",
    "Gabe",
    "Hana",
    "Ivan",
    "Jada",
    "Kofi",
    "Lena",
    "Malik",
    "Nora",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sam",
    "Tara",
    "Uma",
    "Victor",
    "Wen",
    "Xavier",
    "Yara",
    "Zane",
    "Maya",
    "Luis",
    "Grace",
    "Theo",
    "Imani",
    "Diego",
    "Aisha",
    "Noah",
    "Chloe",
    "Mateo",
    "Zoe",
    "Ethan",
    "Amara",
    "Leo",
    "Sofia",
    "Jamal",
    "Ruth",
    "Hugo",
    "Ines",
    "Kenji",
    "Lucia",
    "Marcus",
    "Nadia",
    "Owen",
]
FAMILY = [
    "Garcia",
    "Smith",
    "Nguyen",
    "Johnson",
    "Patel",
    "Williams",
    "Kim",
    "Brown",
    "Lopez",
    "Davis",
    "Chen",
    "Miller",
    "Wilson",
    "Moore",
    "Taylor",
    "Anderson",
    "Thomas",
    "Jackson",
    "White",
    "Harris",
    "Martin",
    "Thompson",
    "Martinez",
    "Robinson",
    "Clark",
    "Lewis",
    "Lee",
    "Walker",
    "Hall",
    "Allen",
    "Young",
    "Hernandez",
    "King",
    "Wright",
    "Scott",
    "Green",
    "Baker",
    "Adams",
    "Nelson",
    "Hill",
    "Rivera",
    "Campbell",
    "Mitchell",
    "Roberts",
    "Carter",
    "Phillips",
    "Evans",
    "Turner",
    "Torres",
    "Parker",
    "Okafor",
    "Haddad",
    "Novak",
]
TAGS = [
    "volunteer",
    "donor",
    "host",
    "phone banker",
    "canvasser",
    "student",
    "union",
    "veteran",
    "teacher",
    "spanish speaker",
    "precinct captain",
    "data team",
]
METROS = [
    "100",
    "112",
    "191",
    "200",
    "212",
    "303",
    "331",
    "432",
    "441",
    "481",
    "532",
    "554",
    "600",
    "631",
    "641",
    "752",
    "770",
    "802",
    "850",
    "891",
    "900",
    "941",
    "956",
    "971",
    "981",
]


# Longer forms of some given names: the same person, written another way.
NAME_VARIANTS = {
    "Ana": "Anna",
    "Ben": "Benjamin",
    "Gabe": "Gabriel",
    "Sam": "Samuel",
    "Hana": "Hannah",
    "Sofia": "Sophia",
    "Leo": "Leonardo",
    "Theo": "Theodore",
}
OLD_SUPPORTERS = 0.35  # joined before the campaign began
PHONE_SHARE = 0.55


@dataclass
class _Row:
    """One person to create, with their contacts."""

    given: str
    family: str
    place: dict
    source: str
    email: str = ""
    phone: str = ""
    with_address: bool = True
    duplicate_of: int | None = None  # index of the row this one repeats


def demo_places(rng, count: int) -> list[dict]:
    active = [
        z
        for z in zipcodes.filter_by(active=True, zip_code_type="STANDARD")
        if z["state"] not in {"PR", "VI", "GU", "AS", "MP", "AA", "AE", "AP"}
    ]
    metro = [z for z in active if z["zip_code"][:3] in METROS]
    return [rng.choice(metro if rng.random() < 0.75 else active) for _ in range(count)]


def _free_number(rng, place: dict, used: set[str]) -> str:
    """A fictional number (555-0100 to 555-0199) in one of the place's area codes that nobody
    has yet; "" when they are all taken."""
    areas = list(place.get("area_codes") or ["202"])
    rng.shuffle(areas)
    for area in areas:
        for _ in range(4):
            number = f"+1{area}555{rng.randint(100, 199):04d}"
            if number not in used:
                return number
        free = [n for line in range(100, 200) if (n := f"+1{area}555{line:04d}") not in used]
        if free:
            return rng.choice(free)
    return ""


def _rows(ctx, places: list[dict], start: int) -> list[_Row]:
    """Everyone to create: unique people, then a few of them entered again."""
    rng = ctx.rng
    year = ctx.calendar.today.year
    per_kind = min(2, ctx.people_count // 300)
    unique = ctx.people_count - 4 * per_kind
    rows: list[_Row] = []
    names_in_zip: set[tuple[str, str, str]] = set()
    numbers: set[str] = set()
    for i, place in enumerate(places[:unique]):
        given, family = rng.choice(GIVEN), rng.choice(FAMILY)
        while (given, family, place["zip_code"]) in names_in_zip:
            given, family = rng.choice(GIVEN), rng.choice(FAMILY)
        names_in_zip.add((given, family, place["zip_code"]))
        row = _Row(given, family, place, source="")
        row.email = f"{given}.{family}{start + i}@example.org".lower()
        if rng.random() < PHONE_SHARE:
            row.phone = _free_number(rng, place, numbers)
            numbers.add(row.phone)
        rows.append(row)
    # The same person twice, each kind of duplicate the duplicates page finds.
    with_phone = [i for i, r in enumerate(rows) if r.phone]
    variants = [i for i in with_phone if rows[i].given in NAME_VARIANTS]
    variants = rng.sample(variants, k=min(len(variants), per_kind))
    same_name = [i for i in with_phone if i not in variants]
    same_name = rng.sample(same_name, k=2 * per_kind - len(variants))
    twice = {*variants, *same_name}
    others = rng.sample([i for i in range(len(rows)) if i not in twice], k=2 * per_kind)
    typos = ["gmial.com", "gamil.com", "gmai.com", "gnail.com"]
    for i in same_name:  # a text sign-up: same name and phone
        o = rows[i]
        rows.append(
            _Row(o.given, o.family, o.place, "text sign-up", phone=o.phone, with_address=False)
        )
        rows[-1].email = f"{o.given[0]}{o.family}.texts{start + len(rows)}@example.net".lower()
    for i in variants:  # an old list: the full name, same phone and ZIP code
        o = rows[i]
        dup = _Row(NAME_VARIANTS[o.given], o.family, o.place, f"import: {year - 1} list")
        dup.phone = o.phone
        dup.email = f"{dup.given}{o.family}{start + len(rows)}@example.net".lower()
        rows.append(dup)
    for n, i in enumerate(others[:per_kind]):  # a petition signed with a misspelt address
        o = rows[i]
        local = o.email.split("@")[0]
        o.email = f"{local}@gmail.com"
        rows.append(_Row(o.given, o.family, o.place, "petition", with_address=False))
        rows[-1].email = f"{local}@{typos[n % len(typos)]}"
    for i in others[per_kind:]:  # a paper sign-in sheet: same name and ZIP code
        o = rows[i]
        rows.append(_Row(o.given, o.family, o.place, "event sign-in sheet"))
        rows[-1].email = f"{o.given}{o.family}.home{start + len(rows)}@example.net".lower()
    for row, i in zip(rows[unique:], [*same_name, *variants, *others], strict=True):
        row.duplicate_of = i
    return rows


# Reserved for examples (RFC 2606): mail to them goes nowhere.
DEMO_DOMAINS = ("@example.org", "@example.net", "@example.com")


def build(ctx) -> None:
    rng, cal = ctx.rng, ctx.calendar
    tags = {name: Tag.objects.get_or_create(name=name)[0] for name in TAGS}
    places = demo_places(rng, ctx.people_count)
    start = Person.objects.count()
    rows = _rows(ctx, places, start)
    people = [
        Person(
            given_name=row.given,
            family_name=row.family,
            source=row.source,
            public_display=rng.random() > 0.1,
        )
        for row in rows
    ]
    Person.objects.bulk_create(people, batch_size=500)
    if not all(p.pk for p in people):
        people = list(Person.objects.order_by("id")[start:])
    # When each joined (auto_now_add ignores values at insert): old supporters in the year
    # before the campaign, the others while it ran, more of them each week; a duplicate record
    # after the one it repeats.
    year = cal.today.year
    old_sources = [f"import: {year - 1} list", "join page", "event", "house party"]
    for person, row in zip(people, rows, strict=True):
        if row.duplicate_of is not None:
            first = people[row.duplicate_of].created_at
            person.created_at = moment(rng, first + timedelta(days=1), ctx.now)
        elif rng.random() < OLD_SUPPORTERS:
            person.created_at = moment(
                rng, cal.campaign_start - timedelta(days=365), cal.campaign_start
            )
            person.source = rng.choice(old_sources)
        else:
            # Refined by the tools' demos: how each of them arrived.
            person.created_at = moment(rng, cal.campaign_start, ctx.now, lean=0.7)
            person.source = "join page"
    Person.objects.bulk_update(people, ["created_at"], batch_size=500)
    by_source: dict[str, list[int]] = {}
    for person in people:
        by_source.setdefault(person.source, []).append(person.pk)
    for source, ids in by_source.items():
        Person.objects.filter(pk__in=ids).update(source=source)
    emails, phones, addresses, taggings = [], [], [], []
    for person, row in zip(people, rows, strict=True):
        emails.append(
            EmailAddress(
                person=person,
                address=row.email,
                address_normalized=row.email,
                primary=True,
                # Addresses at real mail domains (the misspelt-domain duplicates need one) are
                # never mailed: a demo mailing sent through a real server reaches no one.
                status="unsubscribed"
                if rng.random() < 0.04 or not row.email.endswith(DEMO_DOMAINS)
                else "subscribed",
            )
        )
        if row.phone:
            phones.append(
                PhoneNumber(
                    person=person,
                    number=row.phone,
                    primary=True,
                    number_type="mobile",
                    sms_capable=True,
                    sms_consent=rng.random() < 0.6,
                )
            )
        if row.with_address:
            place = row.place
            addresses.append(
                PostalAddress(
                    person=person,
                    primary=True,
                    postal_code=place["zip_code"],
                    locality=place["city"].title(),
                    region=place["state"],
                    country="US",
                    latitude=float(place["lat"]),
                    longitude=float(place["long"]),
                    accuracy="approximate",
                )
            )
        for name in rng.sample(TAGS, k=rng.choice([0, 0, 1, 1, 2, 3])):
            taggings.append(Tagging(person=person, tag=tags[name]))
    EmailAddress.objects.bulk_create(emails, batch_size=1000)
    PhoneNumber.objects.bulk_create(phones, batch_size=1000)
    PostalAddress.objects.bulk_create(addresses, batch_size=1000)
    Tagging.objects.bulk_create(taggings, batch_size=1000, ignore_conflicts=True)
    ctx.data["people_ids"] = [p.pk for p in people]
    for person, row in zip(people, rows, strict=True):
        ctx.joined[person.pk] = person.created_at
        if person.public_display and person.given_name:
            ctx.public_names[person.pk] = person.public_name
        if row.duplicate_of is not None:
            ctx.duplicates.add(person.pk)
    codes = len({place["zip_code"] for place in places})
    ctx.log(
        f"Created {len(people):,} demo people across {codes:,} postal codes "
        f"({len(ctx.duplicates)} of them entered twice, for the duplicates page)."
    )


def load_people(ctx, person_ids: list[int]) -> None:
    """Read when people this module did not make joined, and their public names (a demo part
    run on its own, as in tests, or over people already on file)."""
    missing = [pk for pk in person_ids if pk not in ctx.joined]
    for person in Person.objects.filter(pk__in=missing).only(
        "id", "created_at", "given_name", "family_name", "public_display"
    ):
        ctx.joined[person.pk] = person.created_at
        if person.public_display and person.given_name:
            ctx.public_names[person.pk] = person.public_name
