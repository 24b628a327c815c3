"""Template filters for money, claim statuses and dates shown on the pages."""

import datetime
from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.utils import timezone
from django.utils.html import format_html

from claims.models import ClaimStatus

register = template.Library()

CENT = Decimal("0.01")

# Claim status -> badge tone: ok = settled in our favour, warn = waiting on someone, bad = needs work.
STATUS_TONES: dict[str, str] = {
    "draft": "",
    "ready": "",
    "submitted": "warn",
    "accepted": "warn",
    "rejected": "bad",
    "corrected": "warn",
    "paid": "ok",
    "partially_paid": "warn",
    "denied": "bad",
    "forwarded": "warn",
    "appealed": "warn",
    "written_off": "bad",
    "voided": "",
}


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
def status_tone(status: str) -> str:
    return STATUS_TONES.get(status, "")


@register.simple_tag
def status_badge(status: str, label: str = ""):
    """``{% status_badge claim.status claim.get_status_display %}`` -> a coloured badge."""
    if not label:
        label = ClaimStatus(status).label if status in ClaimStatus.values else status
    tone = STATUS_TONES.get(status, "")
    return format_html('<span class="badge{}" data-status="{}">{}</span>', f" {tone}" if tone else "", status, label)


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
