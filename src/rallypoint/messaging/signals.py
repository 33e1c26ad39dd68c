"""The email provider's delivery and tracking events, as django-anymail sends them.

anymail's tracking webhook views (mounted at /mail/m/anymail/<provider>/tracking/, see
urls_public) check the provider's signature or the webhook's basic auth, turn each event into an
`AnymailTrackingEvent` and send it on `anymail.signals.tracking`, the library's only way to hand
them on. The receiver below only passes the event to the suppression service; it is connected in
MessagingConfig.ready().
"""

import logging
from typing import Any

from .services.suppression import provider_event_record

logger = logging.getLogger(__name__)


def tracking_event_received(sender: Any, event: Any, esp_name: str, **kwargs: Any) -> None:
    outcome = provider_event_record(event)
    logger.info(
        "%s %s event for %s: %s", esp_name, event.event_type, event.message_id or "?", outcome
    )
