"""Fee schedule files: every bad input refuses the whole file with a row-by-row report and saves nothing;
a good file is previewed, then applied whole by difference (the same file twice changes nothing); exports in
CSV and XLSX load back unchanged and neutralise formula starts."""

import csv
import datetime
import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import Workbook, load_workbook

from rcm.contracts import fee_schedules
from rcm.contracts.fee_schedules import (
    FeeScheduleRefused,
    fee_schedule_apply,
    fee_schedule_csv,
    fee_schedule_import,
    fee_schedule_preview,
    fee_schedule_read,
    fee_schedule_xlsx,
)
from rcm.contracts.services import contract_create
from rcm.models import AuditEvent, FeeScheduleImport, FeeScheduleRow, PayerContract
from tests.api import api
from tests.conftest import login
from tests.rcm.factories import PayerFactory

D = Decimal
GOOD = (
    b"code,modifier,setting,allowed_amount\n"
    b"99213,,non-facility,92.50\n99213,,facility,71.20\n97110,GP,,31.40\n"
)


@pytest.fixture
def contract(practice):
    payer = PayerFactory(practice=practice, name="Acme Health", payer_id="ACME1")
    return contract_create(
        practice=practice, payer=payer, name="Acme PPO 2026", effective_date=datetime.date(2026, 1, 1)
    )


def _rows(contract):
    return sorted(contract.fee_rows.values_list("procedure_code", "modifier", "facility", "allowed_amount"))


def _xlsx(rows) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _problems(file_name, content):
    report = fee_schedule_read(file_name=file_name, content=content)
    assert not report.ok and report.lines == []
    return [(p.row, p.column, p.message) for p in report.problems]


# --- Reading: every bad input, with its row -----------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            "code,allowed_amount\n9921,10.00\n",
            [
                (
                    2,
                    "code",
                    "“9921” is not a CPT (5 digits, or 4 digits + F/T/U) or HCPCS (a letter A-V + 4 digits) "
                    "code.",
                )
            ],
        ),
        (
            "code,allowed_amount\n99213,ten\n",
            [(2, "allowed_amount", "The allowed amount “ten” is not a number.")],
        ),
        (
            "code,allowed_amount\n99213,-5.00\n",
            [(2, "allowed_amount", "The allowed amount -5.00 is negative.")],
        ),
        (
            "code,allowed_amount\n99213,5.005\n",
            [(2, "allowed_amount", "The allowed amount 5.005 has more than two decimal places.")],
        ),
        ("code,allowed_amount\n99213,\n", [(2, "allowed_amount", "The allowed amount is missing.")]),
        (
            "code,allowed_amount\n99213,99999999999.00\n",
            [(2, "allowed_amount", "The allowed amount 99999999999.00 is too large.")],
        ),
        (
            "code,setting,allowed_amount\n99213,hospital,10\n",
            [(2, "setting", "Unknown setting “hospital”: write facility or non-facility.")],
        ),
        (
            "code,modifier,allowed_amount\n99213,GPX,10\n",
            [(2, "modifier", "The modifier “GPX” is not two letters or digits.")],
        ),
        (
            "code,modifier,setting,allowed_amount\n99213,25,facility,10\n97110,,,5\n99213,25,Facility,11\n",
            [(4, "code", "Duplicate of row 2: 99213-25 facility is listed twice.")],
        ),
        (
            "code,allowed_amount\n99213,=1+1\n97110,@SUM(A1)\n",
            [
                (2, "allowed_amount", "“=1+1” looks like a spreadsheet formula: write the value itself."),
                (3, "allowed_amount", "“@SUM(A1)” looks like a spreadsheet formula: write the value itself."),
            ],
        ),
        (
            "cpt,price\n99213,10\n",
            [
                (
                    1,
                    "price",
                    "Unknown column “price”. The columns are: code, modifier, setting, allowed_amount.",
                ),
                (
                    1,
                    "allowed_amount",
                    "Missing column “allowed_amount”. The first row names the columns: code, modifier, "
                    "setting, allowed_amount (modifier and setting may be left out).",
                ),
            ],
        ),
        ("code,code,allowed_amount\n99213,99213,1\n", [(1, "code", "The column “code” appears twice.")]),
        (
            "code,allowed_amount\n99213,10,extra\n",
            [(2, "", "This row has 3 values; the header names 2 columns.")],
        ),
        ("code,allowed_amount\n", [(None, "", "The file has a header but no fee rows.")]),
        ("", [(None, "", "The file is empty.")]),
        ("\n\n  \n", [(None, "", "The file is empty.")]),
        (",,\n,,\n", [(None, "", "The file is empty.")]),
    ],
)
def test_each_bad_csv_is_reported_by_row_and_column(body, expected):
    assert _problems("fees.csv", body.encode()) == expected


