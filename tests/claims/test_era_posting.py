"""ERA (835) posting: each case from the issue, with exact ledger effects."""

import datetime
from decimal import Decimal

import pytest

from claims.edi.intake import x12_import
from claims.ledger import ledger_check
from claims.models import (
    ClaimStatus,
    ExceptionStatus,
    ProviderAdjustment,
    Remittance,
    RemittanceException,
    RemittanceLine,
    Transaction,
)
from claims.remittances.posting import exception_resolve
from claims.services import LineInput
from claims.state_machine import claim_transition
from denials.models import Denial
from rcm.models import FeeScheduleRow
from tests.claims.conftest import DOS
from tests.claims.era_builder import era, interchange, transaction_set
from tests.rcm.factories import CoverageFactory

D = Decimal


def submitted(billing, lines=None, **kwargs):
    claim = billing.claim(
        lines=lines
        or [
            LineInput(
                procedure_code="99214", charge=D("185.00"), service_date_from=DOS, diagnosis_pointers=[1, 2]
            ),
            LineInput(procedure_code="36415", charge=D("18.00"), service_date_from=DOS),
        ],
        **kwargs,
    )
    for status in ("ready", "submitted", "accepted"):
        claim_transition(claim=claim, to_status=status)
    claim.refresh_from_db()
    return claim


def post(billing, text, name="era.835"):
    result = x12_import(practice=billing.practice, file_name=name, content=text)
    return result


def lines_of(claim):
    return {line.procedure_code: line for line in claim.lines.all()}


def ledger(claim):
    return sorted(
        (t.line.procedure_code, t.kind, t.amount, t.group_code, t.reason_code, t.responsibility)
        for t in Transaction.objects.filter(claim=claim).exclude(kind="charge").select_related("line")
    )


def test_full_payment(billing):
    claim = submitted(billing)
    l1, l2 = claim.lines.order_by("line_number")
    result = post(
        billing,
        era(
            claims=[
                dict(
                    pcn=claim.patient_control_number,
                    charge="203",
                    paid="138",
                    services=[
                        dict(
                            code="99214",
                            charge="185",
                            paid="120",
                            cas=[("CO", "45", "65")],
                            lcn=l1.line_control_number,
                        ),
                        dict(code="36415", charge="18", paid="18", lcn=l2.line_control_number),
                    ],
                )
            ]
        ),
    )
    assert result.applied, result.file.error
    assert result.file.outcome == {"remittances": 1, "claims_posted": 1, "exceptions": 0}
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.PAID
    assert claim.payer_claim_number == "PCN" + claim.patient_control_number
    assert (claim.insurance_paid, claim.adjustments, claim.insurance_balance, claim.patient_balance) == (
        D("138.00"),
        D("65.00"),
        D("0.00"),
        D("0.00"),
    )
    assert ledger(claim) == [
        ("36415", "insurance_payment", D("18.00"), "", "", ""),
        ("99214", "contractual_adjustment", D("65.00"), "CO", "45", ""),
        ("99214", "insurance_payment", D("120.00"), "", "", ""),
    ]
    remittance = Remittance.objects.get()
    assert (
        remittance.payer,
        remittance.trace_number,
        remittance.payment_amount,
        remittance.posted_payments,
    ) == (billing.payer, "EFT10001", D("138.00"), D("138.00"))
    first = RemittanceLine.objects.get(claim_line=l1)
    assert (first.allowed, first.match_reason) == (
        D("120.00"),
        f"line control number {l1.line_control_number} (REF*6R)",
    )
    assert ledger_check(practice=billing.practice) == []


