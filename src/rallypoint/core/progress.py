"""How far a count has come towards its target, in whole percent: one rule for every page.

Rounded down, so 99.6% shows 99% and only a met target shows 100% (a goal never looks reached
before it is), and capped at 100 (a bar never overflows; "Goal reached!" says the rest). The
template filter `percent_of` (core/templatetags/progress.py) calls this."""

from decimal import Decimal
from fractions import Fraction

Number = int | float | Decimal | Fraction


def percent(value: Number, target: Number) -> int:
    """Whole percent of `target` that `value` is, from 0 to 100 (0 when there is no target)."""
    if target <= 0 or value <= 0:
        return 0
    if value >= target:
        return 100
    # Floats as written (0.29 is not 0.28999…), so the floor does not lose a point.
    share = Fraction(str(value) if isinstance(value, float) else value) / Fraction(
        str(target) if isinstance(target, float) else target
    )
    return int(share * 100)
