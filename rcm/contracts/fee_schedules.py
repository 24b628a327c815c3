"""Fee schedule files: read a CSV or XLSX file, check every row, say what applying it would change, apply it
whole, and write the contract's rows back out as CSV or XLSX.

The file has one row per code, modifier and setting, under a header naming its columns::

    code,modifier,setting,allowed_amount
    99213,,non-facility,92.50
    99213,,facility,71.20

``modifier`` and ``setting`` may be left out (no modifier; non-facility). Any problem in any row refuses the
whole file and nothing is saved; the report lists every problem with its spreadsheet row number (the header
is row 1). A file that passed is kept as it came (``FeeScheduleImport``) and applied on confirmation, in one
transaction, by difference: rows not in the file are removed, changed amounts updated, new rows added, the
others left alone, so applying the same file again changes nothing.

CSV is read with pandas (every cell as text, nothing guessed); XLSX with openpyxl directly, not through
pandas, because pandas reads a formula's cached result and a formula must be refused, not trusted."""

import csv
import dataclasses
import hashlib
import io
import re
import zipfile
from decimal import Decimal, InvalidOperation

import pandas
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from openpyxl import load_workbook
from openpyxl.utils.exceptions import InvalidFileException

from rcm.audit import audit_record
from rcm.bulk import bulk_insert_rows, bulk_update_values
from rcm.exports import csv_writer, xlsx_bytes
from rcm.models import (
    AuditAction,
    FeeScheduleImport,
    FeeScheduleImportStatus,
    FeeScheduleRow,
    PayerContract,
    PricingMethod,
)
from rcm.validators import _MODIFIER_RE, _PROCEDURE_RE

MAX_BYTES = 5 * 1024 * 1024  # 20,000 rows of CSV are about 0.6 MB; a bigger file is a mistake
MAX_ROWS = 100_000
MAX_PROBLEMS = 500  # listed in the report; the count says how many more
COLUMNS = ("code", "modifier", "setting", "allowed_amount")
REQUIRED = ("code", "allowed_amount")
HEADER_ALIASES = {
    "code": "code",
    "procedure_code": "code",
    "cpt": "code",
    "hcpcs": "code",
    "modifier": "modifier",
    "mod": "modifier",
    "setting": "setting",
    "allowed_amount": "allowed_amount",
    "allowed": "allowed_amount",
    "amount": "allowed_amount",
}
SETTINGS = {
    "": False,
    "non-facility": False,
    "nonfacility": False,
    "non facility": False,
    "office": False,
    "facility": True,
}
MAX_AMOUNT = Decimal("9999999999.99")  # the column holds 12 digits, 2 after the point
FORMULA_STARTS = ("=", "+", "@")
_TOO_MANY_FIELDS = re.compile(r"Expected (\d+) fields in line (\d+), saw (\d+)")


@dataclasses.dataclass(frozen=True)
class Problem:
    """One thing wrong with the file: ``row`` is the spreadsheet's row number (None for the file itself)."""

    row: int | None
    column: str
    value: str
    message: str

    def as_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class FeeLine:
    row: int
    procedure_code: str
    modifier: str
    facility: bool
    allowed_amount: Decimal

    @property
    def key(self) -> tuple[str, str, bool]:
        return (self.procedure_code, self.modifier, self.facility)

    @property
    def setting(self) -> str:
        return "facility" if self.facility else "non-facility"


@dataclasses.dataclass
class FeeScheduleReport:
    """What reading a file found: its rows when clean, else every problem (up to ``MAX_PROBLEMS``)."""

    file_name: str
    lines: list[FeeLine] = dataclasses.field(default_factory=list)
    problems: list[Problem] = dataclasses.field(default_factory=list)
    problem_count: int = 0

    @property
    def ok(self) -> bool:
        return self.problem_count == 0

    def add(self, row: int | None, column: str, value, message: str) -> None:
        self.problem_count += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(row, column, str(value)[:60], message))

    @property
    def summary(self) -> str:
        if self.ok:
            return f"{len(self.lines)} rows, no problem found."
        rows = {p.row for p in self.problems if p.row is not None}
        where = f" in {len(rows)} row{'s' if len(rows) != 1 else ''}" if rows else ""
        return (
            f"{self.problem_count} problem{'s' if self.problem_count != 1 else ''}{where}: "
            "the file was refused and nothing was saved."
        )


