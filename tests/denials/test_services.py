"""Appeals and write-offs of denials: exact status moves, history rows, ledger rows and denial statuses,
and bad input refused with nothing changed."""

import datetime
import zoneinfo
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from claims.edi.intake import x12_import
from claims.ledger import ledger_check
from claims.models import ClaimStatusChange, Transaction
from claims.scrubber.ncci import ncci_load_samples
from claims.services import LineInput
from claims.state_machine import claim_transition
from denials.models import Denial
from denials.services import AppealPayment, appeal_decide, appeal_file, denial_write_off
from tests.claims.conftest import DOS, Billing
from tests.claims.era_builder import era

D = Decimal
AT = datetime.datetime(2026, 4, 20, 10, 15, tzinfo=zoneinfo.ZoneInfo("America/New_York"))
NOTE = "CARC 50: not medically necessary; not billable to the patient"


@pytest.fixture
def billing(practice):
    ncci_load_samples()
    return Billing(practice)


def _adjudicated(billing, services, status):
    """A claim (99214 $185 + 36415 $18) posted from an 835 with ``services`` as the payer's lines."""
    claim = billing.claim(
        lines=[
            LineInput(
                procedure_code="99214", charge=D("185.00"), service_date_from=DOS, diagnosis_pointers=[1, 2]
            ),
            LineInput(procedure_code="36415", charge=D("18.00"), service_date_from=DOS),
        ]
    )
    for to_status in ("ready", "submitted", "accepted"):
        claim_transition(claim=claim, to_status=to_status)
    paid = sum(D(s["paid"]) for s in services)
    result = x12_import(
        practice=billing.practice,
        file_name="era.835",
        content=era(
            claims=[
                dict(
                    pcn=claim.patient_control_number,
                    status=status,
                    charge="203",
                    paid=paid,
                    services=services,
                )
            ]
        ),
    )
    assert result.applied, result.file.error
    claim.refresh_from_db()
    return claim


@pytest.fixture
def denied(billing):
    """Both lines denied CO-50: the claim is denied and insurance still owes $203.00."""
    return _adjudicated(
        billing,
        [
            dict(code="99214", charge="185", paid="0", cas=[("CO", "50", "185")]),
            dict(code="36415", charge="18", paid="0", cas=[("CO", "50", "18")]),
        ],
        "4",
    )


@pytest.fixture
def partly_denied(billing):
    """The visit paid ($100 allowed, $20 coinsurance), the venipuncture denied CO-97 (bundled)."""
    return _adjudicated(
        billing,
        [
            dict(code="99214", charge="185", paid="80", cas=[("CO", "45", "85"), ("PR", "2", "20")]),
            dict(code="36415", charge="18", paid="0", cas=[("CO", "97", "18")]),
        ],
        "1",
    )


def _history(claim):
    return list(
        ClaimStatusChange.objects.filter(claim=claim, at=AT).values_list(
            "from_status", "to_status", "by__username", "reason"
        )
    )


def _ledger(claim):
    return [
        (
            t.line.procedure_code,
            t.kind,
            t.amount,
            t.source,
            t.source_reference,
            t.group_code,
            t.reason_code,
            t.responsibility,
            t.note,
        )
        for t in Transaction.objects.filter(claim=claim, posted_at=AT).select_related("line").order_by("pk")
    ]


def _denials(claim):
    return sorted(
        Denial.objects.filter(claim=claim).values_list("line__procedure_code", "reason_code", "status")
    )


def _snapshot(claim):
    claim.refresh_from_db()
    return (
        claim.status,
        claim.insurance_balance,
        ClaimStatusChange.objects.filter(claim=claim).count(),
        Transaction.objects.filter(claim=claim).count(),
        _denials(claim),
    )


# --- appeal_file ---------------------------------------------------------------------------------------


def test_filing_an_appeal_moves_the_claim_and_its_open_denials_to_appealed(denied, biller):
    claim = appeal_file(
        claim=denied, user=biller, at=AT, note="First-level appeal sent with the office notes"
    )

    assert claim.status == "appealed"
    assert _history(claim) == [
        ("denied", "appealed", "bill", "First-level appeal sent with the office notes")
    ]
    assert _denials(claim) == [("36415", "50", "appealed"), ("99214", "50", "appealed")]
    assert _ledger(claim) == []


def test_a_partially_paid_claim_can_be_appealed_with_the_default_reason(partly_denied, biller):
    appeal_file(claim=partly_denied, user=biller, at=AT)

    assert _history(partly_denied) == [("partially_paid", "appealed", "bill", "Appeal filed")]
    assert _denials(partly_denied) == [("36415", "97", "appealed")]


