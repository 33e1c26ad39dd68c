from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "rallypoint.accounts"
    label = "accounts"

    def ready(self) -> None:
        from rallypoint.core.mail import unsubscribe_link_maker_set

        unsubscribe_link_maker_set(supporter_unsubscribe_link)


def supporter_unsubscribe_link(to: str) -> str | None:
    """The signed one-click unsubscribe URL for an address that belongs to a person (core's mail
    puts it in the List-Unsubscribe header and the template context), else None."""
    from rallypoint.accounts.services import unsubscribe_link
    from rallypoint.people.models import EmailAddress
    from rallypoint.people.normalize import email_key

    key = email_key(to)
    address = EmailAddress.objects.filter(address_normalized=key).first() if key else None
    return unsubscribe_link(address) if address is not None else None
