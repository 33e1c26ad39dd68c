"""rallypoint mail_bounces: read the bounce mailbox of plain SMTP sending (run it from cron).

Each message is read with bounce_mailbox.mailbox_message_record (delivery status notifications,
complaint reports, List-Unsubscribe mailto: requests) and then removed from the mailbox, unless
--keep. Reading a message twice changes nothing more, so a run stopped half-way is simply run
again. No database transaction is open while the mailbox server is talked to.
"""

import imaplib
import logging
import mailbox
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from rallypoint.messaging.services.bounce_mailbox import mailbox_message_record

logger = logging.getLogger(__name__)


class Source:
    """A mailbox: its messages as (key, raw bytes), and a way to remove one."""

    def messages(self) -> Iterator[tuple[str, bytes]]:
        raise NotImplementedError

    def remove(self, key: str) -> None:
        raise NotImplementedError

    def close(self) -> None:
        pass


class MaildirSource(Source):
    def __init__(self, path: str):
        if not Path(path, "cur").is_dir():
            raise CommandError(f"{path} is not a maildir (it has no cur/ folder).")
        self.box = mailbox.Maildir(path, create=False)

    def messages(self) -> Iterator[tuple[str, bytes]]:
        for key in list(self.box.keys()):
            try:
                yield key, self.box.get_bytes(key)
            except KeyError:  # removed by another run meanwhile
                continue

    def remove(self, key: str) -> None:
        self.box.discard(key)


class ImapSource(Source):
    def __init__(self, url: str):
        parts = urlsplit(url)
        secure = parts.scheme == "imaps"
        port = parts.port or (993 if secure else 143)
        timeout = float(getattr(settings, "EMAIL_TIMEOUT", 10))
        try:
            if secure:
                self.imap: imaplib.IMAP4 = imaplib.IMAP4_SSL(
                    parts.hostname or "", port, timeout=timeout
                )
            else:
                self.imap = imaplib.IMAP4(parts.hostname or "", port, timeout=timeout)
                self.imap.starttls()
            self.imap.login(unquote(parts.username or ""), unquote(parts.password or ""))
            folder = unquote(parts.path.lstrip("/")) or "INBOX"
            status, _ = self.imap.select(folder)
        except (OSError, imaplib.IMAP4.error) as exc:
            raise CommandError(f"Can't open the bounce mailbox at {parts.hostname}: {exc}") from exc
        if status != "OK":
            raise CommandError(f"Can't open the folder {folder!r} of the bounce mailbox.")
        self.removed = False

    def messages(self) -> Iterator[tuple[str, bytes]]:
        _, data = self.imap.uid("SEARCH", "ALL")
        for uid in (data[0] or b"").decode().split():
            _, fetched = self.imap.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = next((item[1] for item in fetched if isinstance(item, tuple)), None)
            if isinstance(raw, bytes):
                yield uid, raw

    def remove(self, key: str) -> None:
        self.imap.uid("STORE", key, "+FLAGS", r"(\Deleted)")
        self.removed = True

    def close(self) -> None:
        try:
            if self.removed:
                self.imap.expunge()
            self.imap.logout()
        except (OSError, imaplib.IMAP4.error):
            pass


def open_source(location: str) -> Source:
    if location.startswith(("imap://", "imaps://")):
        return ImapSource(location)
    if location.startswith("maildir://"):
        location = location.removeprefix("maildir://")
    return MaildirSource(location)


@contextmanager
def opened(location: str) -> Iterator[Source]:
    source = open_source(location)
    try:
        yield source
    finally:
        source.close()


class Command(BaseCommand):
    help = (
        "Read the bounce mailbox (MAILING_BOUNCE_MAILBOX: a maildir path or "
        "imaps://user:password@host/FOLDER): bounces, complaints and unsubscribe requests."
    )

    def add_arguments(self, parser):
        parser.add_argument("--mailbox", help="Read this mailbox instead of the setting's.")
        parser.add_argument(
            "--keep", action="store_true", help="Leave the messages in the mailbox."
        )

    def handle(self, *args, **options):
        location = options["mailbox"] or settings.MAILING_BOUNCE_MAILBOX
        if not location:
            raise CommandError("No bounce mailbox: set MAILING_BOUNCE_MAILBOX or pass --mailbox.")
        outcomes: Counter[str] = Counter()
        with opened(location) as source:
            for key, raw in source.messages():
                try:
                    outcome = mailbox_message_record(raw)
                except Exception as exc:  # one unreadable message must not stop the others
                    logger.warning("bounce mailbox message %s not read: %s", key, exc)
                    outcomes["error"] += 1
                    continue
                outcomes[outcome] += 1
                if not options["keep"]:
                    source.remove(key)
        summary = ", ".join(f"{name}: {count}" for name, count in sorted(outcomes.items()))
        self.stdout.write(f"Bounce mailbox read. {summary or 'No messages.'}")