def test_an_import_dated_by_its_caller_dates_everything_it_writes(billing):
    from claims.models import ClaimStatusChange

    at = datetime.datetime(2026, 3, 16, 7, 5, tzinfo=datetime.UTC)
    paid = submitted(billing)
    denied = submitted(
        billing,
        lines=[LineInput(procedure_code="20610", charge=D("120.00"), service_date_from=DOS)],
        diagnosis_codes=["M17.11"],
        prior_authorization="",
    )
    result = x12_import(
        practice=billing.practice,
        file_name="era.835",
        now=at,
        content=era(
            claims=[
                dict(
                    pcn=paid.patient_control_number,
                    charge="203",
                    paid="138",
                    services=[
                        dict(code="99214", charge="185", paid="120", cas=[("CO", "45", "65")]),
                        dict(code="36415", charge="18", paid="18"),
                    ],
                ),
                dict(
                    pcn=denied.patient_control_number,
                    status="4",
                    charge="120",
                    paid="0",
                    services=[dict(code="20610", charge="120", paid="0", cas=[("CO", "197", "120")])],
                ),
            ]
        ),
    )
    assert result.applied, result.file.error
    assert (result.file.received_at, Remittance.objects.get().received_at) == (at, at)
    assert {t.posted_at for t in Transaction.objects.filter(claim=paid).exclude(kind="charge")} == {at}
    assert [ClaimStatusChange.objects.filter(claim=c).latest("pk").at for c in (paid, denied)] == [at, at]
    assert Denial.objects.get().created_at == at


def test_partial_payment_with_deductible_coinsurance_and_copay(billing):
    claim = submitted(billing)
    result = post(
        billing,
        era(
            claims=[
                dict(
                    pcn=claim.patient_control_number,
                    charge="203",
                    paid="90",
                    pr="55",
                    services=[
                        dict(
                            code="99214",
                            charge="185",
                            paid="90",
                            cas=[("CO", "45", "40"), ("PR", "1", "30"), ("PR", "2", "15"), ("PR", "3", "10")],
                        ),
                        dict(code="36415", charge="18", paid="0", cas=[("CO", "97", "18")]),
                    ],
                )
            ]
        ),
    )
    assert result.applied, result.file.error
    claim.refresh_from_db()
    assert (claim.insurance_balance, claim.patient_balance, claim.adjustments) == (
        D("18.00"),
        D("55.00"),
        D("40.00"),
    )
    transfers = Transaction.objects.filter(claim=claim, kind="transfer_to_patient").order_by("reason_code")
    assert [(t.reason_code, t.responsibility, t.amount) for t in transfers] == [
        ("1", "deductible", D("30.00")),
        ("2", "coinsurance", D("15.00")),
        ("3", "copay", D("10.00")),
    ]
    # CO-97 on a zero-paid line is a denial (bundled), so the balance stays open for the biller to work.
    assert lines_of(claim)["36415"].insurance_balance == D("18.00")
    assert claim.status == ClaimStatus.PARTIALLY_PAID
    assert list(Denial.objects.values_list("reason_code", "amount")) == [("97", D("18.00"))]


def test_denial_with_carc_197_and_a_remark_creates_a_denial_record(billing):
    claim = submitted(
        billing,
        lines=[LineInput(procedure_code="20610", charge=D("120.00"), service_date_from=DOS)],
        diagnosis_codes=["M17.11"],
        prior_authorization="",
    )
    post(
        billing,
        era(
            claims=[
                dict(
                    pcn=claim.patient_control_number,
                    status="4",
                    charge="120",
                    paid="0",
                    services=[
                        dict(code="20610", charge="120", paid="0", cas=[("CO", "197", "120")], rarc=["N54"]),
                    ],
                )
            ]
        ),
    )
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.DENIED
    assert claim.insurance_balance == D("120.00")
    denial = Denial.objects.get()
    assert (
        denial.claim,
        denial.line.procedure_code,
        denial.group_code,
        denial.reason_code,
        denial.remark_codes,
        denial.amount,
    ) == (claim, "20610", "CO", "197", ["N54"], D("120.00"))
    assert ledger(claim) == []


def test_claim_level_adjustment_reduces_the_line_payments(billing):
    claim = submitted(billing)
    # Lines pay 150 and 10 (160); the claim-level CO-45 16.00 takes 15.00 and 1.00 out of them: CLP04 = 144.
    post(
        billing,
        era(
            claims=[
                dict(
                    pcn=claim.patient_control_number,
                    charge="203",
                    paid="144",
                    cas=[("CO", "45", "16")],
                    services=[
                        dict(code="99214", charge="185", paid="150", cas=[("CO", "45", "35")]),
                        dict(code="36415", charge="18", paid="10", cas=[("CO", "45", "8")]),
                    ],
                )
            ]
        ),
    )
    claim.refresh_from_db()
    lines = lines_of(claim)
    assert (lines["99214"].insurance_paid, lines["99214"].adjustments) == (D("135.00"), D("50.00"))
    assert (lines["36415"].insurance_paid, lines["36415"].adjustments) == (D("9.00"), D("9.00"))
    assert (claim.insurance_paid, claim.insurance_balance, claim.status) == (
        D("144.00"),
        D("0.00"),
        ClaimStatus.PAID,
    )
    assert ledger_check(practice=billing.practice) == []


