"""Cells of the CSV exports, for every app: a spreadsheet runs a text cell that starts with ``=``, ``+``,
``-`` or ``@`` (or a tab or carriage return) as a formula (CSV or formula injection), so such a start gets a
quote in front. Money is written to the cent, never through a float.

Every CSV export writes through ``csv_writer`` (``tests/rcm/test_exports_neutralised.py`` checks that no
other module calls ``csv.writer`` and that each export view's cells come out neutralised); XLSX exports
through ``kpis.exports.xlsx_bytes``, which neutralises its text cells with ``safe_text``."""

import csv
import datetime
from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value) -> str:
    """Text with a leading formula character neutralised (a quote in front)."""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_cell(value) -> str:
    """A CSV cell: money to the cent, whole numbers as they are (-3 days is a number, not a formula), dates
    as ISO, text neutralised."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        return str(value.quantize(CENT, rounding=ROUND_HALF_UP))
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, datetime.date):
        return value.isoformat()
    return safe_text(value)


class SafeCsvWriter:
    """``csv.writer`` whose every cell goes through ``csv_cell``: an export cannot forget one."""

    def __init__(self, stream):
        self._writer = csv.writer(stream)

    def writerow(self, row) -> None:
        self._writer.writerow([csv_cell(value) for value in row])


def csv_writer(stream) -> SafeCsvWriter:
    """The one way to write a CSV export (``stream``: an ``HttpResponse`` or any file-like object)."""
    return SafeCsvWriter(stream)
