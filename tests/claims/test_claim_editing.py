import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from claims.ledger import ledger_check
from claims.models import ClaimStatus, ScrubStatus, Transaction
from claims.scrubber.engine import claims_scrub
from claims.services import LineInput, claim_update
from claims.state_machine import claim_transition
from tests.claims.conftest import DOS


def edit(billing, claim, lines, **kwargs):
    values = dict(
        coverage=billing.coverage,
        billing_provider=billing.group,
        rendering_provider=billing.doctor,
        diagnosis_codes=["E11.9", "I10"],
        lines=lines,
    )
    values.update(kwargs)
    return claim_update(claim=claim, **values)


def test_editing_reverses_and_reposts_changed_charges_removes_and_adds_lines(billing, biller):
    claim = billing.claim(
        lines=[
            LineInput(procedure_code="99214", charge=Decimal("185.00"), service_date_from=DOS),
            LineInput(procedure_code="36415", charge=Decimal("18.00"), service_date_from=DOS),
        ]
    )
    updated = edit(
        billing,
        claim,
        user=biller,
        lines=[
            LineInput(procedure_code="99213", charge=Decimal("140.00"), service_date_from=DOS),
            LineInput(procedure_code="85025", charge=Decimal("42.00"), service_date_from=DOS),
        ],
    )
    lines = list(
        updated.lines.order_by("line_number").values_list(
            "line_number", "procedure_code", "charge", "removed", "insurance_balance"
        )
    )
    assert lines == [
        (1, "99213", Decimal("140.00"), False, Decimal("140.00")),
        (2, "85025", Decimal("42.00"), False, Decimal("42.00")),
    ]
    assert updated.charge_total == Decimal("182.00")
    assert Transaction.objects.filter(claim=claim, kind="reversal").count() == 2  # 185 reversed, 18 reversed
    assert ledger_check(claim_ids=[claim.pk]) == []


def test_removing_a_line_keeps_it_with_its_charge_reversed(billing):
    claim = billing.claim(
        lines=[
            LineInput(procedure_code="99214", charge=Decimal("185.00"), service_date_from=DOS),
            LineInput(procedure_code="36415", charge=Decimal("18.00"), service_date_from=DOS),
        ]
    )
    updated = edit(
        billing,
        claim,
        lines=[LineInput(procedure_code="99214", charge=Decimal("185.00"), service_date_from=DOS)],
    )
    assert list(
        updated.lines.order_by("line_number").values_list("line_number", "removed", "charge_total")
    ) == [(1, False, Decimal("185.00")), (2, True, Decimal("0.00"))]
    assert updated.charge_total == Decimal("185.00")
    added = edit(
        billing,
        updated,
        lines=[
            LineInput(procedure_code="99214", charge=Decimal("185.00"), service_date_from=DOS),
            LineInput(procedure_code="81002", charge=Decimal("12.00"), service_date_from=DOS),
        ],
    )
    assert list(added.lines.filter(removed=False).values_list("line_number", "line_control_number")) == [
        (1, f"{claim.patient_control_number}-1"),
        (3, f"{claim.patient_control_number}-3"),
    ]


def test_edit_after_scrub_errors_is_flagged_and_ready_goes_back_to_draft(billing, biller):
    claim = billing.claim(
        lines=[LineInput(procedure_code="36415", charge=Decimal("54.00"), service_date_from=DOS, units=3)]
    )
    claims_scrub(queryset=type(claim).objects.filter(pk=claim.pk), today=datetime.date(2026, 3, 20))
    claim.refresh_from_db()
    assert claim.scrub_status == ScrubStatus.ERRORS
    fixed = edit(
        billing,
        claim,
        lines=[LineInput(procedure_code="36415", charge=Decimal("18.00"), service_date_from=DOS)],
    )
    assert (fixed.edited_after_scrub, fixed.scrub_status, fixed.status) == (True, "", ClaimStatus.DRAFT)
    clean = billing.claim(
        lines=[LineInput(procedure_code="99213", charge=Decimal("140.00"), service_date_from=DOS)]
    )
    claim_transition(claim=clean, to_status="ready")
    edited = edit(
        billing,
        clean,
        lines=[LineInput(procedure_code="99213", charge=Decimal("150.00"), service_date_from=DOS)],
    )
    assert (edited.status, edited.edited_after_scrub) == (ClaimStatus.DRAFT, False)


def test_rejected_claim_becomes_corrected_when_edited(billing):
    claim = billing.claim()
    for status in ("ready", "submitted", "rejected"):
        claim_transition(claim=claim, to_status=status)
    claim.refresh_from_db()
    edited = edit(
        billing,
        claim,
        lines=[LineInput(procedure_code="99214", charge=Decimal("185.00"), service_date_from=DOS)],
        prior_authorization="X1",
    )
    assert edited.status == ClaimStatus.CORRECTED
    assert edited.prior_authorization == "X1"


def test_adjudicated_claims_cannot_be_edited(billing):
    claim = billing.claim()
    for status in ("ready", "submitted", "paid"):
        claim_transition(claim=claim, to_status=status)
    claim.refresh_from_db()
    with pytest.raises(
        ValidationError, match="only drafts, ready, rejected and corrected claims can be edited"
    ):
        edit(
            billing,
            claim,
            lines=[LineInput(procedure_code="99213", charge=Decimal("1.00"), service_date_from=DOS)],
        )


def test_invalid_edit_changes_nothing(billing):
    claim = billing.claim()
    before = list(Transaction.objects.values_list("pk", flat=True))
    with pytest.raises(ValidationError) as caught:
        edit(
            billing,
            claim,
            lines=[LineInput(procedure_code="99214", charge=Decimal("0"), service_date_from=DOS)],
        )
    assert caught.value.message_dict == {
        "lines[1].charge": ["The charge must be greater than zero (got $0.00)."]
    }
    assert list(Transaction.objects.values_list("pk", flat=True)) == before
    claim.refresh_from_db()
    assert claim.charge_total == Decimal("185.00")