def test_an_appeal_of_a_claim_that_is_not_denied_is_refused_and_changes_nothing(billing, biller):
    claim = billing.claim()
    before = _snapshot(claim)
    with pytest.raises(
        ValidationError, match="is draft: only a denied or partially paid claim can be appealed"
    ):
        appeal_file(claim=claim, user=biller, at=AT)
    assert _snapshot(claim) == before


# --- appeal_decide ---------------------------------------------------------------------------------------


def test_an_overturned_appeal_posts_the_letter_and_pays_the_claim(denied, biller):
    appeal_file(claim=denied, user=biller, at=AT - datetime.timedelta(days=30))
    lines = {line.procedure_code: line for line in denied.lines.all()}
    claim = appeal_decide(
        claim=denied,
        outcome="overturned",
        payments=[
            AppealPayment(
                line=lines["99214"],
                allowed=D("110.00"),
                paid=D("68.00"),
                patient_shares=[("copay", "3", D("25.00")), ("coinsurance", "2", D("17.00"))],
            ),
            AppealPayment(line=lines["36415"], allowed=D("18.00"), paid=D("18.00")),
        ],
        user=biller,
        at=AT,
    )

    reference = f"APPEAL-{claim.patient_control_number}"
    assert claim.status == "paid"
    assert claim.insurance_balance == D("0.00")
    assert claim.patient_balance == D("42.00")
    assert _history(claim) == [
        ("appealed", "paid", "bill", "Appeal overturned: paid per the payer's decision letter")
    ]
    assert _ledger(claim) == [
        ("99214", "insurance_payment", D("68.00"), "remittance", reference, "", "", "", "appeal overturned"),
        ("99214", "contractual_adjustment", D("75.00"), "remittance", reference, "CO", "45", "", ""),
        ("99214", "transfer_to_patient", D("25.00"), "remittance", reference, "PR", "3", "copay", ""),
        ("99214", "transfer_to_patient", D("17.00"), "remittance", reference, "PR", "2", "coinsurance", ""),
        ("36415", "insurance_payment", D("18.00"), "remittance", reference, "", "", "", "appeal overturned"),
    ]
    assert all(t.payer_id == claim.payer_id for t in Transaction.objects.filter(claim=claim, posted_at=AT))
    assert _denials(claim) == [("36415", "50", "overturned"), ("99214", "50", "overturned")]
    assert ledger_check(claim_ids=[claim.pk]) == []


def test_an_overturned_appeal_that_leaves_a_line_owed_is_partially_paid(denied, biller):
    appeal_file(claim=denied, user=biller, at=AT - datetime.timedelta(days=30))
    visit = denied.lines.get(procedure_code="99214")

    claim = appeal_decide(
        claim=denied,
        outcome="overturned",
        payments=[AppealPayment(line=visit, allowed=D("110.00"), paid=D("110.00"))],
        user=biller,
        at=AT,
    )

    assert (claim.status, claim.insurance_balance) == ("partially_paid", D("18.00"))


def test_an_upheld_appeal_sends_the_claim_back_to_denied_with_its_denials_upheld(denied, biller):
    appeal_file(claim=denied, user=biller, at=AT - datetime.timedelta(days=30))

    claim = appeal_decide(claim=denied, outcome="upheld", user=biller, at=AT)

    assert claim.status == "denied"
    assert _history(claim) == [("appealed", "denied", "bill", "Appeal upheld by the payer")]
    assert _ledger(claim) == []
    assert _denials(claim) == [("36415", "50", "upheld"), ("99214", "50", "upheld")]


@pytest.mark.parametrize(
    ("outcome", "payments", "message"),
    [
        ("won", "none", "Unknown appeal outcome 'won'"),
        ("overturned", "none", "An overturned appeal needs the payer's payment"),
        ("upheld", "visit", "An upheld appeal pays nothing"),
        ("overturned", "too much", "must be between zero and the charge"),
        ("overturned", "not adding up", "must add up to the allowed amount"),
    ],
)
def test_a_bad_decision_is_refused_and_changes_nothing(denied, biller, outcome, payments, message):
    appeal_file(claim=denied, user=biller, at=AT - datetime.timedelta(days=30))
    visit = denied.lines.get(procedure_code="99214")
    payments = (
        {
            "visit": [AppealPayment(line=visit, allowed=D("100.00"), paid=D("100.00"))],
            "too much": [AppealPayment(line=visit, allowed=D("190.00"), paid=D("190.00"))],
            "not adding up": [
                AppealPayment(
                    line=visit,
                    allowed=D("100.00"),
                    paid=D("70.00"),
                    patient_shares=[("copay", "3", D("20.00"))],
                )
            ],
        }.get(payments, [])
        if isinstance(payments, str)
        else payments
    )
    before = _snapshot(denied)

    with pytest.raises(ValidationError, match=message):
        appeal_decide(claim=denied, outcome=outcome, payments=payments, user=biller, at=AT)

    assert _snapshot(denied) == before


