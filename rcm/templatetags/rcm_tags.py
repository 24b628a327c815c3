"""Template filters for money, claim statuses and dates shown on the pages."""

import datetime
from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.utils import timezone

register = template.Library()

CENT = Decimal("0.01")


@register.filter
def money(value) -> str:
    """``Decimal("1234.5")`` -> ``$1,234.50``; negative -> ``-$12.00``; empty for None.
    Floats are refused: money is Decimal end to end."""
    if value is None or value == "":
        return ""
    if isinstance(value, float):
        raise TypeError("money: got a float; money must be Decimal.")
    amount = Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"


@register.filter
def units(value) -> str:
    """Units without trailing zeros: ``Decimal("1.000")`` -> ``1``, ``Decimal("1.500")`` -> ``1.5``."""
    if value is None:
        return ""
    normalized = Decimal(value).normalize()
    return f"{normalized:f}"


@register.filter
def days_since(value, today=None) -> int | str:
    """Whole days from a date or datetime to today (local time)."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        value = timezone.localdate(value)
    return ((today or timezone.localdate()) - value).days
