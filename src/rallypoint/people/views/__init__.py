from .join import join, join_done
from .organize import (
    person_contact_add_view,
    person_detail,
    person_edit,
    person_email_status,
    person_list,
    person_merge_confirm,
    person_merge_pick,
    person_tag_add,
    person_tag_remove,
)

__all__ = [
    "join",
    "join_done",
    "person_contact_add_view",
    "person_detail",
    "person_edit",
    "person_email_status",
    "person_list",
    "person_merge_confirm",
    "person_merge_pick",
    "person_tag_add",
    "person_tag_remove",
]
