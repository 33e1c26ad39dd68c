"""Accounts are logins; the supporter record is a Person. An account links to its person."""

from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction

from rallypoint.core.audit import log_action
from rallypoint.people.normalize import clean_email
from rallypoint.people.services import PersonData, person_join, person_match_or_create

from .models import Role, User


def account_link_person(*, user: User, given_name: str = "", family_name: str = "") -> User:
    """Point `user` at the person with the same email (never a second person). When that person
    already belongs to another account (two of their addresses), or the login's address is not
    one a supporter could have, the user stays unlinked."""
    if user.person_id:
        return user
    with transaction.atomic():
        try:
            person, _ = person_match_or_create(
                PersonData(
                    email=user.email,
                    given_name=given_name,
                    family_name=family_name,
                    source="account",
                )
            )
        except ValidationError:
            # A login made on the command line may use an address no supporter could have
            # (admin@campaign.localhost): it simply has no supporter record.
            return user
        if User.objects.filter(person=person).exclude(pk=user.pk).exists():
            return user
        user.person = person
        user.save(update_fields=["person"])
    return user


def account_email_taken(email: str) -> bool:
    return User.objects.filter(email__iexact=(email or "").strip()).exists()


def account_signup(
    *,
    email: str,
    password: str,
    given_name: str = "",
    family_name: str = "",
    referral: Any = None,
) -> User:
    """Create a supporter login for `email` and link it to their person record (matched by
    email: someone who joined before keeps their one record). Counts as joining."""
    email = clean_email(email)
    if account_email_taken(email):
        raise ValidationError(
            {"email": "There is already an account for this email. Log in, or reset the password."}
        )
    candidate = User(email=email)
    validate_password(password, user=candidate)
    with transaction.atomic():
        person, _ = person_join(
            data=PersonData(
                email=email, given_name=given_name, family_name=family_name, source="account"
            ),
            referral=referral,
        )
        if User.objects.filter(person=person).exists():
            raise ValidationError(
                {
                    "email": "This person already has an account under another email address. "
                    "Log in with that one, or reset its password."
                }
            )
        user = User.objects.create_user(email=email, password=password, person=person)
    return user


def user_role_set(*, user: User, role: str, actor: Any) -> User:
    """An admin changes someone's role. Audited; an admin cannot demote themselves (so a
    site never locks out its last admin by accident)."""
    if role not in Role.values:
        raise ValidationError(f"Unknown role {role!r}.")
    if not getattr(actor, "is_admin", False):
        raise ValidationError("Only admins can change roles.")
    if user.pk == actor.pk and role != Role.ADMIN:
        raise ValidationError("You can't remove your own admin role. Ask another admin.")
    if user.role == role:
        return user
    before = user.role
    with transaction.atomic():
        user.role = role
        user.save(update_fields=["role"])
        log_action(
            "user.role.changed",
            obj=user,
            actor=actor,
            data={"email": user.email, "before": {"role": before}, "after": {"role": role}},
        )
    return user