class FeeScheduleRefused(ValidationError):
    """A fee schedule file that did not pass: ``report`` lists why. Nothing was saved."""

    def __init__(self, report: FeeScheduleReport):
        self.report = report
        first = report.problems[0] if report.problems else None
        detail = (
            f" First: {'row ' + str(first.row) + ': ' if first and first.row else ''}{first.message}"
            if first
            else ""
        )
        super().__init__(f"{report.summary}{detail}", code="fee_schedule")


# --- Reading -----------------------------------------------------------------------------------


def _text(value) -> str:
    """A cell as text: numbers of a spreadsheet without a float's noise (31.4, not 31.400000000000002 when
    typed as 31.4; 99213, not 99213.0)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        if value != value:  # NaN: pandas' empty cell
            return ""
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, int):
        return str(value)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value).strip()


def _read_csv(content: bytes, report: FeeScheduleReport) -> list[list[str]] | None:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        report.add(None, "", "", "The file is not UTF-8 text: save it from the spreadsheet as “CSV UTF-8”.")
        return None
    try:
        frame = pandas.read_csv(
            io.StringIO(text),
            dtype=str,
            header=None,
            keep_default_na=False,
            skip_blank_lines=False,
            quoting=csv.QUOTE_MINIMAL,
        )
    except pandas.errors.EmptyDataError:
        return []
    except pandas.errors.ParserError as error:
        if found := _TOO_MANY_FIELDS.search(str(error)):
            expected, line, saw = (int(n) for n in found.groups())
            report.add(line, "", "", f"This row has {saw} values; the header names {expected} columns.")
        else:
            report.add(None, "", "", f"The file is not a well-formed CSV file ({str(error).strip()}).")
        return None
    return [[_text(value) for value in row] for row in frame.itertuples(index=False, name=None)]


def _read_xlsx(content: bytes, report: FeeScheduleReport) -> list[list[str]] | None:
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError):
        report.add(
            None, "", "", "The file is not a readable XLSX workbook: save it from the spreadsheet as .xlsx."
        )
        return None
    try:
        sheet = workbook.worksheets[0]
        rows = []
        for values in sheet.iter_rows(values_only=True):
            rows.append([_text(value) for value in values])
            if len(rows) > MAX_ROWS + 1:
                break
        return rows
    finally:
        workbook.close()


def _header(cells: list[str], report: FeeScheduleReport) -> dict[str, int] | None:
    columns: dict[str, int] = {}
    for index, cell in enumerate(cells):
        name = cell.strip().lower().replace(" ", "_")
        if not name:
            continue
        column = HEADER_ALIASES.get(name)
        if column is None:
            report.add(1, cell, cell, f"Unknown column “{cell}”. The columns are: {', '.join(COLUMNS)}.")
        elif column in columns:
            report.add(1, cell, cell, f"The column “{column}” appears twice.")
        else:
            columns[column] = index
    for column in REQUIRED:
        if column not in columns:
            report.add(
                1,
                column,
                "",
                f"Missing column “{column}”. The first row names the columns: {', '.join(COLUMNS)} "
                "(modifier and setting may be left out).",
            )
    return None if not report.ok else columns


def _amount(text: str, row: int, report: FeeScheduleReport) -> Decimal | None:
    cleaned = text.replace("$", "").replace(",", "").strip()
    if not cleaned:
        report.add(row, "allowed_amount", text, "The allowed amount is missing.")
        return None
    try:
        amount = Decimal(cleaned)
    except InvalidOperation:
        report.add(row, "allowed_amount", text, f"The allowed amount “{text}” is not a number.")
        return None
    if not amount.is_finite():
        report.add(row, "allowed_amount", text, f"The allowed amount “{text}” is not a number.")
    elif amount < 0:
        report.add(row, "allowed_amount", text, f"The allowed amount {text} is negative.")
    elif amount.as_tuple().exponent < -2:
        report.add(
            row, "allowed_amount", text, f"The allowed amount {text} has more than two decimal places."
        )
    elif amount > MAX_AMOUNT:
        report.add(row, "allowed_amount", text, f"The allowed amount {text} is too large.")
    else:
        return amount.quantize(Decimal("0.01"))
    return None


def _line(row: int, cells: dict[str, str], report: FeeScheduleReport) -> FeeLine | None:
    before = report.problem_count
    for column, text in cells.items():
        if text.startswith(FORMULA_STARTS) or (text.startswith("-") and column != "allowed_amount"):
            report.add(
                row, column, text, f"“{text}” looks like a spreadsheet formula: write the value itself."
            )
    if report.problem_count > before:
        return None
    code = cells["code"].upper()
    if not _PROCEDURE_RE.match(code):
        report.add(
            row,
            "code",
            cells["code"],
            f"“{cells['code']}” is not a CPT (5 digits, or 4 digits + F/T/U) or "
            "HCPCS (a letter A-V + 4 digits) code.",
        )
    modifier = cells.get("modifier", "").upper()
    if modifier and not _MODIFIER_RE.match(modifier):
        report.add(
            row,
            "modifier",
            cells["modifier"],
            f"The modifier “{cells['modifier']}” is not two letters or digits.",
        )
    setting = cells.get("setting", "").strip().lower()
    if setting not in SETTINGS:
        report.add(
            row,
            "setting",
            cells["setting"],
            f"Unknown setting “{cells['setting']}”: write facility or non-facility.",
        )
    amount = _amount(cells["allowed_amount"], row, report)
    if report.problem_count > before:
        return None
    return FeeLine(row, code, modifier, SETTINGS[setting], amount)


def fee_schedule_read(*, file_name: str, content: bytes) -> FeeScheduleReport:
    """Read and check a fee schedule file (``.csv`` or ``.xlsx``): its lines when every row is right, else
    every problem found. Reads nothing from the database."""
    report = FeeScheduleReport(file_name=file_name)
    if len(content) > MAX_BYTES:
        report.add(
            None,
            "",
            "",
            f"The file is {len(content) / 1024 / 1024:.1f} MB; the limit is {MAX_BYTES // 1024 // 1024} MB.",
        )
        return report
    if not content.strip():
        report.add(None, "", "", "The file is empty.")
        return report
    kind = file_name.rsplit(".", 1)[-1].lower() if "." in file_name else ""
    if kind == "csv":
        table = _read_csv(content, report)
    elif kind == "xlsx":
        table = _read_xlsx(content, report)
    else:
        report.add(None, "", file_name, "Load a .csv or .xlsx file (an .xls workbook: save it as .xlsx).")
        return report
    if table is None:
        return report
    table = [(number, cells) for number, cells in enumerate(table, 1) if any(cells)]
    if not table:
        report.add(None, "", "", "The file is empty.")
        return report
    if len(table) > MAX_ROWS + 1:
        report.add(None, "", "", f"The file has more than {MAX_ROWS:,} rows.")
        return report
    (_, header_cells), *data = table
    columns = _header(header_cells, report)
    if columns is None:
        return report
    if not data:
        report.add(None, "", "", "The file has a header but no fee rows.")
        return report
    seen: dict[tuple[str, str, bool], int] = {}
    for number, cells in data:
        extra = [text for index, text in enumerate(cells) if text and index not in columns.values()]
        if extra:
            report.add(number, "", extra[0], f"A value “{extra[0]}” stands outside the named columns.")
            continue
        values = {column: cells[index] if index < len(cells) else "" for column, index in columns.items()}
        line = _line(number, values, report)
        if line is None:
            continue
        if line.key in seen:
            report.add(
                number,
                "code",
                line.procedure_code,
                f"Duplicate of row {seen[line.key]}: {line.procedure_code}"
                f"{'-' + line.modifier if line.modifier else ''} {line.setting} is listed twice.",
            )
            continue
        seen[line.key] = number
        report.lines.append(line)
    if not report.ok:
        report.lines = []
    return report


# --- What applying would change, and applying -------------------------------------------------


@dataclasses.dataclass(frozen=True)
class FeeScheduleChanges:
    """What applying a file changes: lines to add, (row id, line) pairs whose amount changes, ids of rows
    the file no longer has, and how many rows stay as they are."""

    added: list[FeeLine]
    changed: list[tuple[int, FeeLine]]
    removed: list[int]
    unchanged: int

    @property
    def counts(self) -> dict[str, int]:
        return {
            "added": len(self.added),
            "changed": len(self.changed),
            "removed": len(self.removed),
            "unchanged": self.unchanged,
        }

    @property
    def none(self) -> bool:
        return not (self.added or self.changed or self.removed)


def fee_schedule_changes(*, contract: PayerContract, lines: list[FeeLine]) -> FeeScheduleChanges:
    """How the contract's rows differ from ``lines`` (one query, plain tuples: no model objects)."""
    current = {
        (code, modifier, facility): (pk, amount)
        for pk, code, modifier, facility, amount in FeeScheduleRow.objects.filter(
            contract=contract
        ).values_list("id", "procedure_code", "modifier", "facility", "allowed_amount")
    }
    added, changed, unchanged = [], [], 0
    for line in lines:
        row = current.pop(line.key, None)
        if row is None:
            added.append(line)
        elif row[1] != line.allowed_amount:
            changed.append((row[0], line))
        else:
            unchanged += 1
    return FeeScheduleChanges(added, changed, [pk for pk, _ in current.values()], unchanged)


