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
        raise ValidationError(
            f"No header row starting with {header_starts!r} was found: is this the right file?"
        )


def detect_kind(text: str) -> str:
    head = text[:5000].lower()
    if "column 1" in head and "column 2" in head:
        return "ptp"
    if "mue" in head and "hcpcs/cpt code" in head:
        return "mue"
    raise ValidationError(
        "This is neither an NCCI PTP file (Column 1 / Column 2) nor an MUE file (HCPCS/CPT Code, MUE values)."
    )


def parse_ptp(text: str) -> list[NcciPtpEdit]:
    edits, seen = [], set()
    for number, cells in _rows(text, "\t", "column 1"):
        if len(cells) < 6:
            raise ValidationError(
                f"Row {number}: expected at least 6 tab-separated columns, found {len(cells)}."
            )
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
        edits.append(
            NcciPtpEdit(
                column1=column1,
                column2=column2,
                effective_date=effective,
                deletion_date=_date(cells[4], number, "deletion date"),
                modifier_indicator=indicator,
                rationale=cells[6][:200] if len(cells) > 6 else "",
            )
        )
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
        limits[cells[0]] = MueLimit(
            procedure_code=cells[0],
            max_units=value,
            adjudication_indicator=cells[2][:60] if len(cells) > 2 else "",
            rationale=cells[3][:120] if len(cells) > 3 else "",
        )
    return list(limits.values())


@transaction.atomic
def ncci_load(*, text: str) -> tuple[str, int, int]:
    """Load one CMS file (kind detected from its header). Returns (kind, rows created, rows updated)."""
    kind = detect_kind(text)
    if kind == "ptp":
        edits = parse_ptp(text)
        existing = NcciPtpEdit.objects.filter(column1__in={e.column1 for e in edits})
        created, updated = _upsert(
            NcciPtpEdit,
            edits,
            existing,
            ("column1", "column2", "effective_date"),
            ("deletion_date", "modifier_indicator", "rationale"),
        )
    else:
        limits = parse_mue(text)
        existing = MueLimit.objects.filter(procedure_code__in=[m.procedure_code for m in limits])
        created, updated = _upsert(
            MueLimit,
            limits,
            existing,
            ("procedure_code",),
            ("max_units", "adjudication_indicator", "rationale"),
        )
    return kind, created, updated


def _upsert(
    model, rows, existing, key_fields: tuple[str, ...], value_fields: tuple[str, ...]
) -> tuple[int, int]:
    """Insert rows not there yet (by key), update those whose values changed; returns (created, updated)."""

    def key(row):
        return tuple(getattr(row, name) for name in key_fields)

    def values(row):
        return tuple(getattr(row, name) for name in value_fields)

    current = {key(row): row for row in existing}
    new, changed = [], []
    for row in rows:
        old = current.get(key(row))
        if old is None:
            new.append(row)
        elif values(old) != values(row):
            for name in value_fields:
                setattr(old, name, getattr(row, name))
            changed.append(old)
    model.objects.bulk_create(new, batch_size=5000)
    model.objects.bulk_update(changed, list(value_fields), batch_size=5000)
    return len(new), len(changed)


def ncci_load_samples() -> None:
    for path in (SAMPLE_PTP, SAMPLE_MUE):
        ncci_load(text=path.read_text())
