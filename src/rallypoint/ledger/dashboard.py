"""Who is looking at "My Rallypoint": an account's person, or a person who opened a signed link.

Most supporters never set a password. Their thank-you emails carry `dashboard_link(person)`, a
signed link that expires after DASHBOARD_LINK_DAYS (30). Opening it starts a dashboard session
for that person: enough to see their own acts, recruits and share links, nothing more.
"""

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from rallypoint.accounts.services import account_link_person, unsubscribe_link
from rallypoint.core.mail import email_queue
from rallypoint.people.models import EmailAddress, Person
from rallypoint.people.normalize import email_key
from rallypoint.people.referral import OWN_CODE_SESSION_KEY

TOKEN_SALT = "rallypoint.ledger.dashboard"
SESSION_KEY = "rp_dashboard_person"


def link_max_age() -> int:
    return int(getattr(settings, "DASHBOARD_LINK_DAYS", 30)) * 24 * 3600


def dashboard_token(person: Person) -> str:
    # The share code is part of the token: regenerating it (a leaked link) revokes old links.
    return signing.dumps({"p": person.pk, "c": person.share_code}, salt=TOKEN_SALT, compress=True)


def dashboard_token_read(token: str) -> Person | None:
    """The person a link was made for, or None when it is forged, expired or revoked."""
    try:
        data = signing.loads(token, salt=TOKEN_SALT, max_age=link_max_age())
        person_id, code = int(data["p"]), str(data["c"])
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    return Person.objects.filter(pk=person_id, share_code=code).first()


def dashboard_link(person: Person) -> str:
    """Absolute URL that opens `person`'s dashboard. Tools put it in their thank-you emails."""
    return settings.SITE_URL + reverse("ledger:dashboard_link", args=[dashboard_token(person)])


def dashboard_session_start(request: Any, person: Person) -> None:
    request.session.cycle_key()
    request.session[SESSION_KEY] = person.pk
    request.session[OWN_CODE_SESSION_KEY] = person.share_code
    request._dashboard_person = person


def dashboard_session_end(request: Any) -> None:
    request.session.pop(SESSION_KEY, None)
    request.session.pop(OWN_CODE_SESSION_KEY, None)
    request._dashboard_person = None


def dashboard_person(request: Any) -> Person | None:
    """The supporter behind this request: the logged-in account's person, else the person whose
    dashboard link was opened in this browser. Cached on the request."""
    if hasattr(request, "_dashboard_person"):
        return request._dashboard_person
    person = None
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated and user.person_id:
        person = user.person
    else:
        session = getattr(request, "session", None)
        person_id = session.get(SESSION_KEY) if session is not None else None
        if person_id:
            person = Person.objects.filter(pk=person_id).first()
    request._dashboard_person = person
    return person


# --- writes ---------------------------------------------------------------------------------

LINK_UNDELIVERABLE = {"bouncing", "spam complaint"}


def dashboard_link_send(*, email: str) -> bool:
    """Email the dashboard link to whoever owns `email`. Returns True when a message was queued;
    callers answer the same either way so nobody learns who is on the list."""
    key = email_key(email) if email else ""
    address = (
        EmailAddress.objects.filter(address_normalized=key).select_related("person").first()
        if key
        else None
    )
    if address is None or address.status in LINK_UNDELIVERABLE:
        return False
    person = address.person
    # One message per person per ten minutes, however often the button is pressed.
    window = int(timezone.now().timestamp()) // 600
    with transaction.atomic():
        message = email_queue(
            to=address.address,
            template="ledger/email/dashboard_link",
            context={
                "person": person,
                "link": dashboard_link(person),
                "unsubscribe_url": unsubscribe_link(address),
            },
            dedupe_key=f"ledger.dashboard_link:{person.pk}:{window}",
            requested=True,
        )
    return message is not None


def dashboard_password_set(*, person: Person, password: str) -> Any:
    """Turn a dashboard visitor into an account holder: a supporter login with `person`'s
    primary email, linked to `person`. Raises ValidationError with a clear message."""
    User = get_user_model()
    if User.objects.filter(person=person).exists():
        raise ValidationError("You already have an account. Log in with your email and password.")
    address = person.email_addresses.order_by("-primary", "id").first()
    if address is None:
        raise ValidationError("We need an email address for you before you can set a password.")
    if User.objects.filter(email__iexact=address.address).exists():
        raise ValidationError(
            "An account with your email address already exists. Log in, or reset its password."
        )
    validate_password(password, user=User(email=address.address))
    with transaction.atomic():
        user = User.objects.create_user(address.address, password)
        user = account_link_person(user=user)
        if user.person_id != person.pk:  # the address moved to someone else meanwhile
            raise ValidationError("Something changed while saving. Please try again.")
    return user