def _refuse_contract(contract: PayerContract) -> None:
    if contract.pricing_method != PricingMethod.FEE_SCHEDULE:
        raise ValidationError(
            f"“{contract.name}” is priced as {contract.get_pricing_method_display()}: it has no fee "
            "schedule of its own. Load the schedule into a contract priced by fee schedule (for % of a base "
            "schedule: the base payer's contract in force on the dates it applies to)."
        )


@dataclasses.dataclass(frozen=True)
class FeeSchedulePreview:
    """A checked file: the report, and when it passed, the kept file and what applying it would change
    (``already_loaded`` when this very file is the contract's schedule already: nothing to apply)."""

    report: FeeScheduleReport
    fee_import: FeeScheduleImport | None = None
    changes: FeeScheduleChanges | None = None
    already_loaded: bool = False


@transaction.atomic
def fee_schedule_preview(
    *, contract: PayerContract, file_name: str, content: bytes, user=None
) -> FeeSchedulePreview:
    """Check a file for the contract. A refused file saves nothing (the report says why); a file that passed
    is kept as a previewed import to confirm. The very file already applied, with the rows as it left them,
    is not kept again."""
    _refuse_contract(contract)
    report = fee_schedule_read(file_name=file_name, content=content)
    if not report.ok:
        return FeeSchedulePreview(report=report)
    changes = fee_schedule_changes(contract=contract, lines=report.lines)
    sha256 = hashlib.sha256(content).hexdigest()
    if changes.none:
        applied = contract.fee_imports.filter(sha256=sha256, status=FeeScheduleImportStatus.APPLIED).first()
        if applied is not None:
            return FeeSchedulePreview(report=report, fee_import=applied, changes=changes, already_loaded=True)
    fee_import = FeeScheduleImport.objects.create(
        practice_id=contract.practice_id,
        contract=contract,
        file_name=file_name[:255],
        content=content,
        sha256=sha256,
        row_count=len(report.lines),
        uploaded_by=user if getattr(user, "is_authenticated", False) else None,
        counts=changes.counts,
    )
    return FeeSchedulePreview(report=report, fee_import=fee_import, changes=changes)


