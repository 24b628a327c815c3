"""Cells of the CSV exports, for every app: a spreadsheet runs a text cell that starts with ``=``, ``+``,
``-`` or ``@`` (or a tab or carriage return) as a formula (CSV or formula injection), so such a start gets a
quote in front. Money is written to the cent, never through a float.

Every CSV export writes through ``csv_writer`` (``tests/rcm/test_exports_neutralised.py`` checks that no
other module calls ``csv.writer`` and that each export view's cells come out neutralised); XLSX exports
through ``kpis.exports.xlsx_bytes``, which neutralises its text cells with ``safe_text``."""

import csv
import datetime
import io
import re
from decimal import ROUND_HALF_UP, Decimal

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

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


# XLSX: the same neutralising for text cells; money stays Decimal (a number with two places).
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
MONEY_FORMAT = "#,##0.00"
DATE_FORMAT = "mm/dd/yyyy"


def xlsx_bytes(*, title: str, header: list[str], rows) -> bytes:
    """One sheet named ``title``: a bold header row, then ``rows`` (Decimal as numbers with two places,
    dates as dates, None empty, everything else as neutralised text)."""
    workbook = Workbook(write_only=True)
    # A sheet name may not hold []:*?/\ and has at most 31 characters.
    sheet = workbook.create_sheet(re.sub(r"[\[\]:*?/\\]", "-", title)[:31])
    bold = Font(bold=True)
    cells = []
    for name in header:
        cell = WriteOnlyCell(sheet, value=name)
        cell.font = bold
        cells.append(cell)
    sheet.append(cells)
    for row in rows:
        sheet.append([_xlsx_cell(sheet, value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _xlsx_cell(sheet, value):
    if value is None:
        return None
    if isinstance(value, Decimal):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = MONEY_FORMAT if value.as_tuple().exponent == -2 else "0.0"
        return cell
    if isinstance(value, bool | int):
        return value
    if isinstance(value, datetime.date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = DATE_FORMAT
        return cell
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
