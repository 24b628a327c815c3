"""XLSX exports of the drill-down's claims and of the KPI table, read back with openpyxl: the same rows
as the CSV, money as exact numbers, formula starts neutralised, each export audited."""

import datetime
import io
from decimal import Decimal as D

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from claims.models import Claim
from kpis.exports import XLSX_TYPE
from kpis.services import kpi_snapshots_compute
from rcm.models import AuditEvent
from rcm.roles import Role
from tests.conftest import login
from tests.kpis.dataset import MARCH_END, MARCH_START, HandWorked

MARCH = {"start": "2026-03-01", "end": "2026-03-31"}


@pytest.fixture
def computed(practice):
    data = HandWorked(practice)
    kpi_snapshots_compute(practice=practice, start=MARCH_START, end=MARCH_END)
    return data


def read(response) -> list[tuple]:
    assert response["Content-Type"] == XLSX_TYPE
    sheet = load_workbook(io.BytesIO(response.content)).active
    return [tuple(cell.value for cell in row) for row in sheet.iter_rows()]


def test_the_drill_down_exports_as_xlsx_with_the_csv_columns(computed, manager):
    Claim.objects.filter(pk=computed.c5.pk).update(patient_control_number="=HYPERLINK(1)")
    response = login(manager).get(reverse("kpis:claims"), {"kpi": "ar_total", **MARCH, "format": "xlsx"})
    rows = read(response)
    assert response["Content-Disposition"] == 'attachment; filename="kpi-ar_total-2026-03-31.xlsx"'
    assert rows[0] == (
        "PCN",
        "Patient account",
        "Payer",
        "Status",
        "Date of service",
        "Charge",
        "Balance",
        "Counts for",
    )
    assert sorted(D(str(row[7])) for row in rows[1:]) == [D("25.00"), D("400.00"), D("400.00"), D("600.00")]
    c5 = next(row for row in rows[1:] if row[0] == "'=HYPERLINK(1)")  # text, not a formula
    assert (c5[2], c5[4], c5[5]) == ("Acme Health", datetime.datetime(2026, 1, 10), 500)
    event = AuditEvent.objects.get(action="export", practice=computed.practice)
    assert event.changes == {"kpi": "ar_total", "start": "2026-03-01", "end": "2026-03-31", "format": "xlsx"}


def test_the_kpi_table_exports_every_kpi_with_its_numbers_targets_and_formula(computed, manager):
    response = login(manager).get(reverse("kpis:kpi_table_export"), MARCH)
    rows = read(response)
    assert response["Content-Disposition"] == 'attachment; filename="kpis-2026-03-01-2026-03-31.xlsx"'
    assert rows[0][:4] == ("KPI", "Key", "Unit", "Value")
    by_key = {row[1]: row for row in rows[1:]}
    assert len(by_key) == 26
    clean = by_key["clean_claim_rate"]
    assert clean[2:5] == ("percent", 60, None)
    assert clean[6:11] == (3, 5, 95, 90, "off target")
    assert clean[11].startswith("claims first submitted in the period")
    assert by_key["ar_total"][3] == 1425
    # March's cost 12.45 ÷ cash 415; February (the period before) has no cost entered
    assert by_key["cost_to_collect"][3:11] == (3, None, None, 12.45, 415, 4, None, "on target")
    event = AuditEvent.objects.get(action="export", object_type="kpis.kpi_table")
    assert event.changes == {"start": "2026-03-01", "end": "2026-03-31", "scope": "", "format": "xlsx"}


def test_billers_cannot_export_the_kpi_table(persona):
    assert persona(Role.BILLER).get(reverse("kpis:kpi_table_export"), MARCH).status_code == 403