def _paid_era(claim, trace="EFT1", paid="120", control="000000101"):
    return dict(
        pcn=claim.patient_control_number,
        charge="203",
        paid=str(D(paid) + 18),
        services=[
            dict(code="99214", charge="185", paid=paid, cas=[("CO", "45", str(185 - D(paid)))]),
            dict(code="36415", charge="18", paid="18"),
        ],
    )


def test_reversal_and_correction_in_separate_files(billing):
    claim = submitted(billing)
    post(billing, era(trace="EFT1", claims=[_paid_era(claim)]), "first.835")
    reversal = dict(
        pcn=claim.patient_control_number,
        status="22",
        charge="-203",
        paid="-138",
        services=[
            dict(code="99214", charge="-185", paid="-120", cas=[("CO", "45", "-65")]),
            dict(code="36415", charge="-18", paid="-18"),
        ],
    )
    result = post(billing, era(trace="EFT2", claims=[reversal], control="000000102"), "reversal.835")
    assert result.applied, result.file.error
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.ACCEPTED
    assert (claim.insurance_paid, claim.adjustments, claim.insurance_balance) == (
        D("0.00"),
        D("0.00"),
        D("203.00"),
    )
    assert Transaction.objects.filter(claim=claim, kind="reversal").count() == 3
    correction = _paid_era(claim, paid="130")
    assert post(
        billing, era(trace="EFT3", claims=[correction], control="000000103"), "correction.835"
    ).applied
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.PAID
    assert (claim.insurance_paid, claim.adjustments, claim.insurance_balance) == (
        D("148.00"),
        D("55.00"),
        D("0.00"),
    )
    assert ledger_check(practice=billing.practice) == []


def test_reversal_and_correction_in_the_same_file(billing):
    claim = submitted(billing)
    post(billing, era(trace="EFT1", claims=[_paid_era(claim)]), "first.835")
    reversal = dict(
        pcn=claim.patient_control_number,
        status="22",
        charge="-203",
        paid="-138",
        services=[
            dict(code="99214", charge="-185", paid="-120", cas=[("CO", "45", "-65")]),
            dict(code="36415", charge="-18", paid="-18"),
        ],
    )
    result = post(
        billing, era(trace="EFT2", claims=[reversal, _paid_era(claim, paid="100")], control="000000102")
    )
    assert result.applied and result.file.outcome == {"remittances": 1, "claims_posted": 2, "exceptions": 0}
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.PAID
    assert (claim.insurance_paid, claim.adjustments, claim.insurance_balance) == (
        D("118.00"),
        D("85.00"),
        D("0.00"),
    )
    assert [c.to_status for c in claim.status_history.order_by("id")][-2:] == ["accepted", "paid"]


def test_provider_level_adjustments_and_interest(billing):
    claim = submitted(billing)
    result = post(
        billing,
        era(
            claims=[
                dict(
                    pcn=claim.patient_control_number,
                    charge="203",
                    paid="140.50",
                    interest="2.50",
                    services=[
                        dict(code="99214", charge="185", paid="120", cas=[("CO", "45", "65")]),
                        dict(code="36415", charge="18", paid="18"),
                    ],
                )
            ],
            plb=[("WO", "OVERPAY123", "25.00"), ("72", "ADV9", "-10.00"), ("L6", "INT1", "-1.25")],
        ),
    )
    assert result.applied, result.file.error
    remittance = Remittance.objects.get()
    assert remittance.payment_amount == D("126.75")  # 140.50 - (25 - 10 - 1.25)
    assert (remittance.interest, remittance.provider_adjustment_total) == (D("2.50"), D("13.75"))
    assert list(
        ProviderAdjustment.objects.order_by("id").values_list("reason_code", "reference", "amount")
    ) == [("WO", "OVERPAY123", D("25.00")), ("72", "ADV9", D("-10.00")), ("L6", "INT1", D("-1.25"))]
    claim.refresh_from_db()
    assert claim.insurance_paid == D(
        "138.00"
    )  # interest is recorded on the remittance, not against the charges
    assert claim.remittance_claims.get().interest == D("2.50")
    assert remittance.exception_count == 0