def test_every_bad_row_is_reported_not_only_the_first():
    body = "code,allowed_amount\n99213,10\nBAD,1\n99214,x\n99215,-1\n"
    assert [(row, column) for row, column, _ in _problems("fees.csv", body.encode())] == [
        (3, "code"),
        (4, "allowed_amount"),
        (5, "allowed_amount"),
    ]


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(monkeypatch):
    monkeypatch.setattr(fee_schedules, "MAX_BYTES", 100)
    assert _problems("fees.csv", GOOD + b"0" * 100) == [(None, "", "The file is 0.0 MB; the limit is 0 MB.")]


def test_a_50_mb_file_is_refused():
    content = GOOD + b"9" * (50 * 1024 * 1024)
    assert _problems("fees.csv", content) == [(None, "", "The file is 50.0 MB; the limit is 5 MB.")]


@pytest.mark.parametrize(
    ("file_name", "content", "message"),
    [
        ("fees.csv", "code,allowed_amount\n99213,10\n".encode("utf-16"), "The file is not UTF-8 text"),
        ("fees.xlsx", b"not a zip at all", "The file is not a readable XLSX workbook"),
        ("fees.xls", GOOD, "Load a .csv or .xlsx file"),
        ("fees", GOOD, "Load a .csv or .xlsx file"),
        ("fees.csv", b'code,allowed_amount\n"99213,10\n', "The file is not a well-formed CSV file"),
    ],
)
def test_a_file_that_cannot_be_read_says_what_it_is(file_name, content, message):
    ((row, _column, text),) = _problems(file_name, content)
    assert row is None and text.startswith(message)


def test_an_xlsx_with_numbers_typed_as_numbers_reads_exactly():
    content = _xlsx(
        [
            ["Code", "Modifier", "Setting", "Allowed amount"],
            [99213, None, "facility", 71.2],
            ["97110", "GP", None, 31.4],
            [99214, "", "", 130],
        ]
    )
    report = fee_schedule_read(file_name="fees.XLSX", content=content)
    assert report.ok
    assert [
        (ln.row, ln.procedure_code, ln.modifier, ln.facility, ln.allowed_amount) for ln in report.lines
    ] == [
        (2, "99213", "", True, D("71.20")),
        (3, "97110", "GP", False, D("31.40")),
        (4, "99214", "", False, D("130.00")),
    ]


def test_a_formula_in_an_xlsx_cell_is_refused_even_with_a_cached_value():
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(["code", "allowed_amount"])
    sheet.append(["99213", 10])
    sheet.append(["99214", "=B2*1.1"])
    buffer = io.BytesIO()
    workbook.save(buffer)
    assert _problems("fees.xlsx", buffer.getvalue()) == [
        (3, "allowed_amount", "“=B2*1.1” looks like a spreadsheet formula: write the value itself.")
    ]


def test_an_xlsx_with_a_negative_amount_and_a_bad_setting_is_reported():
    content = _xlsx([["code", "setting", "allowed_amount"], ["99213", "inpatient", -3]])
    assert _problems("fees.xlsx", content) == [
        (2, "setting", "Unknown setting “inpatient”: write facility or non-facility."),
        (2, "allowed_amount", "The allowed amount -3 is negative."),
    ]