def test_a_decision_on_a_claim_not_appealed_is_refused_and_changes_nothing(denied, biller):
    before = _snapshot(denied)
    with pytest.raises(ValidationError, match="is denied: only an appealed claim has an appeal to decide"):
        appeal_decide(claim=denied, outcome="upheld", user=biller, at=AT)
    assert _snapshot(denied) == before


# --- denial_write_off ----------------------------------------------------------------------------------


def test_writing_off_a_denied_claim_clears_what_insurance_owes(denied, biller):
    claim = denial_write_off(claim=denied, reason=NOTE, user=biller, at=AT)

    assert (claim.status, claim.insurance_balance, claim.patient_balance) == (
        "written_off",
        D("0.00"),
        D("0.00"),
    )
    assert _history(claim) == [("denied", "written_off", "bill", "Written off: CARC 50")]
    assert _ledger(claim) == [
        ("99214", "write_off", D("185.00"), "user", "", "CO", "50", "", NOTE),
        ("36415", "write_off", D("18.00"), "user", "", "CO", "50", "", NOTE),
    ]
    assert _denials(claim) == [("36415", "50", "written_off"), ("99214", "50", "written_off")]
    assert ledger_check(claim_ids=[claim.pk]) == []


def test_writing_off_line_denials_touches_only_the_denied_lines(partly_denied, biller):
    note = "CARC 97: bundled into the visit"
    claim = denial_write_off(claim=partly_denied, reason=note, user=biller, at=AT)

    assert (claim.status, claim.insurance_balance, claim.patient_balance) == (
        "written_off",
        D("0.00"),
        D("20.00"),
    )
    assert _history(claim) == [("partially_paid", "written_off", "bill", "Written off: CARC 97")]
    assert _ledger(claim) == [("36415", "write_off", D("18.00"), "user", "", "CO", "97", "", note)]
    assert _denials(claim) == [("36415", "97", "written_off")]


def test_an_upheld_appeal_can_then_be_written_off(denied, biller):
    appeal_file(claim=denied, user=biller, at=AT - datetime.timedelta(days=60))
    appeal_decide(claim=denied, outcome="upheld", user=biller, at=AT - datetime.timedelta(days=10))

    claim = denial_write_off(claim=denied, reason=NOTE, user=biller, at=AT)

    assert claim.status == "written_off"
    assert _denials(claim) == [("36415", "50", "written_off"), ("99214", "50", "written_off")]


def test_a_write_off_twice_is_refused_and_changes_nothing(denied, biller):
    denial_write_off(claim=denied, reason=NOTE, user=biller, at=AT)
    before = _snapshot(denied)
    with pytest.raises(ValidationError, match="is already written off"):
        denial_write_off(claim=denied, reason=NOTE, user=biller, at=AT)
    assert _snapshot(denied) == before


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_write_off_without_a_reason_is_refused_and_changes_nothing(denied, biller, reason):
    before = _snapshot(denied)
    with pytest.raises(ValidationError, match="Say why the denial is written off"):
        denial_write_off(claim=denied, reason=reason, user=biller, at=AT)
    assert _snapshot(denied) == before


def test_a_write_off_of_a_claim_without_a_denial_is_refused_and_changes_nothing(billing, biller):
    claim = billing.claim()
    for to_status in ("ready", "submitted", "denied"):
        claim_transition(claim=claim, to_status=to_status)
    before = _snapshot(claim)
    with pytest.raises(ValidationError, match="has no open denial to write off"):
        denial_write_off(claim=claim, reason=NOTE, user=biller, at=AT)
    assert _snapshot(claim) == before


def test_a_write_off_of_a_paid_claim_is_refused_and_changes_nothing(billing, biller):
    claim = billing.claim()
    for to_status in ("ready", "submitted", "paid"):
        claim_transition(claim=claim, to_status=to_status)
    before = _snapshot(claim)
    with pytest.raises(ValidationError, match="is paid: it cannot be written off"):
        denial_write_off(claim=claim, reason=NOTE, user=biller, at=AT)
    assert _snapshot(claim) == before
