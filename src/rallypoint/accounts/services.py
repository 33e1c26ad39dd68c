"""Accounts are logins; the supporter record is a Person. An account links to its person."""

from django.db import transaction

from rallypoint.people.services import PersonData, person_match_or_create

from .models import User


def account_link_person(*, user: User, given_name: str = "", family_name: str = "") -> User:
    """Point `user` at the person with the same email (never a second person)."""
    if user.person_id:
        return user
    with transaction.atomic():
        person, _ = person_match_or_create(
            PersonData(
                email=user.email, given_name=given_name, family_name=family_name, source="account"
            )
        )
        user.person = person
        user.save(update_fields=["person"])
    return user