def test_secondary_billing_and_payment_with_prior_payer_impact(billing, biller):
    from claims.edi.validation import validate_x12
    from claims.services import claim_bill_secondary
    from claims.submission.batches import claims_submit

    CoverageFactory(
        practice=billing.practice,
        patient=billing.patient,
        payer=billing.medicare,
        priority=2,
        member_id="1EG4TE5MK73",
        effective_date=datetime.date(2025, 1, 1),
    )
    claim = submitted(billing)
    post(
        billing,
        era(
            trace="EFT1",
            claims=[
                dict(
                    pcn=claim.patient_control_number,
                    charge="203",
                    paid="108",
                    pr="30",
                    services=[
                        dict(
                            code="99214", charge="185", paid="90", cas=[("CO", "45", "65"), ("PR", "2", "30")]
                        ),
                        dict(code="36415", charge="18", paid="18"),
                    ],
                )
            ],
        ),
    )
    claim.refresh_from_db()
    assert (claim.status, claim.secondary_pending, claim.patient_balance) == (
        ClaimStatus.FORWARDED,
        True,
        D("30.00"),
    )
    # The biller sends the rest to Medicare: the coinsurance waits on the insurance side for it.
    claim = claim_bill_secondary(claim=claim, user=biller)
    assert (claim.status, claim.payer, claim.insurance_balance, claim.patient_balance) == (
        ClaimStatus.READY,
        billing.medicare,
        D("30.00"),
        D("0.00"),
    )
    (batch,) = claims_submit(practice=billing.practice, user=biller).batches
    assert validate_x12(batch.content) == (True, [])
    assert "CAS*PR*2*30" in batch.content and "SBR*S*18" in batch.content
    result = post(
        billing,
        era(
            trace="MCR77",
            payer_name="MEDICARE PART B",
            payer_id="00952",
            payer_tin="1999999999",
            control="000000102",
            claims=[
                dict(
                    pcn=claim.patient_control_number,
                    status="2",
                    charge="203",
                    paid="24",
                    services=[
                        dict(
                            code="99214", charge="185", paid="24", cas=[("OA", "23", "155"), ("PR", "2", "6")]
                        ),
                        dict(code="36415", charge="18", paid="0", cas=[("OA", "23", "18")]),
                    ],
                )
            ],
        ),
    )
    assert result.applied, result.file.error
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.PAID
    # OA-23 is the primary's share: already posted here, so nothing more is adjusted for it.
    assert Transaction.objects.filter(claim=claim, reason_code="23").count() == 0
    assert (claim.insurance_paid, claim.insurance_balance, claim.patient_balance) == (
        D("132.00"),
        D("0.00"),
        D("6.00"),
    )
    assert ledger_check(practice=billing.practice) == []


def test_secondary_remit_without_the_primary_here_adjusts_the_prior_payer_share(billing):
    claim = submitted(billing)
    post(
        billing,
        era(
            claims=[
                dict(
                    pcn=claim.patient_control_number,
                    status="2",
                    charge="203",
                    paid="24",
                    services=[
                        dict(
                            code="99214", charge="185", paid="24", cas=[("OA", "23", "155"), ("PR", "2", "6")]
                        ),
                        dict(code="36415", charge="18", paid="0", cas=[("OA", "23", "18")]),
                    ],
                )
            ]
        ),
    )
    claim.refresh_from_db()
    assert ledger(claim) == [
        ("36415", "other_adjustment", D("18.00"), "OA", "23", ""),
        ("99214", "insurance_payment", D("24.00"), "", "", ""),
        ("99214", "other_adjustment", D("155.00"), "OA", "23", ""),
        ("99214", "transfer_to_patient", D("6.00"), "PR", "2", "coinsurance"),
    ]
    assert (claim.insurance_balance, claim.patient_balance, claim.status) == (
        D("0.00"),
        D("6.00"),
        ClaimStatus.PAID,
    )


