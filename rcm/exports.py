"""Cells of the CSV exports, for every app: a spreadsheet runs a text cell that starts with ``=``, ``+``,
``-`` or ``@`` (or a tab or carriage return) as a formula (CSV or formula injection), so such a start gets a
quote in front. Money is written to the cent, never through a float."""

import datetime
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value) -> str:
    """Text with a leading formula character neutralised (a quote in front)."""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_cell(value) -> str:
    """A CSV cell: money to the cent, dates as ISO, text neutralised."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return str(value.quantize(CENT, rounding=ROUND_HALF_UP))
    if isinstance(value, datetime.date):
        return value.isoformat()
    return safe_text(value)
