"""Loading CMS NCCI tables (practitioner PTP edits and MUE values) from the files CMS publishes.

Both loaders read the whole file first and apply it in one transaction: a file with one bad row
changes nothing, and loading the same file twice changes nothing the second time."""

import csv
import datetime
import io
from pathlib import Path

from django.core.exceptions import ValidationError
from django.db import transaction

from claims.models import MueLimit, NcciPtpEdit

SAMPLE_DIR = Path(__file__).resolve().parent / "data"
SAMPLE_PTP = SAMPLE_DIR / "ncci_ptp_sample.txt"
SAMPLE_MUE = SAMPLE_DIR / "ncci_mue_sample.csv"


def _date(value: str, row: int, column: str) -> datetime.date | None:
    value = value.strip()
    if value in ("", "*"):
        return None
    try:
        return datetime.datetime.strptime(value, "%Y%m%d").date()  # noqa: DTZ007 - a calendar date
    except ValueError:
        raise ValidationError(f"Row {row}: {column} {value!r} is not a date (YYYYMMDD).") from None


def _rows(text: str, delimiter: str, header_starts: str):
    """Skip the notice lines CMS puts above the header; yield (row number, cells) after it."""
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)
    header_found = False
    for number, cells in enumerate(reader, 1):
        if not header_found:
            if cells and cells[0].strip().lower().startswith(header_starts):
                header_found = True
            continue
        if not any(cell.strip() for cell in cells):
            continue
        yield number, [cell.strip() for cell in cells]
    if not header_found:
        raise ValidationError(f"No header row starting with {header_starts!r} was found: is this the right file?")


def detect_kind(text: str) -> str:
    head = text[:5000].lower()
    if "column 1" in head and "column 2" in head:
        return "ptp"
    if "mue" in head and "hcpcs/cpt code" in head:
        return "mue"
    raise ValidationError("This is neither an NCCI PTP file (Column 1 / Column 2) nor an MUE file (HCPCS/CPT Code, MUE values).")


def parse_ptp(text: str) -> list[NcciPtpEdit]:
    edits, seen = [], set()
    for number, cells in _rows(text, "\t", "column 1"):
        if len(cells) < 6:
            raise ValidationError(f"Row {number}: expected at least 6 tab-separated columns, found {len(cells)}.")
        column1, column2 = cells[0], cells[1]
        effective = _date(cells[3], number, "effective date")
        if effective is None:
            raise ValidationError(f"Row {number}: the effective date is missing.")
        indicator = cells[5]
        if indicator not in ("0", "1", "9"):
            raise ValidationError(f"Row {number}: modifier indicator {indicator!r} must be 0, 1 or 9.")
        key = (column1, column2, effective)
        if key in seen:
            continue
        seen.add(key)
        edits.append(NcciPtpEdit(column1=column1, column2=column2, effective_date=effective,
                                 deletion_date=_date(cells[4], number, "deletion date"),
                                 modifier_indicator=indicator, rationale=cells[6][:200] if len(cells) > 6 else ""))
    return edits


def parse_mue(text: str) -> list[MueLimit]:
    limits = {}
    for number, cells in _rows(text, ",", "hcpcs/cpt code"):
        if len(cells) < 2:
            raise ValidationError(f"Row {number}: expected the code and the MUE value.")
        try:
            value = int(cells[1])
        except ValueError:
            raise ValidationError(f"Row {number}: MUE value {cells[1]!r} is not a whole number.") from None
        limits[cells[0]] = MueLimit(procedure_code=cells[0], max_units=value,
                                    adjudication_indicator=cells[2][:60] if len(cells) > 2 else "",
                                    rationale=cells[3][:120] if len(cells) > 3 else "")
    return list(limits.values())


@transaction.atomic
def ncci_load(*, text: str) -> tuple[str, int, int]:
    """Load one CMS file (kind detected from its header). Returns (kind, rows created, rows updated)."""
    kind = detect_kind(text)
    if kind == "ptp":
        edits = parse_ptp(text)
        existing = {(e.column1, e.column2, e.effective_date): e for e in NcciPtpEdit.objects.filter(
            column1__in={e.column1 for e in edits})}
        new, changed = [], []
        for edit in edits:
            old = existing.get((edit.column1, edit.column2, edit.effective_date))
            if old is None:
                new.append(edit)
            elif (old.deletion_date, old.modifier_indicator, old.rationale) != (
                    edit.deletion_date, edit.modifier_indicator, edit.rationale):
                old.deletion_date, old.modifier_indicator, old.rationale = (
                    edit.deletion_date, edit.modifier_indicator, edit.rationale)
                changed.append(old)
        NcciPtpEdit.objects.bulk_create(new, batch_size=5000)
        NcciPtpEdit.objects.bulk_update(changed, ["deletion_date", "modifier_indicator", "rationale"], batch_size=5000)
        return kind, len(new), len(changed)
    limits = parse_mue(text)
    existing = {m.procedure_code: m for m in MueLimit.objects.filter(procedure_code__in=[m.procedure_code for m in limits])}
    new, changed = [], []
    for limit in limits:
        old = existing.get(limit.procedure_code)
        if old is None:
            new.append(limit)
        elif (old.max_units, old.adjudication_indicator, old.rationale) != (
                limit.max_units, limit.adjudication_indicator, limit.rationale):
            old.max_units, old.adjudication_indicator, old.rationale = (
                limit.max_units, limit.adjudication_indicator, limit.rationale)
            changed.append(old)
    MueLimit.objects.bulk_create(new, batch_size=5000)
    MueLimit.objects.bulk_update(changed, ["max_units", "adjudication_indicator", "rationale"], batch_size=5000)
    return kind, len(new), len(changed)


def ncci_load_samples() -> None:
    for path in (SAMPLE_PTP, SAMPLE_MUE):
        ncci_load(text=path.read_text())