@transaction.atomic
def fee_schedule_apply(*, fee_import: FeeScheduleImport, user=None) -> FeeScheduleImport:
    """Make the contract's rows what the kept file says, in one transaction: remove, update, add. Applying
    an import already applied changes nothing; the file is checked again (the rows may have moved on since
    the preview), and ``counts`` records what this application did."""
    fee_import = FeeScheduleImport.objects.select_for_update().get(pk=fee_import.pk)
    if fee_import.status == FeeScheduleImportStatus.APPLIED:
        return fee_import
    report = fee_schedule_read(file_name=fee_import.file_name, content=bytes(fee_import.content))
    if not report.ok:
        raise FeeScheduleRefused(report)
    return _apply(fee_import, report.lines, user)


def _apply(fee_import: FeeScheduleImport, lines: list[FeeLine], user) -> FeeScheduleImport:
    """Write the difference with the bulk paths (COPY on PostgreSQL): rows are not ``Audited`` one by one,
    the import is written to the audit log as one event with its counts."""
    contract = (
        PayerContract.objects.select_for_update().select_related("practice").get(pk=fee_import.contract_id)
    )
    _refuse_contract(contract)
    changes = fee_schedule_changes(contract=contract, lines=lines)
    if changes.removed:
        FeeScheduleRow.objects.filter(pk__in=changes.removed).delete()
    bulk_update_values(
        FeeScheduleRow,
        [FeeScheduleRow(pk=pk, allowed_amount=line.allowed_amount) for pk, line in changes.changed],
        ["allowed_amount"],
    )
    bulk_insert_rows(
        FeeScheduleRow,
        [
            {
                "practice_id": contract.practice_id,
                "contract_id": contract.pk,
                "procedure_code": line.procedure_code,
                "modifier": line.modifier,
                "facility": line.facility,
                "allowed_amount": line.allowed_amount,
            }
            for line in changes.added
        ],
    )
    fee_import.status = FeeScheduleImportStatus.APPLIED
    fee_import.applied_at = timezone.now()
    fee_import.counts = changes.counts
    fee_import.save(update_fields=["status", "applied_at", "counts"])
    audit_record(
        action=AuditAction.UPDATE,
        practice=contract.practice,
        object_type="rcm.payercontract",
        object_id=contract.pk,
        changes={"fee_schedule": fee_import.file_name, "import": fee_import.pk, **changes.counts},
        user=user,
    )
    return fee_import


