from typing import TYPE_CHECKING

from django.apps import AppConfig

if TYPE_CHECKING:
    from rallypoint.core.mail import Recipient


class AccountsConfig(AppConfig):
    name = "rallypoint.accounts"
    label = "accounts"

    def ready(self) -> None:
        from rallypoint.core.mail import recipient_lookup_set

        recipient_lookup_set(recipient_of)


def recipient_of(to: str) -> "Recipient":
    """What core's mail needs to know about an address, from one lookup: the signed one-click
    unsubscribe URL when it belongs to a person (the List-Unsubscribe header and the template
    context), and whether it bounces or its owner reported our mail as spam (mail they did not
    ask for is then not sent)."""
    from rallypoint.accounts.services import unsubscribe_link
    from rallypoint.core.mail import Recipient
    from rallypoint.people.models import EmailAddress, EmailStatus
    from rallypoint.people.normalize import email_key

    key = email_key(to)
    address = EmailAddress.objects.filter(address_normalized=key).first() if key else None
    if address is None:
        return Recipient()
    blocked = (
        address.status
        if address.status in (EmailStatus.BOUNCING, EmailStatus.SPAM_COMPLAINT)
        else ""
    )
    return Recipient(unsubscribe_url=unsubscribe_link(address), blocked=blocked)