def test_money_signs_and_thousands_separators_are_read_and_codes_upper_cased():
    report = fee_schedule_read(file_name="f.csv", content=b'code,allowed_amount\ng0283,"$1,234.5"\n')
    assert [(ln.procedure_code, ln.allowed_amount) for ln in report.lines] == [("G0283", D("1234.50"))]


# --- Applying: nothing saved on refusal; preview, confirm, idempotent ---------------------------


def test_a_refused_file_saves_nothing(contract):
    FeeScheduleRow.objects.create(
        practice=contract.practice, contract=contract, procedure_code="99213", allowed_amount=D("80")
    )
    before = AuditEvent.objects.count()
    preview = fee_schedule_preview(
        contract=contract, file_name="f.csv", content=b"code,allowed_amount\n99213,90\n99214,-1\n"
    )
    assert (preview.report.ok, preview.fee_import) == (False, None)
    with pytest.raises(FeeScheduleRefused):
        fee_schedule_import(
            contract=contract, file_name="f.csv", content=b"code,allowed_amount\n99213,90\n99214,-1\n"
        )
    assert _rows(contract) == [("99213", "", False, D("80.00"))]
    assert FeeScheduleImport.objects.count() == 0
    assert AuditEvent.objects.count() == before


def test_the_preview_keeps_the_file_and_changes_no_row_until_confirmed(contract, manager):
    preview = fee_schedule_preview(contract=contract, file_name="fees.csv", content=GOOD, user=manager)
    assert preview.changes.counts == {"added": 3, "changed": 0, "removed": 0, "unchanged": 0}
    kept = FeeScheduleImport.objects.get()
    assert (bytes(kept.content), kept.status, kept.row_count, kept.uploaded_by) == (
        GOOD,
        "previewed",
        3,
        manager,
    )
    assert _rows(contract) == []
    fee_schedule_apply(fee_import=kept, user=manager)
    assert _rows(contract) == [
        ("97110", "GP", False, D("31.40")),
        ("99213", "", False, D("92.50")),
        ("99213", "", True, D("71.20")),
    ]
    kept.refresh_from_db()
    assert (kept.status, kept.counts) == ("applied", {"added": 3, "changed": 0, "removed": 0, "unchanged": 0})
    event = AuditEvent.objects.filter(object_type="rcm.payercontract", action="update").get()
    assert event.changes == {
        "fee_schedule": "fees.csv",
        "import": kept.pk,
        "added": 3,
        "changed": 0,
        "removed": 0,
        "unchanged": 0,
    }


def test_the_same_file_twice_changes_nothing(contract):
    first = fee_schedule_import(contract=contract, file_name="fees.csv", content=GOOD)
    ids = dict(((r.procedure_code, r.facility), r.pk) for r in contract.fee_rows.all())
    events = AuditEvent.objects.count()
    again = fee_schedule_preview(contract=contract, file_name="fees.csv", content=GOOD)
    assert (again.already_loaded, again.fee_import, again.changes.counts) == (
        True,
        first,
        {"added": 0, "changed": 0, "removed": 0, "unchanged": 3},
    )
    assert fee_schedule_import(contract=contract, file_name="fees.csv", content=GOOD) == first
    assert fee_schedule_apply(fee_import=first).status == "applied"  # applying twice: a no-op
    assert FeeScheduleImport.objects.count() == 1
    assert dict(((r.procedure_code, r.facility), r.pk) for r in contract.fee_rows.all()) == ids
    assert AuditEvent.objects.count() == events


def test_a_new_file_replaces_the_rows_by_difference(contract):
    fee_schedule_import(contract=contract, file_name="fees.csv", content=GOOD)
    kept = contract.fee_rows.get(procedure_code="99213", facility=False)
    second = b"code,setting,allowed_amount\n99213,non-facility,92.50\n99213,facility,75.00\n99214,,130\n"
    done = fee_schedule_import(contract=contract, file_name="fees-2.csv", content=second)
    assert done.counts == {"added": 1, "changed": 1, "removed": 1, "unchanged": 1}
    assert _rows(contract) == [
        ("99213", "", False, D("92.50")),
        ("99213", "", True, D("75.00")),
        ("99214", "", False, D("130.00")),
    ]
    assert contract.fee_rows.get(procedure_code="99213", facility=False).pk == kept.pk


