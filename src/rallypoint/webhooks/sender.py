"""The outbound POST, through the guarded client (rallypoint.core.http): signed, with a timeout,
no redirects followed (a redirect is a failure the organizer should see), never to an address
inside the network, and only a short text excerpt of the answer kept."""

import time
from dataclasses import dataclass

from django.conf import settings

from rallypoint.core.http import DestinationRefused, OutgoingError, request_send

from .models import Delivery
from .services import ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, hook_schemes, sign

REFUSED_PREFIX = "Refused, nothing was sent: "


@dataclass(frozen=True)
class Result:
    ok: bool
    status: int | None
    excerpt: str = ""
    error: str = ""


def post_signed(delivery: Delivery) -> Result:
    body = delivery.body.encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "Rallypoint-Webhooks/1",
        TIMESTAMP_HEADER: timestamp,
        SIGNATURE_HEADER: sign(delivery.hook.secret, timestamp, body),
        ID_HEADER: str(delivery.uuid),
        "Rallypoint-Webhook-Attempt": str(delivery.attempts),
    }
    try:
        reply = request_send(
            method="POST",
            url=delivery.hook.url,
            headers=headers,
            body=body,
            timeout=float(getattr(settings, "WEBHOOK_TIMEOUT_SECONDS", 10)),
            schemes=hook_schemes(),
        )
    except DestinationRefused as exc:
        return Result(False, None, "", REFUSED_PREFIX + exc.message)
    except OutgoingError as exc:
        return Result(False, None, "", exc.message)
    if 200 <= reply.status < 300:
        return Result(True, reply.status, reply.excerpt)
    return Result(False, reply.status, reply.excerpt, f"HTTP {reply.status}")
