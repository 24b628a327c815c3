"""Template filters for money, claim statuses and dates shown on the pages."""

import datetime
from decimal import Decimal

from django import template
from django.utils import timezone

from rcm.formats import money_text, zip_text

register = template.Library()


@register.filter
def money(value) -> str:
    """``Decimal("1234.5")`` -> ``$1,234.50``; negative -> ``-$12.00``; empty for None (``rcm.formats``)."""
    return money_text(value)


@register.filter
def zip_code(value) -> str:
    """``432151234`` -> ``43215-1234`` (``rcm.formats.zip_text``)."""
    return zip_text(value)


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