def test_a_percentage_contract_has_no_schedule_to_load(practice, contract):
    derived = contract_create(
        practice=practice,
        payer=PayerFactory(practice=practice),
        name="110% of Acme",
        effective_date=datetime.date(2026, 1, 1),
        pricing_method="percent_of_base",
        percent=D("110"),
        base_payer=contract.payer,
    )
    with pytest.raises(ValidationError) as refused:
        fee_schedule_preview(contract=derived, file_name="fees.csv", content=GOOD)
    assert refused.value.messages == [
        "“110% of Acme” is priced as % of a base payer's fee schedule: it has no fee schedule of its own. "
        "Load the schedule into a contract priced by fee schedule (for % of a base schedule: the base "
        "payer's contract in force on the dates it applies to)."
    ]
    assert FeeScheduleImport.objects.count() == 0


# --- Export ------------------------------------------------------------------------------------


def test_the_csv_export_loads_back_unchanged_and_neutralises_formula_starts(contract):
    fee_schedule_import(contract=contract, file_name="fees.csv", content=GOOD)
    exported = fee_schedule_csv(contract)
    assert list(csv.reader(io.StringIO(exported))) == [
        ["code", "modifier", "setting", "allowed_amount"],
        ["97110", "GP", "non-facility", "31.40"],
        ["99213", "", "non-facility", "92.50"],
        ["99213", "", "facility", "71.20"],
    ]
    assert fee_schedule_preview(
        contract=contract, file_name="back.csv", content=exported.encode()
    ).changes.none
    # A row written around the checks (the admin, an old import): its text still cannot run as a formula.
    FeeScheduleRow.objects.create(
        practice=contract.practice,
        contract=contract,
        procedure_code="99215",
        modifier="=1",
        allowed_amount=D("1"),
    )
    assert "99215,'=1,non-facility,1.00" in fee_schedule_csv(contract)


def test_the_xlsx_export_has_numbers_and_loads_back_unchanged(contract):
    fee_schedule_import(contract=contract, file_name="fees.csv", content=GOOD)
    content = fee_schedule_xlsx(contract)
    sheet = load_workbook(io.BytesIO(content)).active
    assert [[cell.value for cell in row] for row in sheet.iter_rows()] == [
        ["code", "modifier", "setting", "allowed_amount"],
        ["97110", "GP", "non-facility", 31.4],
        ["99213", None, "non-facility", 92.5],
        ["99213", None, "facility", 71.2],
    ]
    assert fee_schedule_preview(contract=contract, file_name="back.xlsx", content=content).changes.none


# --- Pages -------------------------------------------------------------------------------------