def test_several_transaction_sets_in_one_file(billing):
    first, second = (
        submitted(billing),
        submitted(
            billing, lines=[LineInput(procedure_code="99213", charge=D("140.00"), service_date_from=DOS)]
        ),
    )
    text = interchange(
        transaction_set(st="0001", trace="EFT1", claims=[_paid_era(first)]),
        transaction_set(
            st="0002",
            trace="EFT2",
            claims=[
                dict(
                    pcn=second.patient_control_number,
                    charge="140",
                    paid="100",
                    services=[dict(code="99213", charge="140", paid="100", cas=[("CO", "45", "40")])],
                )
            ],
        ),
    )
    result = post(billing, text)
    assert result.applied and result.file.outcome == {"remittances": 2, "claims_posted": 2, "exceptions": 0}
    assert sorted(Remittance.objects.values_list("trace_number", flat=True)) == ["EFT1", "EFT2"]


def test_payer_dropped_the_modifier(billing):
    claim = submitted(
        billing,
        lines=[
            LineInput(procedure_code="99214", charge=D("185.00"), service_date_from=DOS, modifiers=["25"])
        ],
    )
    post(
        billing,
        era(
            claims=[
                dict(
                    pcn=claim.patient_control_number,
                    charge="185",
                    paid="120",
                    services=[dict(code="99214", charge="185", paid="120", cas=[("CO", "45", "65")])],
                )
            ]
        ),
    )
    line = RemittanceLine.objects.get()
    assert line.claim_line == claim.lines.get()
    assert line.match_reason == (
        "procedure and date of service; the payer changed the modifiers (99214-25 billed, 99214 paid)"
    )
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.PAID


def test_underpayment_against_the_contract(billing):
    FeeScheduleRow.objects.create(
        practice=billing.practice,
        contract=billing.contract,
        procedure_code="99214",
        allowed_amount=D("130.00"),
    )
    claim = submitted(billing)
    post(billing, era(claims=[_paid_era(claim, paid="110")]))
    claim.refresh_from_db()
    assert claim.underpaid_amount == D("20.00")
    line = RemittanceLine.objects.get(procedure_code="99214")
    assert (line.allowed, line.expected_allowed) == (D("110.00"), D("130.00"))


def test_exceptions_are_listed_and_nothing_of_them_is_posted(billing):
    claim = submitted(billing)
    other = submitted(
        billing, lines=[LineInput(procedure_code="99213", charge=D("140.00"), service_date_from=DOS)]
    )
    unbalanced = dict(
        pcn=claim.patient_control_number,
        charge="203",
        paid="150",
        services=[
            dict(code="99214", charge="185", paid="132", cas=[("CO", "45", "50")]),
            dict(code="36415", charge="18", paid="18"),
        ],
    )
    unknown = dict(
        pcn="NOSUCHCLAIM", charge="50", paid="50", services=[dict(code="99212", charge="50", paid="50")]
    )
    reversal = dict(
        pcn=other.patient_control_number,
        status="22",
        charge="-140",
        paid="-100",
        services=[dict(code="99213", charge="-140", paid="-100", cas=[("CO", "45", "-40")])],
    )
    result = post(billing, era(claims=[unbalanced, unknown, reversal]))
    assert result.applied and result.file.outcome == {"remittances": 1, "claims_posted": 0, "exceptions": 3}
    kinds = dict(RemittanceException.objects.values_list("kind", "message"))
    assert kinds["unbalanced"].startswith(f"Claim {claim.patient_control_number}: line 99214 (segment ")
    assert (
        kinds["unmatched"]
        == "No claim NOSUCHCLAIM in this practice (payer claim number PCNNOSUCHCLAIM, charge $50.00)."
    )
    assert kinds["reversal_without_original"] == (
        f"Claim {other.patient_control_number}: the payer reverses a payment that was never posted here."
    )
    assert Transaction.objects.exclude(kind="charge").count() == 0
    assert Remittance.objects.get().status == "exceptions"