def fee_schedule_import(
    *, contract: PayerContract, file_name: str, content: bytes, user=None
) -> FeeScheduleImport:
    """Check and apply a file in one go (the API without preview, commands, benchmarks). Raises
    ``FeeScheduleRefused`` with the report when any row is wrong; nothing is saved then."""
    with transaction.atomic():
        preview = fee_schedule_preview(contract=contract, file_name=file_name, content=content, user=user)
        if not preview.report.ok:
            raise FeeScheduleRefused(preview.report)
        if preview.already_loaded:
            return preview.fee_import
        # The file was read and checked a moment ago, in this transaction: apply those lines.
        return _apply(preview.fee_import, preview.report.lines, user)


# --- Export ------------------------------------------------------------------------------------


def _export_rows(contract: PayerContract):
    for row in (
        FeeScheduleRow.objects.filter(contract=contract)
        .order_by("procedure_code", "modifier", "facility")
        .values_list("procedure_code", "modifier", "facility", "allowed_amount")
        .iterator(chunk_size=5000)
    ):
        code, modifier, facility, amount = row
        yield [code, modifier, "facility" if facility else "non-facility", amount]


def fee_schedule_csv(contract: PayerContract) -> str:
    """The contract's rows as CSV in the import's own layout (exporting and loading back changes nothing);
    cells neutralised by ``rcm.exports.csv_writer``."""
    buffer = io.StringIO()
    writer = csv_writer(buffer)
    writer.writerow(COLUMNS)
    for row in _export_rows(contract):
        writer.writerow(row)
    return buffer.getvalue()


def fee_schedule_xlsx(contract: PayerContract) -> bytes:
    """The contract's rows as an XLSX workbook in the import's layout (amounts as numbers, text
    neutralised)."""
    return xlsx_bytes(title="Fee schedule", header=list(COLUMNS), rows=_export_rows(contract))
