"""The biller's day in a real browser: the work queues, a claim the scrubber stopped fixed on the edit form,
the 837P batch built and downloaded, an 835 uploaded that pays one claim, denies another and leaves a
payment with a mistyped claim number in the exceptions, resolved in one click on the claim suggested for it.
axe-core checks every page on the way."""

import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from claims.models import Claim, ClaimStatus
from claims.scrubber.engine import claims_scrub
from claims.scrubber.ncci import ncci_load_samples
from claims.services import LineInput
from tests.browser.harness import axe_check, screenshot, sign_in
from tests.claims.conftest import DOS, Billing
from tests.claims.era_builder import era
from tests.rcm.factories import CoverageFactory, PatientFactory

pytestmark = pytest.mark.browser

D = Decimal
TRACE = "EFT20260320"
MISTYPED_PCN = "001000000030"  # Chen's claim 001000000003 as the payer keyed it


@pytest.fixture
def day(practice):
    """A practice set up to bill, with three claims of 03/02/2026 for Acme Health:
    Garcia's 99214 + 36415 (3 units, over the MUE: stopped by the scrubber), Okafor's 99214 and Chen's
    99213 (both scrubbed clean, ready to submit)."""
    ncci_load_samples()
    billing = Billing(practice)

    def coverage(last_name, first_name):
        patient = PatientFactory(practice=practice, last_name=last_name, first_name=first_name)
        return CoverageFactory(practice=practice, patient=patient, payer=billing.payer)

    def line(code, charge, units=1):
        return LineInput(
            procedure_code=code,
            charge=D(charge),
            service_date_from=DOS,
            units=units,
            diagnosis_pointers=[1, 2],
        )

    billing.stopped = billing.claim(lines=[line("99214", "185.00"), line("36415", "54.00", units=3)])
    billing.to_deny = billing.claim(coverage=coverage("Okafor", "James"), lines=[line("99214", "185.00")])
    billing.mistyped = billing.claim(coverage=coverage("Chen", "Mei"), lines=[line("99213", "140.00")])
    claims_scrub(queryset=Claim.objects.filter(practice=practice))
    return billing


def era_of_the_day(billing) -> str:
    """Acme's 835: Garcia's claim paid $138.00 (CO-45 $65.00 on the 99214), Okafor's denied (CO-50), and
    $95.00 for Chen's claim under a claim number with two digits swapped (her name and member id right)."""
    garcia = {line.procedure_code: line.line_control_number for line in billing.stopped.lines.all()}
    okafor = billing.to_deny.lines.get().line_control_number
    return era(
        trace=TRACE,
        claims=[
            dict(
                pcn=billing.stopped.patient_control_number,
                charge="203",
                paid="138",
                services=[
                    dict(
                        code="99214", charge="185", paid="120", cas=[("CO", "45", "65")], lcn=garcia["99214"]
                    ),
                    dict(code="36415", charge="18", paid="18", lcn=garcia["36415"]),
                ],
            ),
            dict(
                pcn=billing.to_deny.patient_control_number,
                status="4",
                charge="185",
                paid="0",
                services=[dict(code="99214", charge="185", paid="0", cas=[("CO", "50", "185")], lcn=okafor)],
            ),
            dict(
                pcn=MISTYPED_PCN,
                patient=("CHEN", "MEI"),
                member=billing.mistyped.coverage.member_id,
                charge="140",
                paid="95",
                services=[dict(code="99213", charge="140", paid="95", cas=[("CO", "45", "45")])],
            ),
        ],
    )


def menu(page, label: str) -> None:
    """Follow a link of the main menu."""
    page.get_by_role("navigation", name="Main").get_by_role("link", name=label, exact=True).click()


def cells(rows) -> list[list[str]]:
    """The text of each cell of each row, as the biller reads it."""
    rows.page.wait_for_load_state()  # a link just followed: read the new page once it is all there
    return [row.locator("th, td").all_inner_texts() for row in rows.all()]


def visit(page, name: str) -> None:
    """Every page of the journey: no serious or critical axe finding, and a screenshot."""
    axe_check(page)
    screenshot(page, name)


