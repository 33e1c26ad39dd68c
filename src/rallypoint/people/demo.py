"""Demo people: thousands of supporters spread over real US postal codes."""

from datetime import timedelta

import zipcodes
from django.utils import timezone

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
SOURCES = ["join page", "petition", "event", "import: 2024 list", "referral", "house party"]
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


def demo_places(rng, count: int) -> list[dict]:
    active = [
        z
        for z in zipcodes.filter_by(active=True, zip_code_type="STANDARD")
        if z["state"] not in {"PR", "VI", "GU", "AS", "MP", "AA", "AE", "AP"}
    ]
    metro = [z for z in active if z["zip_code"][:3] in METROS]
    return [rng.choice(metro if rng.random() < 0.75 else active) for _ in range(count)]


def build(ctx) -> None:
    rng, now = ctx.rng, timezone.now()
    tags = {name: Tag.objects.get_or_create(name=name)[0] for name in TAGS}
    places = demo_places(rng, ctx.people_count)
    start = Person.objects.count()
    people = [
        Person(
            given_name=rng.choice(GIVEN),
            family_name=rng.choice(FAMILY),
            source=rng.choice(SOURCES),
            public_display=rng.random() > 0.1,
        )
        for _ in range(ctx.people_count)
    ]
    Person.objects.bulk_create(people, batch_size=500)
    people = list(Person.objects.order_by("id")[start:])
    # Spread sign-up times over the last 120 days (auto_now_add ignores values at insert).
    for person in people:
        person.created_at = now - timedelta(minutes=rng.randint(0, 120 * 24 * 60))
    Person.objects.bulk_update(people, ["created_at"], batch_size=500)
    emails, phones, addresses, taggings = [], [], [], []
    for i, (person, place) in enumerate(zip(people, places, strict=True)):
        local = f"{person.given_name}.{person.family_name}{start + i}".lower()
        address = f"{local}@example.org"
        emails.append(
            EmailAddress(
                person=person,
                address=address,
                address_normalized=address,
                primary=True,
                status="unsubscribed" if rng.random() < 0.04 else "subscribed",
            )
        )
        if rng.random() < 0.55:
            area = (place.get("area_codes") or ["202"])[0]
            phones.append(
                PhoneNumber(
                    person=person,
                    number=f"+1{area}555{rng.randint(100, 199):04d}",
                    primary=True,
                    number_type="mobile",
                    sms_capable=True,
                    sms_consent=rng.random() < 0.6,
                )
            )
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
    codes = len({place["zip_code"] for place in places})
    ctx.log(f"Created {len(people):,} demo people across {codes:,} postal codes.")
