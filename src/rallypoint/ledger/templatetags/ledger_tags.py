from django import template

from ..kinds import kind_label

register = template.Library()


@register.filter
def activity_label(kind: str) -> str:
    """ "signed the petition" for "sign": the ledger's words for an act."""
    return kind_label(kind)
