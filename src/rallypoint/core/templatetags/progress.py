"""`{{ count|percent_of:target }}`: the one way a template shows how far something has come
(core.progress.percent: whole percent, rounded down, at most 100)."""

from django import template

from rallypoint.core.progress import percent

register = template.Library()


@register.filter
def percent_of(value, target) -> int:
    try:
        return percent(value or 0, target or 0)
    except (TypeError, ValueError, ArithmeticError):
        return 0
