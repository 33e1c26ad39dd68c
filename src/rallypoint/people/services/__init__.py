"""Writes to the people layer, one module per intent. Every entry point (join page, actions,
events, groups, import, API) decides who someone is through `matching.match_or_create_many`
(a single submission is a batch of one)."""

from .contacts import EDITABLE_FIELDS, email_status_set, person_contact_add, person_update
from .data import FIELD_LIMITS, NAME_FIELDS, PersonData, address_values
from .join import person_join
from .matching import (
    ChangeSource,
    MatchResult,
    MatchRules,
    PersonMatch,
    act_details,
    find_person,
    match_or_create_many,
    person_contacts_new,
    person_match,
    person_match_or_create,
    person_new,
)
from .merge import person_merge, person_snapshot
from .tags import tag_add, tag_add_many, tag_get_or_create, tag_remove, tag_remove_many

__all__ = [
    "EDITABLE_FIELDS",
    "FIELD_LIMITS",
    "NAME_FIELDS",
    "ChangeSource",
    "MatchResult",
    "MatchRules",
    "PersonData",
    "PersonMatch",
    "act_details",
    "address_values",
    "email_status_set",
    "find_person",
    "match_or_create_many",
    "person_contact_add",
    "person_contacts_new",
    "person_join",
    "person_match",
    "person_match_or_create",
    "person_merge",
    "person_new",
    "person_snapshot",
    "person_update",
    "tag_add",
    "tag_add_many",
    "tag_get_or_create",
    "tag_remove",
    "tag_remove_many",
]
