"""Accounts are logins; the supporter record is a Person. An account links to its person.

Proof of control: a login is tied to a person only through the person's own address, proven by
a signed link sent there. Sign-up never creates a login on the spot: it emails the address a
link (or, when the address already has an account, a note offering a password reset), and the
login is created by whoever opens that link. So every login's address was proven (or set by an
operator on the command line), and `account_link_person` may match on it.
"""

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from rallypoint.core.audit import log_action
from rallypoint.core.mail import email_queue
from rallypoint.people.models import EmailAddress, EmailStatus
from rallypoint.people.normalize import clean_email, email_key
from rallypoint.people.services import (
    PersonData,
    email_status_set,
    person_join,
    person_match_or_create,
)

from .models import Role, User

SIGNUP_SALT = "rallypoint.accounts.signup"
UNSUBSCRIBE_SALT = "rallypoint.accounts.unsubscribe"
NAME_MAX = 100
# Shown only to whoever opened a sign-up link, i.e. proved they control the address.
ACCOUNT_EXISTS = "There is already an account for this email. Log in, or reset the password."


def account_link_person(*, user: User, given_name: str = "", family_name: str = "") -> User:
    """Point `user` at the person who holds the login's own address (never a second person).

    Safe only because a login's address is proven: sign-up creates logins from an emailed link
    (`account_signup`), "My Rallypoint" from a link session (`dashboard_password_set`), and
    operators on the command line. The match is by that address alone, anonymous-safe (names only
    fill blanks). When that person already belongs to another account (two of their addresses),
    or the login's address is not one a supporter could have, the user stays unlinked."""
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


# --- sign-up by emailed link ------------------------------------------------------------------


@dataclass(frozen=True)
class SignupRequest:
    """What a sign-up form asked for, carried (signed) in the link emailed to `email`."""

    email: str
    given_name: str = ""
    family_name: str = ""
    referral_code: str = ""
    referral_channel: str = ""
    next_url: str = ""


def signup_token(signup: SignupRequest) -> str:
    return signing.dumps(
        {
            "e": signup.email,
            "g": signup.given_name,
            "f": signup.family_name,
            "r": signup.referral_code,
            "c": signup.referral_channel,
            "n": signup.next_url,
        },
        salt=SIGNUP_SALT,
        compress=True,
    )


def signup_token_read(token: str) -> SignupRequest | None:
    """The sign-up a link was made for, or None when it is forged, incomplete or expired (it
    works as long as a password-reset link: PASSWORD_RESET_TIMEOUT)."""
    try:
        data = signing.loads(token, salt=SIGNUP_SALT, max_age=settings.PASSWORD_RESET_TIMEOUT)
        return SignupRequest(
            email=clean_email(str(data["e"])),
            given_name=str(data.get("g", ""))[:NAME_MAX],
            family_name=str(data.get("f", ""))[:NAME_MAX],
            referral_code=str(data.get("r", ""))[:32],
            referral_channel=str(data.get("c", ""))[:32],
            next_url=str(data.get("n", ""))[:1000],
        )
    except (signing.BadSignature, KeyError, TypeError, ValueError, AttributeError):
        return None
    except ValidationError:
        return None


def _password_reset_url(user: User) -> str:
    return settings.SITE_URL + reverse(
        "accounts:password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )


def account_signup_request(*, signup: SignupRequest) -> bool:
    """Someone asked for an account for `signup.email`. Nothing is created: the address gets a
    link that finishes the sign-up, or, when it already has an account, a note saying so with a
    password-reset link. At most one message per address per ten minutes. Returns True when a
    message was queued; callers answer the same either way, so nobody learns who has an account
    or is on the list."""
    key = email_key(signup.email)
    window = int(timezone.now().timestamp()) // 600
    existing = User.objects.filter(email__iexact=signup.email).first()
    with transaction.atomic():
        if existing is not None:
            if not existing.is_active:
                return False
            message = email_queue(
                to=existing.email,
                template="accounts/email/signup_existing",
                context={
                    "login_url": settings.SITE_URL + reverse("accounts:login"),
                    "reset_url": _password_reset_url(existing),
                },
                dedupe_key=f"accounts.signup:{key}:{window}",
                requested=True,
            )
        else:
            message = email_queue(
                to=signup.email,
                template="accounts/email/signup_confirm",
                context={
                    "link": settings.SITE_URL
                    + reverse("accounts:signup_confirm", args=[signup_token(signup)]),
                    "days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
                },
                dedupe_key=f"accounts.signup:{key}:{window}",
                requested=True,
            )
    return message is not None


def account_signup(*, signup: SignupRequest, password: str, referral: Any = None) -> User:
    """Finish a sign-up from its emailed link (which proves the address): create the supporter
    login and link it to the person with that address (someone who joined before keeps their one
    record). Counts as joining. Raises ValidationError with a clear message."""
    email = clean_email(signup.email)
    if account_email_taken(email):
        raise ValidationError({"email": ACCOUNT_EXISTS})
    candidate = User(email=email)
    validate_password(password, user=candidate)
    try:
        return _account_create(signup=signup, email=email, password=password, referral=referral)
    except IntegrityError:  # the same link submitted twice at once: the other one won
        raise ValidationError({"email": ACCOUNT_EXISTS})


def _account_create(*, signup: SignupRequest, email: str, password: str, referral: Any) -> User:
    with transaction.atomic():
        person, _ = person_join(
            data=PersonData(
                email=email,
                given_name=signup.given_name,
                family_name=signup.family_name,
                source="account",
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


# --- "stop campaign emails" links -------------------------------------------------------------


def unsubscribe_token(address: EmailAddress) -> str:
    # The normalised address is part of the token: a link stops mail to the address it was sent
    # to, even if the row were reused. No expiry: links in old emails must keep working.
    return signing.dumps({"a": address.pk, "k": address.address_normalized}, salt=UNSUBSCRIBE_SALT)


def unsubscribe_link(address: EmailAddress) -> str:
    """Absolute, signed "stop campaign emails" link for one address. Put it only in emails sent
    to that address, never on a page."""
    return settings.SITE_URL + reverse("accounts:unsubscribe", args=[unsubscribe_token(address)])


def unsubscribe_token_read(token: str) -> EmailAddress | None:
    try:
        data = signing.loads(token, salt=UNSUBSCRIBE_SALT)
        address_id, key = int(data["a"]), str(data["k"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    return (
        EmailAddress.objects.select_related("person")
        .filter(pk=address_id, address_normalized=key)
        .first()
    )


def email_subscription_set(*, address: EmailAddress, subscribed: bool) -> EmailAddress:
    """The person's own choice from a signed link: stop campaign emails to this address, or
    start them again. A bouncing address is not marked subscribed (it would not be delivered)."""
    if subscribed:
        if address.status != EmailStatus.UNSUBSCRIBED:
            return address
        return email_status_set(email=address, status=EmailStatus.SUBSCRIBED, actor=None)
    if address.status in {EmailStatus.UNSUBSCRIBED, EmailStatus.SPAM_COMPLAINT}:
        return address
    return email_status_set(email=address, status=EmailStatus.UNSUBSCRIBED, actor=None)


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