def test_the_manager_previews_then_confirms_on_the_page(contract, manager):
    client = login(manager)
    response = client.post(
        f"/payers/contracts/{contract.pk}/fee-schedule/", {"file": SimpleUploadedFile("fees.csv", GOOD)}
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "Preview: 3 rows, no problem found" in page
    assert "Load these 3 rows into Acme PPO 2026" in page
    assert _rows(contract) == []
    kept = FeeScheduleImport.objects.get()
    response = client.post(f"/payers/contracts/{contract.pk}/fee-schedule/{kept.pk}/confirm/")
    assert response["Location"] == f"/payers/contracts/{contract.pk}/"
    assert len(_rows(contract)) == 3
    follow = client.get(response["Location"]).content.decode()
    assert "Fee schedule loaded from fees.csv: 3 added, 0 changed, 0 removed, 0 unchanged." in follow


def test_a_bad_file_on_the_page_lists_each_problem_and_saves_nothing(contract, manager):
    response = login(manager).post(
        f"/payers/contracts/{contract.pk}/fee-schedule/",
        {"file": SimpleUploadedFile("fees.csv", b"code,setting,allowed_amount\n99213,ward,10\n9921,,-1\n")},
    )
    assert response.status_code == 400
    page = response.content.decode()
    assert "3 problems in 2 rows: the file was refused and nothing was saved." in page
    assert "Unknown setting “ward”: write facility or non-facility." in page
    assert "The allowed amount -1 is negative." in page
    assert (FeeScheduleImport.objects.count(), FeeScheduleRow.objects.count()) == (0, 0)


def test_only_editors_may_upload_and_anyone_who_sees_payers_may_export(contract, persona):
    url = f"/payers/contracts/{contract.pk}/fee-schedule/"
    biller = persona("biller")
    assert biller.post(url, {"file": SimpleUploadedFile("fees.csv", GOOD)}).status_code == 403
    response = biller.get(f"/payers/contracts/{contract.pk}/fee-schedule.xlsx")
    assert (response.status_code, response["Content-Disposition"]) == (
        200,
        f'attachment; filename="fee-schedule-{contract.pk}.xlsx"',
    )
    assert biller.get(f"/payers/contracts/{contract.pk}/fee-schedule.pdf").status_code == 404
    assert AuditEvent.objects.filter(action="export", object_type="rcm.payercontract").count() == 1


# --- API ---------------------------------------------------------------------------------------


def test_the_api_checks_with_dry_run_then_imports(contract, manager):
    client = api(manager)
    url = f"/api/contracts/{contract.pk}/fee-schedule/"
    body = client.post(
        url, {"file": SimpleUploadedFile("fees.csv", GOOD), "dry_run": "true"}, format="multipart"
    ).json()
    assert (body["applied"], body["counts"], body["row_count"]) == (
        False,
        {"added": 3, "changed": 0, "removed": 0, "unchanged": 0},
        3,
    )
    assert _rows(contract) == []
    body = client.post(url, {"file": SimpleUploadedFile("fees.csv", GOOD)}, format="multipart").json()
    assert (body["applied"], body["already_loaded"], body["counts"]["added"]) == (True, False, 3)
    body = client.post(url, {"file": SimpleUploadedFile("fees.csv", GOOD)}, format="multipart").json()
    assert (body["applied"], body["already_loaded"], body["counts"]) == (
        False,
        True,
        {"added": 0, "changed": 0, "removed": 0, "unchanged": 3},
    )
    rows = client.get(url).json()
    assert rows["count"] == 3
    assert rows["results"][0] == {
        "id": rows["results"][0]["id"],
        "code": "97110",
        "modifier": "GP",
        "setting": "non-facility",
        "allowed_amount": "31.40",
    }


def test_the_api_refuses_a_bad_file_with_the_row_report(contract, manager):
    response = api(manager).post(
        f"/api/contracts/{contract.pk}/fee-schedule/",
        {"file": SimpleUploadedFile("fees.csv", b"code,allowed_amount\n99213,abc\n")},
        format="multipart",
    )
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["message"] == (
        "1 problem in 1 row: the file was refused and nothing was saved. "
        "First: row 2: The allowed amount “abc” is not a number."
    )
    assert error["problems"] == [
        {
            "row": 2,
            "column": "allowed_amount",
            "value": "abc",
            "message": "The allowed amount “abc” is not a number.",
        }
    ]
    assert FeeScheduleImport.objects.count() == 0


def test_the_api_exports_csv_and_refuses_other_kinds(contract, biller):
    fee_schedule_import(contract=contract, file_name="fees.csv", content=GOOD)
    client = api(biller)
    response = client.get(f"/api/contracts/{contract.pk}/fee-schedule/export/")
    assert response.content.decode().splitlines()[1] == "97110,GP,non-facility,31.40"
    assert client.get(f"/api/contracts/{contract.pk}/fee-schedule/export/?as=pdf").status_code == 400
    assert (
        client.post(
            f"/api/contracts/{contract.pk}/fee-schedule/",
            {"file": SimpleUploadedFile("fees.csv", GOOD)},
            format="multipart",
        ).status_code
        == 403
    )


def test_another_practices_contract_is_404_in_the_api(contract, outsider):
    assert api(outsider).get(f"/api/contracts/{contract.pk}/fee-schedule/").status_code == 404
    assert PayerContract.objects.count() == 1
