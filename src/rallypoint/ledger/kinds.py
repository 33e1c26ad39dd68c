"""Activity kinds: what a person can do, with default points (the "activity index")."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Kind:
    code: str
    label: str  # for feeds: "Ana from Denver {label} 2 minutes ago"
    points: int
    noun: str  # for goals: "1,204 {noun}"
    # Ledger quantity per displayed unit: donations are recorded in cents, goals count dollars.
    per_unit: int = 1
    # Taking part (counts toward goals, points and feeds); False for acts that record a choice
    # about mail, such as unsubscribing, which a segment may still filter on.
    participation: bool = True


KINDS: dict[str, Kind] = {
    k.code: k
    for k in [
        Kind("join", "joined", 1, "people joined"),
        Kind("sign", "signed the petition", 1, "signatures"),
        Kind("pledge", "made a pledge", 1, "pledges"),
        Kind("submit", "signed up", 1, "sign-ups"),
        Kind("share", "shared", 1, "shares"),
        Kind("recruit", "brought someone in", 5, "people recruited"),
        Kind("rsvp", "RSVP'd to an event", 2, "RSVPs"),
        Kind("attend", "showed up at an event", 3, "attendees"),
        Kind("host", "hosted an event", 10, "events hosted"),
        Kind("group_join", "joined a local group", 2, "group members"),
        Kind("group_start", "started a local group", 10, "groups started"),
        Kind("donate", "chipped in", 3, "dollars raised", per_unit=100),
        Kind("call", "made a call", 1, "calls"),
        Kind("door", "knocked a door", 1, "doors knocked"),
        Kind("story", "wrote a story", 3, "stories"),
        Kind("unsubscribe", "stopped campaign emails", 0, "unsubscribes", participation=False),
    ]
}


def kind_choices() -> list[tuple[str, str]]:
    """What a goal can count: the acts of taking part."""
    return [(k.code, k.noun[:1].upper() + k.noun[1:]) for k in KINDS.values() if k.participation]


PARTICIPATION_KINDS = frozenset(k.code for k in KINDS.values() if k.participation)


def default_points(kind: str) -> int:
    return KINDS[kind].points if kind in KINDS else 1


def kind_label(kind: str) -> str:
    return KINDS[kind].label if kind in KINDS else "took action"


def kind_noun(kind: str) -> str:
    return KINDS[kind].noun if kind in KINDS else "actions"


def per_unit(kind: str) -> int:
    return KINDS[kind].per_unit if kind in KINDS else 1
