"""Every CSV/XLSX export neutralises cells a spreadsheet would run as formulas (issue #16, item 6).

Two checks: no module but ``rcm/exports.py`` calls ``csv.writer`` (so every CSV export writes through
``rcm.exports.csv_writer``), and each export view, fed names, payers and numbers that start with ``=``,
``+``, ``-``, ``@``, tab or CR, writes no cell that starts with one of them (money and whole numbers,
negative ones too, stay numbers)."""

import csv
import datetime
import io
import pathlib
import re
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from claims.models import Remittance, X12File
from claims.services import LineInput
from claims.state_machine import claim_transition
from rcm.audit import audit_record
from rcm.exports import FORMULA_STARTS, csv_cell, csv_writer
from rcm.models import AuditAction
from tests.claims.factories import make_claim
from tests.conftest import login
from tests.rcm.factories import CoverageFactory, PatientFactory, PayerFactory, ProviderFactory

ROOT = pathlib.Path(__file__).resolve().parents[2]
APP_DIRS = ["rcm", "claims", "denials", "payment_plans", "kpis", "devdata"]
NUMBER = re.compile(r"-?\d+(\.\d+)?")  # a negative amount is a number to a spreadsheet, not a formula
HOSTILE_NAME = '=HYPERLINK("http://evil.example","click")'


def test_no_module_but_rcm_exports_opens_a_raw_csv_writer():
    offenders = []
    for app in APP_DIRS:
        for path in (ROOT / app).rglob("*.py"):
            if "migrations" in path.parts or path == ROOT / "rcm" / "exports.py":
                continue
            if re.search(r"\bcsv\.(writer|DictWriter)\(", path.read_text()):
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


@pytest.mark.parametrize(
    ("value", "cell"),
    [
        ("=1+1", "'=1+1"),
        ("+1 217", "'+1 217"),
        ("-2", "'-2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("\rx", "'\rx"),
        ("Smith", "Smith"),
        (Decimal("-12.5"), "-12.50"),
        (-3, "-3"),
        (datetime.date(2026, 3, 2), "2026-03-02"),
        (None, ""),
    ],
)
def test_csv_cell(value, cell):
    assert csv_cell(value) == cell


def test_csv_writer_neutralises_every_cell():
    stream = io.StringIO()
    csv_writer(stream).writerow(["=cmd", Decimal("-1"), "@x", 7])
    assert next(csv.reader(io.StringIO(stream.getvalue()))) == ["'=cmd", "-1.00", "'@x", "7"]


@pytest.fixture
def hostile(practice, biller):
    """A claim whose patient, payer and provider names start with formula characters, rejected (so it sits
    in the rejected queue), and a remittance from a payer named like a formula."""
    patient = PatientFactory(
        practice=practice, first_name="+Robin", last_name=HOSTILE_NAME, phone="=1+1", email="@x.example"
    )
    payer = PayerFactory(practice=practice, name="-Evil Payer")
    coverage = CoverageFactory(practice=practice, patient=patient, payer=payer)
    provider = ProviderFactory(practice=practice, last_name="=Doctor", first_name="@Who")
    claim = make_claim(
        practice,
        coverage=coverage,
        provider=provider,
        lines=[
            LineInput(
                procedure_code="99213",
                charge=Decimal("150.00"),
                service_date_from=datetime.date(2026, 3, 2),
            )
        ],
    )
    for status in ("ready", "submitted", "rejected"):
        claim_transition(claim=claim, to_status=status)
    x12 = X12File.objects.create(practice=practice, file_name="era.835", content="", sha256="0" * 64)
    Remittance.objects.create(
        practice=practice,
        x12_file=x12,
        payer_name="=Evil",
        payer_identifier="+123",
        trace_number="@TRACE",
        handling_code="I",
        payment_amount=Decimal("-10.00"),
    )
    # An audit row whose object type came from somewhere hostile (the audit log export).
    audit_record(action=AuditAction.VIEW, practice=practice, object_type="=cmd|'/c calc'!A1", object_id="+1")
    return claim


def _cells(response) -> list[str]:
    if response["Content-Type"].startswith("text/csv"):
        rows = list(csv.reader(io.StringIO(response.content.decode())))
        return [cell for row in rows[1:] for cell in row]
    sheet = load_workbook(io.BytesIO(response.content)).active
    rows = list(sheet.iter_rows(values_only=True))[1:]
    return [cell for row in rows for cell in row if isinstance(cell, str)]


EXPORTS = [
    ("post", "/patients/export/", {}),
    ("get", "/claims/?format=csv", None),
    ("get", "/claims/queues/rejected/?format=csv", None),
    ("get", "/remittances/?format=csv", None),
    ("get", "/audit/?format=csv", None),
    ("get", "/kpis/claims/?kpi=ar_total&start=2026-03-01&end=2026-03-31&format=csv", None),
    ("get", "/kpis/claims/?kpi=ar_total&start=2026-03-01&end=2026-03-31&format=xlsx", None),
]


@pytest.mark.parametrize(("method", "url", "data"), EXPORTS)
def test_every_export_view_writes_no_live_formula(hostile, admin_user, method, url, data):
    client = login(admin_user)
    response = client.post(url, data) if method == "post" else client.get(url)
    assert response.status_code == 200, url
    cells = _cells(response)
    assert cells, url  # the hostile rows are there
    live = [cell for cell in cells if cell.startswith(FORMULA_STARTS) and not NUMBER.fullmatch(cell)]
    assert live == []
    neutralised = [cell for cell in cells if cell.startswith("'")]
    assert neutralised, url  # and came out quoted, not dropped
