"""The real 835 files in tests/fixtures/x12/835/, each imported into a practice set up to match it.

What each test checks is written above it; amounts are the files' own."""

import datetime
from decimal import Decimal

from claims.edi.intake import x12_import
from claims.ledger import ledger_check
from claims.models import Claim, ClaimStatus, Remittance, RemittanceLine, Transaction
from claims.services import LineInput
from claims.state_machine import claim_transition
from rcm.models import Practice
from tests.claims.test_acknowledgments import SAMPLES

D = Decimal


def claim_for(billing, pcn, lines, day):
    claim = billing.claim(
        lines=[
            LineInput(
                procedure_code=code,
                charge=D(charge),
                service_date_from=day,
                service_date_to=day_to or day,
                modifiers=mods,
            )
            for code, charge, mods, day_to in lines
        ]
    )
    Claim.objects.filter(pk=claim.pk).update(patient_control_number=pcn)
    for status in ("ready", "submitted"):
        claim_transition(claim=claim, to_status=status)
    claim.refresh_from_db()
    return claim


def by_code(claim):
    return {line.procedure_code: line for line in claim.lines.all()}


# lfh-managed-care.835: two claims from RUSHMORE LIFE, each with a claim-level CAS*CO*A2 that takes its amount
# out of the line payment (800 billed, line 500, claim pays 450; 1200 billed, line 550, claim pays 495), PR-1
# deductible of 300 and 600, and CO-45 50 on the second. Check: both paid, exact buckets, BPR 945 = 450 + 495,
# the invalid BPR16 date reported as a warning with the production date used instead.
def test_managed_care_sample(billing):
    Practice.objects.filter(pk=billing.practice.pk).update(npi="5544667733")
    billing.practice.refresh_from_db()
    first = claim_for(
        billing, "5554555444", [("99211", "800.00", [], datetime.date(2002, 3, 4))], datetime.date(2002, 3, 1)
    )
    second = claim_for(
        billing,
        "8765432112",
        [("93555", "1200.00", [], datetime.date(2002, 3, 12))],
        datetime.date(2002, 3, 10),
    )
    result = x12_import(
        practice=billing.practice,
        file_name="managed.835",
        content=(SAMPLES / "835/lfh-managed-care.835").read_bytes(),
    )
    assert result.applied, result.file.error
    assert result.file.outcome == {"remittances": 1, "claims_posted": 2, "exceptions": 0}
    assert result.file.warnings == [
        "Segment 4 (BPR): '20002316' is not a date (CCYYMMDD). The production date is used instead."
    ]
    remittance = Remittance.objects.get()
    assert (
        remittance.payment_amount,
        remittance.payment_date,
        remittance.trace_number,
        remittance.payer_name,
    ) == (D("945.00"), datetime.date(2002, 3, 14), "7170066655", "RUSHMORE LIFE")
    for claim, paid, adjustments, patient in (
        (first, "450.00", "50.00", "300.00"),
        (second, "495.00", "105.00", "600.00"),
    ):
        claim.refresh_from_db()
        assert claim.status == ClaimStatus.PAID
        assert (claim.insurance_paid, claim.adjustments, claim.patient_balance, claim.insurance_balance) == (
            D(paid),
            D(adjustments),
            D(patient),
            D("0.00"),
        )
    assert (
        RemittanceLine.objects.get(procedure_code="99211").match_reason
        == "procedure, modifiers and date of service"
    )
    assert ledger_check(practice=billing.practice) == []


# lfh-cob-contractural-adjustment.835: a secondary payer (CLP02 = 2) pays 34.00 of 541.00 with CAS*OA*23*516
# and a negative CAS*OA*94*-9; the composite uses '>' although ISA16 says ':'. Check: the line (HC>55669)
# matches, the OA amounts net to 507.00 posted as the prior payer's share, the claim is paid with nothing
# left open.
def test_cob_contractual_adjustment_sample(billing):
    Practice.objects.filter(pk=billing.practice.pk).update(tax_id="3UR334563")
    billing.practice.refresh_from_db()
    claim = claim_for(billing, "0001000055", [("55669", "541.00", [], None)], datetime.date(2005, 2, 2))
    result = x12_import(
        practice=billing.practice,
        file_name="cob.835",
        content=(SAMPLES / "835/lfh-cob-contractural-adjustment.835").read_bytes(),
    )
    assert result.applied, result.file.error
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.PAID
    assert list(
        Transaction.objects.filter(claim=claim)
        .exclude(kind="charge")
        .order_by("id")
        .values_list("kind", "amount", "group_code", "reason_code")
    ) == [("insurance_payment", D("34.00"), "", ""), ("other_adjustment", D("507.00"), "OA", "23")]
    assert claim.balance == D("0.00")
    assert RemittanceLine.objects.get().allowed == D("550.00")  # AMT*B6 as sent


# lfh-secondary-payment.835: a secondary remit of 1222.00 for two claims. The first (L0004828311) has no
# service lines: 912.00 paid and CAS*OA*23*9411.64 at claim level, shared over our two lines by balance. The
# second pays two modifier-26 lines 30.00 and 280.00 with OA-23, PR-1 150, PR-2 70 and CO-42 85. Check: both
# paid, exact buckets.
def test_secondary_payment_sample(billing):
    Practice.objects.filter(pk=billing.practice.pk).update(tax_id="599944521")
    billing.practice.refresh_from_db()
    big = claim_for(
        billing,
        "L0004828311",
        [("99223", "323.64", [], None), ("27447", "10000.00", [], None)],
        datetime.date(2005, 3, 3),
    )
    small = claim_for(
        billing,
        "0001000053",
        [("12345", "166.50", ["26"], None), ("66543", "585.00", ["26"], None)],
        datetime.date(2005, 1, 6),
    )
    result = x12_import(
        practice=billing.practice,
        file_name="secondary.835",
        content=(SAMPLES / "835/lfh-secondary-payment.835").read_bytes(),
    )
    assert result.applied, result.file.error
    big.refresh_from_db()
    small.refresh_from_db()
    assert (big.status, big.insurance_paid, big.adjustments, big.balance) == (
        ClaimStatus.PAID,
        D("912.00"),
        D("9411.64"),
        D("0.00"),
    )
    lines = by_code(big)
    assert lines["99223"].insurance_paid + lines["27447"].insurance_paid == D("912.00")
    assert lines["99223"].insurance_paid == D("28.59")  # 912.00 × 323.64 / 10323.64, rounded half up
    assert (
        small.status,
        small.insurance_paid,
        small.adjustments,
        small.patient_balance,
        small.insurance_balance,
    ) == (ClaimStatus.PAID, D("310.00"), D("221.50"), D("220.00"), D("0.00"))
    assert Remittance.objects.get().payment_amount == D("1222.00")
    assert ledger_check(practice=billing.practice) == []
