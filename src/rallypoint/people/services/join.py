"""Joining: the Join page's (and sign-up's) act of becoming a supporter."""

from typing import Any

from django.db import transaction

from rallypoint.core.mail import email_queue

from ..hooks import person_joined
from ..models import EmailAddress, EmailStatus, Person
from ..normalize import email_key
from .data import PersonData
from .matching import act_details, person_match


def person_join(
    *, data: PersonData, referral: Any = None, campaign: Any = None
) -> tuple[Person, bool]:
    """Someone joins (the public Join page, a sign-up form): match or create them, tell the apps
    that record joining (the ledger writes the "join" act once per person, so a double submit
    counts once, with its referral; people.hooks.person_joined) and queue one confirmation
    email. Returns (person, created)."""
    with transaction.atomic():
        match = person_match(data)
        person, created = match.person, match.created
        person_joined(
            person=person,
            created=created,
            campaign=campaign,
            referral=referral,
            details=act_details(match, {"source": data.source} if data.source else {}),
        )
        key = email_key(data.email)
        if created and key:
            # Just written by the match: the address as given, with the status it was given.
            address: EmailAddress | None = EmailAddress(
                address=data.email.strip(),
                status=data.email_status or EmailStatus.SUBSCRIBED,
            )
        else:
            address = person.email_addresses.filter(address_normalized=key).first() if key else None
        if address is not None and address.status == EmailStatus.SUBSCRIBED:
            email_queue(
                to=address.address,
                template="people/email/join_confirmation",
                context={"person": person},
                dedupe_key=f"people.join:{person.pk}",
            )
    return person, created