def test_a_second_payment_of_the_same_claim_is_a_duplicate(billing):
    claim = submitted(billing)
    post(billing, era(trace="EFT1", claims=[_paid_era(claim)]))
    result = post(billing, era(trace="EFT2", control="000000102", claims=[_paid_era(claim)]))
    assert result.file.outcome["exceptions"] == 1
    assert RemittanceException.objects.get().kind == "duplicate"
    claim.refresh_from_db()
    assert claim.insurance_paid == D("138.00")


def test_the_same_file_or_the_same_trace_posts_once(billing):
    claim = submitted(billing)
    text = era(trace="EFT1", claims=[_paid_era(claim)])
    assert post(billing, text).applied
    again = post(billing, text, "copy.835")
    assert again.duplicate
    renamed = post(billing, text.replace("LX*1", "LX*1 ").replace("\n", "\r\n"), "reformatted.835")
    assert not renamed.applied
    assert renamed.file.error.startswith("Payment EFT1 from ACME HEALTH was already posted from era.835 on ")
    assert renamed.file.error.endswith("; it is not posted twice.")
    assert Remittance.objects.count() == 1
    claim.refresh_from_db()
    assert claim.insurance_paid == D("138.00")


def test_a_file_holding_the_same_payment_trace_twice_is_refused_with_that_reason(billing):
    from claims.models import Transaction, X12File

    first, second = submitted(billing), submitted(billing)
    text = interchange(
        transaction_set(st="0001", trace="EFT5", claims=[_paid_era(first)]),
        transaction_set(st="0002", trace="EFT5", claims=[_paid_era(second)]),
    )
    result = post(billing, text, "twice.835")
    assert not result.applied
    assert result.file.error == (
        "This file holds payment EFT5 from ACME HEALTH twice (the same payment trace number, TRN02): "
        "a payment is posted once, so the file is refused."
    )
    assert result.message == f"twice.835 was refused: {result.file.error} Nothing was changed."
    assert "already posted from" not in result.file.error
    assert (Remittance.objects.count(), Transaction.objects.filter(kind="insurance_payment").count()) == (
        0,
        0,
    )
    assert list(X12File.objects.values_list("file_name", "status")) == [("twice.835", "refused")]


def test_an_unmatched_payment_is_matched_by_hand_and_posted(billing, biller):
    claim = submitted(billing)
    wrong = _paid_era(claim)
    wrong["pcn"] = "TYPO" + claim.patient_control_number
    post(billing, era(claims=[wrong]))
    exception = RemittanceException.objects.get()
    assert exception.kind == "unmatched"
    exception_resolve(
        exception=exception, action="post", claim=claim, user=biller, note="PCN typo at the payer"
    )
    exception.refresh_from_db()
    claim.refresh_from_db()
    assert (exception.status, exception.resolved_by, exception.resolution_note) == (
        ExceptionStatus.POSTED,
        biller,
        "PCN typo at the payer",
    )
    assert (claim.status, claim.insurance_paid) == (ClaimStatus.PAID, D("138.00"))
    remittance = Remittance.objects.get()
    assert (remittance.posted_payments, remittance.status, remittance.exception_count) == (
        D("138.00"),
        "posted",
        1,
    )
    assert ledger_check(practice=billing.practice) == []


def test_an_exception_is_dismissed_only_with_a_reason(billing, biller):
    from django.core.exceptions import ValidationError

    post(
        billing,
        era(
            claims=[
                dict(
                    pcn="NOPE", charge="10", paid="10", services=[dict(code="99211", charge="10", paid="10")]
                )
            ]
        ),
    )
    exception = RemittanceException.objects.get()
    with pytest.raises(ValidationError, match="Say why"):
        exception_resolve(exception=exception, action="dismiss", user=biller, note=" ")
    exception_resolve(
        exception=exception, action="dismiss", user=biller, note="not our patient; payer notified"
    )
    exception.refresh_from_db()
    assert exception.status == ExceptionStatus.DISMISSED


def _swap_lines(text, first, second):
    lines = text.split("\n")
    i = next(n for n, line in enumerate(lines) if line.startswith(first))
    j = next(n for n, line in enumerate(lines) if line.startswith(second))
    lines[i], lines[j] = lines[j], lines[i]
    return "\n".join(lines)


