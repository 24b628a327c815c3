"""How money, days and counts read in messages: the same as on the pages (``$1,234.50``, ``03/14/2026``,
``1 claim`` / ``3 claims``). Messages built in Python (validation errors, flash messages, refusals of an
X12 file) use these so they match the page they appear on; templates use the filters in
``rcm.templatetags.rcm_tags``, which call the same functions."""

import datetime
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")


def money_text(value) -> str:
    """``Decimal("1234.5")`` -> ``$1,234.50``; negative -> ``-$12.00``; empty for None.
    Floats are refused: money is Decimal end to end."""
    if value is None or value == "":
        return ""
    if isinstance(value, float):
        raise TypeError("money: got a float; money must be Decimal.")
    amount = Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.2f}"


def day_text(day: datetime.date | None) -> str:
    """``date(2026, 3, 14)`` -> ``03/14/2026`` (the pages' format); empty for None."""
    if day is None:
        return ""
    if isinstance(day, datetime.datetime):
        day = day.date()
    return f"{day:%m/%d/%Y}"


def zip_text(value) -> str:
    """A ZIP code as it is printed: ``432151234`` -> ``43215-1234``; five digits, ZIP+4 with its hyphen,
    or anything else, as they are."""
    text = (value or "").strip()
    if len(text) == 9 and text.isdigit():
        return f"{text[:5]}-{text[5:]}"
    return text


def count_text(count: int, singular: str, plural: str | None = None) -> str:
    """``count_text(1, "claim")`` -> ``1 claim``; ``count_text(1200, "claim")`` -> ``1,200 claims``."""
    word = singular if count == 1 else (plural or f"{singular}s")
    return f"{count:,} {word}"
