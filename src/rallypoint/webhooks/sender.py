"""The outbound POST: signed, with a timeout, no redirects followed (a redirect is a failure the
organizer should see), and only the first bytes of the answer kept."""

import contextlib
import time
import urllib.error
import urllib.request
from dataclasses import dataclass

from django.conf import settings

from .models import Delivery
from .services import ID_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, sign

EXCERPT_BYTES = 500


@dataclass(frozen=True)
class Result:
    ok: bool
    status: int | None
    excerpt: str = ""
    error: str = ""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def post_signed(delivery: Delivery) -> Result:
    body = delivery.body.encode()
    timestamp = str(int(time.time()))
    request = urllib.request.Request(  # noqa: S310 (http(s) only: checked when the hook is saved)
        delivery.hook.url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "User-Agent": "Rallypoint-Webhooks/1",
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(delivery.hook.secret, timestamp, body),
            ID_HEADER: str(delivery.uuid),
            "Rallypoint-Webhook-Attempt": str(delivery.attempts),
        },
    )
    timeout = float(getattr(settings, "WEBHOOK_TIMEOUT_SECONDS", 10))
    try:
        with _opener.open(request, timeout=timeout) as response:
            excerpt = response.read(EXCERPT_BYTES).decode("utf-8", "replace")
            status = response.status
    except urllib.error.HTTPError as exc:
        excerpt = ""
        with contextlib.suppress(OSError):
            excerpt = exc.read(EXCERPT_BYTES).decode("utf-8", "replace")
        return Result(False, exc.code, excerpt, f"HTTP {exc.code} {exc.reason}"[:500])
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return Result(False, None, "", f"Could not reach the receiver: {reason}"[:500])
    if 200 <= status < 300:
        return Result(True, status, excerpt)
    return Result(False, status, excerpt, f"HTTP {status}")