BAD = [
    ("truncated", lambda text: text[: text.index("SE*")], "The file is truncated"),
    (
        "bad ISA",
        lambda text: text.replace("ISA*00*          *", "ISA*00*        *", 1),
        "The ISA segment is malformed",
    ),
    (
        "not a number",
        lambda text: text.replace("SVC*HC:99214*185.00*120.00", "SVC*HC:99214*185.00*12O.00"),
        "(SVC): SVC03 '12O.00' is not an amount.",
    ),
    (
        "out of order",
        lambda text: _swap_lines(text, "BPR*", "TRN*"),
        "Segment 4 (TRN): the 835 must start with BPR after ST.",
    ),
    (
        "another practice",
        lambda text: text.replace("*XX*1245319599", "*XX*1999999992").replace(
            "REF*TJ*371234567", "REF*TJ*999999999"
        ),
        "This 835 pays RIVERSIDE FAMILY MEDICINE (NPI 1999999992), not Riverside Family Medicine",
    ),
]


@pytest.mark.parametrize(("label", "mutate", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_835_files_are_refused_whole_and_kept(billing, label, mutate, message):
    claim = submitted(billing)
    result = post(billing, mutate(era(claims=[_paid_era(claim)])), f"{label}.835")
    assert not result.applied
    assert message in result.file.error
    assert result.file.status == "refused" and result.file.content
    assert Transaction.objects.exclude(kind="charge").count() == 0
    assert Remittance.objects.count() == 0


def test_a_failure_halfway_rolls_the_whole_file_back(billing, monkeypatch):
    first = submitted(billing)
    second = submitted(
        billing, lines=[LineInput(procedure_code="99213", charge=D("140.00"), service_date_from=DOS)]
    )
    text = interchange(
        transaction_set(st="0001", trace="EFT1", claims=[_paid_era(first)]),
        transaction_set(
            st="0002",
            trace="EFT2",
            claims=[dict(pcn=second.patient_control_number, charge="140", paid="100", services=[])],
        ),
    ).replace(
        f"CLP*{second.patient_control_number}*1*140.00*100.00",
        f"CLP*{second.patient_control_number}*1*140.00*1X0",
    )
    result = post(billing, text)
    assert not result.applied and "CLP04 '1X0' is not an amount" in result.file.error
    assert Remittance.objects.count() == 0
    assert Transaction.objects.exclude(kind="charge").count() == 0


def test_a_large_file_is_posted_at_once_and_checked_by_pyx12_in_the_background(billing, settings):
    from claims.tasks import validate_x12_file
    from rcm.models import OutboxTask

    settings.RCM_INLINE_VALIDATION_CHARS = 100
    claim = submitted(billing)
    result = post(billing, era(claims=[_paid_era(claim)]))
    assert result.applied and result.file.validated_at is None and result.validation_queued
    assert list(OutboxTask.objects.values_list("task", "args")) == [
        ("claims.validate_x12_file", [result.file.pk])
    ]
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.PAID
    validate_x12_file.apply(args=[result.file.pk])
    result.file.refresh_from_db()
    assert result.file.validated_at is not None
    assert isinstance(result.file.validation_findings, list)


def test_the_payee_picks_the_practice_among_those_the_user_may_post_for(billing, other_practice):
    from claims.models import X12File

    other_practice.npi = "1999999992"
    other_practice.save()
    claim = submitted(billing)
    # Imported while working in the other practice: the payee (Riverside's group NPI) decides.
    result = x12_import(
        practice=other_practice,
        file_name="era.835",
        content=era(claims=[_paid_era(claim)]),
        candidates=[other_practice, billing.practice],
    )
    assert result.applied and result.file.practice_id == billing.practice.pk
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.PAID
    refused = x12_import(
        practice=other_practice,
        file_name="theirs.835",
        content=era(trace="EFT9", claims=[_paid_era(claim)], control="000000109"),
        candidates=[other_practice],
    )
    assert refused.file.error == (
        "This 835 pays a payee that is none of the practices you may post for; nothing was posted."
    )
    assert X12File.objects.filter(practice=other_practice, status="refused").count() == 1