def test_the_billers_day(app, page, day, biller):
    stopped, to_deny, mistyped = day.stopped, day.to_deny, day.mistyped
    sign_in(page, app, biller)

    # Work queues: the claim the scrubber stopped is the one in "Scrub errors".
    menu(page, "Work queues")
    expect(page.get_by_role("heading", level=1)).to_have_text("Work queues")
    expect(page.locator(".tabs a.active")).to_have_text("Scrub errors 1")
    row = page.locator("table.grid tbody tr")
    expect(row).to_have_count(1)
    expect(row.locator("td")).to_have_text(
        [
            "",
            stopped.patient_control_number,
            "Garcia, Elena",
            "Acme Health",
            "Draft",
            "03/02/2026",
            re.compile(r"\d+"),
            "$239.00",
            "Line 2: 3 units of 36415 exceed the MUE of 2.",  # the first scrub error: what the row is about
            re.compile(r"03/02/2027 \d+ days left"),
            "—",
            "errors",
        ]
    )
    visit(page, "01-work-queues")

    # "Take the next claim": the only unassigned claim of the queue becomes the biller's and opens.
    page.get_by_role("button", name="Take the next claim").click()
    expect(page.locator(".messages")).to_have_text(f"Claim {stopped.patient_control_number} is yours now.")
    expect(page.get_by_role("heading", level=1)).to_contain_text(f"Claim {stopped.patient_control_number}")
    stopped.refresh_from_db()
    assert stopped.assigned_to == biller

    # The claim: the scrubber's finding, fixed on the edit form; saving scrubs it clean.
    findings = page.locator("#scrub table.findings tbody tr")
    expect(findings.locator("td")).to_have_text(
        [
            "error",
            "2",
            "Line 2: 3 units of 36415 exceed the MUE of 2.",
            re.compile("^Check the units"),
            "MUE_UNITS",
        ]
    )
    visit(page, "02-claim-with-a-scrub-error")
    page.get_by_role("link", name="Edit claim").click()
    lab_line = page.locator("#lines tbody.line").nth(1)
    lab_line.get_by_label("Units").fill("1")
    lab_line.get_by_label("Charge for the line").fill("18.00")
    visit(page, "03-edit-claim")
    page.get_by_role("button", name="Save changes").click()
    expect(page.locator(".messages")).to_have_text(
        f"Claim {stopped.patient_control_number} saved. "
        "The scrubber found nothing: the claim is ready to submit."
    )
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Claim {stopped.patient_control_number} Ready to submit"
    )
    expect(page.locator("dl.headline dd")).to_have_text(["$203.00", "$203.00", "$0.00"])
    page.get_by_role("button", name="Scrub now").click()
    expect(page.locator("#scrub h2 .badge")).to_have_text("clean")
    expect(page.locator("#scrub")).to_contain_text("No findings.")
    expect(page.locator(".messages")).to_have_text(
        "The scrubber found nothing: the claim is ready to submit."
    )
    visit(page, "04-claim-scrubbed-clean")

    # The 837P batch: the three ready claims in one file for Acme Health, downloaded.
    menu(page, "Batches")
    expect(page.get_by_label("Claims")).to_contain_text("All payers · 3 ready claims · $528.00")
    visit(page, "05-batches-ready")
    page.get_by_role("button", name="Submit").click()
    file_name = "riverside-ACME1-000000001.837"
    expect(page.locator(".messages")).to_have_text(
        f"1 batch made: {file_name} (Acme Health, 3 claims, $528.00)."
    )
    expect(page.locator("table.grid tbody tr td")).to_have_text(
        [
            file_name,
            "Acme Health",
            "3",
            "$528.00",
            "Built, not sentNot downloaded or delivered yet.",
            "000000001 / 1 / 0001",
            re.compile(r"\d\d/\d\d/\d{4}"),
        ]
    )
    page.get_by_role("link", name=file_name).click()
    assert cells(page.locator("section.panel", has_text="Claims in this batch").locator("tbody tr")) == [
        [
            stopped.patient_control_number,
            "Garcia, Elena",
            "03/02/2026",
            "1 · Original",
            "$203.00",
            "Submitted",
        ],
        [
            to_deny.patient_control_number,
            "Okafor, James",
            "03/02/2026",
            "1 · Original",
            "$185.00",
            "Submitted",
        ],
        [mistyped.patient_control_number, "Chen, Mei", "03/02/2026", "1 · Original", "$140.00", "Submitted"],
    ]
    visit(page, "06-batch")
    with page.expect_download() as download:
        page.get_by_role("link", name="Download .837").click()
    assert download.value.suggested_filename == file_name
    x837 = open(download.value.path(), encoding="ascii").read()
    assert x837.startswith("ISA*00*") and x837.endswith("IEA*1*000000001~\n")
    page.reload()  # the page now says who downloaded the file, and offers to mark it sent by hand
    expect(page.locator("h1 #where")).to_have_text("Downloaded, not marked sent")
    page.get_by_role("button", name="Mark sent by hand").click()
    expect(page.locator("h1 #where")).to_have_text("Sent by hand")
    expect(page.locator(".messages")).to_have_text(
        f"{file_name} is marked sent to Availity by hand (3 claims, $528.00); "
        "its 999 will say whether it was accepted."
    )
    visit(page, "06b-batch-sent-by-hand")
    assert [segment for segment in x837.split("~") if segment.startswith(("CLM*", "SV1*"))] == [
        f"CLM*{stopped.patient_control_number}*203***11:B:1*Y*A*Y*Y",
        "SV1*HC:99214*185*UN*1***1:2",
        "SV1*HC:36415*18*UN*1***1:2",
        f"CLM*{to_deny.patient_control_number}*185***11:B:1*Y*A*Y*Y",
        "SV1*HC:99214*185*UN*1***1:2",
        f"CLM*{mistyped.patient_control_number}*140***11:B:1*Y*A*Y*Y",
        "SV1*HC:99213*140*UN*1***1:2",
    ]

    # Acme's 835 uploaded on the X12 files page: one claim paid, one denied, one payment unmatched.
    menu(page, "X12 files")
    page.get_by_label("Files").set_input_files(
        files=[{"name": "acme-0320.835", "mimeType": "text/plain", "buffer": era_of_the_day(day).encode()}]
    )
    page.get_by_role("button", name="Import").click()
    expect(page.locator(".messages")).to_have_text(
        "acme-0320.835 (835 remittance advice) imported: 1 remittance, 2 claims posted, 1 exception."
    )
    assert cells(page.locator("table.grid tbody tr"))[0][:4] == [
        "acme-0320.835",
        "835",
        "applied",
        "1 remittance · 2 claims posted · 1 exception",
    ]
    visit(page, "07-x12-files")

    # The remittance: $233.00 paid, $138.00 posted, Chen's $95.00 waiting in the exceptions.
    menu(page, "Remittances")
    assert cells(page.locator("table.grid tbody tr")) == [
        [
            "Acme Health",
            TRACE,
            "EFT (ACH)",
            "03/20/2026",
            "$233.00",
            "$138.00",
            "3",
            "1 open",
            "Exceptions open",
        ]
    ]
    visit(page, "08-remittances")
    page.get_by_role("link", name=TRACE).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Acme Health {TRACE} Exceptions open")
    expect(page.locator("dl.headline dd")).to_have_text(["$233.00", "$138.00", "$95.00"])
    payments = page.locator("section.claim-payment")
    expect(payments).to_have_count(3)
    page.wait_for_load_state()
    assert [payment.locator(".panel-head").inner_text().split("\n") for payment in payments.all()] == [
        [stopped.patient_control_number, "Garcia, Elena", "CLP02 1 processed as primary", "posted"],
        [to_deny.patient_control_number, "Okafor, James", "CLP02 4 denied", "posted: denied"],
        [
            MISTYPED_PCN,
            "no claim of the practice",
            "CLP02 1 processed as primary",
            "not posted: in exceptions",
        ],
    ]
    expect(payments.nth(0).locator("dl.amounts dd").nth(1)).to_have_text("$138.00")
    assert cells(payments.nth(1).locator("tbody tr"))[0][5:7] == ["$185.00", "$0.00"]
    expect(payments.nth(1).locator("tbody")).to_contain_text(
        "$185.00 CO-50: the payer does not consider the service medically necessary"
    )
    visit(page, "09-remittance-with-an-exception")

    # Garcia's claim is paid; Okafor's is denied and waits in the Denied queue.
    payments.nth(0).get_by_role("link", name=stopped.patient_control_number).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Claim {stopped.patient_control_number} Paid")
    expect(page.locator("dl.headline dd")).to_have_text(["$203.00", "$0.00", "$0.00"])
    assert cells(page.locator("tr.total")) == [
        ["Total", "$203.00", "", "$138.00", "$0.00", "$65.00", "$0.00", "$0.00", "$0.00"]
    ]
    visit(page, "10-claim-paid")
    menu(page, "Work queues")
    page.locator(".tabs").get_by_role("link", name="Denied").click()
    expect(page.locator(".tabs a.active")).to_have_text("Denied 1")
    assert [row[1:5] + row[7:8] for row in cells(page.locator("table.grid tbody tr"))] == [
        [to_deny.patient_control_number, "Okafor, James", "Acme Health", "Denied", "$185.00"]
    ]
    visit(page, "11-denied-queue")
    page.get_by_role("link", name=to_deny.patient_control_number).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        f"Claim {to_deny.patient_control_number} Denied"
    )
    expect(page.locator("dl.headline dd")).to_have_text(["$185.00", "$185.00", "$0.00"])
    visit(page, "12-claim-denied")

    # The exception: Chen's claim is suggested for the payment, and one click posts it there.
    menu(page, "Remittances")
    page.get_by_role("link", name="Exceptions to resolve").click()
    expect(page.locator(".tabs a.active")).to_have_text("Open 1")
    exception = page.locator("table.exceptions tbody tr")
    assert cells(exception)[0][1:3] == [
        "No matching claim",
        f"No claim {MISTYPED_PCN} in this practice (payer claim number PCN{MISTYPED_PCN}, charge $140.00).",
    ]
    suggestions = exception.locator(".suggestions li")
    expect(suggestions).to_have_count(1)
    expect(suggestions).to_contain_text(
        f"{mistyped.patient_control_number} · Chen, Mei · 03/02/2026 · $140.00"
        "\nsame member id, patient name, date of service, procedures and charge"
    )
    visit(page, "13-exception-with-a-suggested-claim")
    suggestions.get_by_role("button", name=f"Post $95.00 to claim {mistyped.patient_control_number}").click()
    expect(page.locator(".messages")).to_have_text(
        f"Posted $95.00 from Acme Health {TRACE} to claim {mistyped.patient_control_number}."
    )
    expect(page.locator(".tabs a.active")).to_have_text("Open 0")
    expect(page.locator("table.exceptions tbody")).to_have_text(
        "No open exceptions: everything was posted or resolved."
    )
    visit(page, "14-exceptions-resolved")

    # The remittance now reconciles to zero and Chen's claim is paid.
    menu(page, "Remittances")
    assert cells(page.locator("table.grid tbody tr")) == [
        ["Acme Health", TRACE, "EFT (ACH)", "03/20/2026", "$233.00", "$233.00", "3", "1 resolved", "Posted"]
    ]
    page.get_by_role("link", name=TRACE).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Acme Health {TRACE} Posted")
    expect(page.locator("dl.headline dd")).to_have_text(["$233.00", "$233.00", "$0.00"])
    visit(page, "15-remittance-posted")
    chen = page.locator("section.claim-payment").nth(2)
    expect(chen.locator(".panel-head")).to_contain_text(f"{MISTYPED_PCN}\nChen, Mei")
    chen.get_by_role("link", name=MISTYPED_PCN).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Claim {mistyped.patient_control_number} Paid")
    assert cells(page.locator("tr.total")) == [
        ["Total", "$140.00", "", "$95.00", "$0.00", "$45.00", "$0.00", "$0.00", "$0.00"]
    ]
    visit(page, "16-matched-claim-paid")

    statuses = dict(Claim.objects.filter(practice=day.practice).values_list("pk", "status"))
    assert statuses == {
        stopped.pk: ClaimStatus.PAID,
        to_deny.pk: ClaimStatus.DENIED,
        mistyped.pk: ClaimStatus.PAID,
    }
