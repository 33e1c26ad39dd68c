"""A referral: whose share code brought a visitor (`Person.share_code`), and on which channel.

Read from links and the referral cookie by sharing's middleware, carried through a sign-up or an
act, and stored by the ledger as the act's referrer and channel."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Referral:
    code: str
    channel: str = ""


# The visitor's own share code, kept in the session by the dashboard link.
OWN_CODE_SESSION_KEY = "rp_own_code"
