"""A mailing ready to send, in a database another process will send it from; run by
test_exactly_once.py in a child process (its own settings: DATABASE_URL, RALLYPOINT_VAR_DIR).

    python -m tests.messaging.exactly_once_world setup 150    # prints {"mailing": id}
    python -m tests.messaging.exactly_once_world expire <id>  # as if every lease had run out
    python -m tests.messaging.exactly_once_world report <id>  # statuses and Message-IDs
"""

import json
import os
import sys
from datetime import timedelta


def main(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rallypoint.settings")
    import django

    django.setup()
    from django.conf import settings
    from django.db.models import F

    from rallypoint.messaging.models import Delivery, Mailing
    from rallypoint.messaging.services.delivery import mailing_send, mailing_snapshot
    from rallypoint.messaging.services.render import delivery_message_id

    what, value = argv[0], int(argv[1])
    if what == "setup":
        from tests.messaging.factories import MailingFactory, SegmentFactory, subscriber

        segment = SegmentFactory()
        for i in range(value):
            subscriber(segment, address=f"r{i}@example.org", given_name=f"R{i}")
        mailing = MailingFactory(include=[segment])
        mailing_send(mailing)
        mailing_snapshot(mailing.pk)
        print(json.dumps({"mailing": mailing.pk}))
    elif what == "expire":
        expired = Delivery.objects.filter(mailing_id=value, claimed_at__isnull=False).update(
            claimed_at=F("claimed_at") - timedelta(seconds=settings.MAILING_LEASE_SECONDS + 1)
        )
        print(json.dumps({"expired": expired}))
    elif what == "report":
        mailing = Mailing.objects.get(pk=value)
        statuses: dict[str, int] = {}
        ids = {}
        for delivery in Delivery.objects.filter(mailing=mailing):
            statuses[delivery.status] = statuses.get(delivery.status, 0) + 1
            ids[delivery.address.lower()] = delivery_message_id(mailing, delivery)
        print(json.dumps({"status": mailing.status, "deliveries": statuses, "message_ids": ids}))


if __name__ == "__main__":
    main(sys.argv[1:])
