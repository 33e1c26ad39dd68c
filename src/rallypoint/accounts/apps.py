from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "rallypoint.accounts"
    label = "accounts"

    def ready(self) -> None:
        from rallypoint.core.mail import address_block_reason_set, unsubscribe_link_maker_set

        unsubscribe_link_maker_set(supporter_unsubscribe_link)
        address_block_reason_set(suppressed_reason)


def supporter_unsubscribe_link(to: str) -> str | None:
    """The signed one-click unsubscribe URL for an address that belongs to a person (core's mail
    puts it in the List-Unsubscribe header and the template context), else None."""
    from rallypoint.accounts.services import unsubscribe_link
    from rallypoint.people.models import EmailAddress
    from rallypoint.people.normalize import email_key

    key = email_key(to)
    address = EmailAddress.objects.filter(address_normalized=key).first() if key else None
    return unsubscribe_link(address) if address is not None else None


def suppressed_reason(to: str) -> str:
    """Why mail a person did not ask for must not go to `to`: its status when it bounces or
    its owner reported our mail as spam (core.mail.email_queue), else ""."""
    from rallypoint.people.models import EmailAddress, EmailStatus
    from rallypoint.people.normalize import email_key

    key = email_key(to)
    if not key:
        return ""
    status = (
        EmailAddress.objects.filter(
            address_normalized=key,
            status__in=[EmailStatus.BOUNCING, EmailStatus.SPAM_COMPLAINT],
        )
        .values_list("status", flat=True)
        .first()
    )
    return status or ""
