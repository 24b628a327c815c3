"""Bad input to charge entry: refused with a message naming the field and the reason; nothing saved."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from claims.ledger import ledger_check
from claims.models import Claim, ClaimLine, ClaimStatus, Transaction
from claims.services import ClaimDraft, LineInput, claim_create, claims_create_many
from rcm.audit import audit_context
from rcm.models import AuditEvent, NumberSequence
from tests.rcm.factories import CoverageFactory, PatientFactory, ProviderFactory

DOS = datetime.date(2026, 3, 2)


def line(**overrides):
    values = {"procedure_code": "99213", "charge": Decimal("150.00"), "service_date_from": DOS}
    values.update(overrides)
    return LineInput(**values)


@pytest.fixture
def setup(practice):
    coverage = CoverageFactory(practice=practice)
    return {
        "practice": practice,
        "patient": coverage.patient,
        "coverage": coverage,
        "billing_provider": ProviderFactory(practice=practice),
    }


def counts():
    return (
        Claim.objects.count(),
        ClaimLine.objects.count(),
        Transaction.objects.count(),
        NumberSequence.objects.filter(name="claim").count(),
    )


CASES = [
    ({"diagnosis_codes": ["XYZ.1"]}, "diagnosis_codes", "'XYZ.1' is not an ICD-10-CM code."),
    (
        {"diagnosis_codes": ["E11"]},
        "diagnosis_codes",
        "E11 (Type 2 diabetes mellitus) is a header code, not billable",
    ),
    ({"diagnosis_codes": []}, "diagnosis_codes", "A claim needs at least one diagnosis code."),
    (
        {"diagnosis_codes": ["I10"] * 13},
        "diagnosis_codes",
        "A claim has at most 12 diagnosis codes; 13 given.",
    ),
    ({"diagnosis_codes": ["I10", "I10"]}, "diagnosis_codes", "A diagnosis code is listed twice."),
    (
        {"lines": [line(diagnosis_pointers=[3])]},
        "lines[1].diagnosis_pointers",
        "Pointer 3 does not point at a diagnosis: the claim has 2.",
    ),
    (
        {"lines": [line(charge=Decimal("0"))]},
        "lines[1].charge",
        "The charge must be greater than zero (got $0.00).",
    ),
    (
        {"lines": [line(charge=Decimal("-5.00"))]},
        "lines[1].charge",
        "The charge must be greater than zero (got -$5.00).",
    ),
    ({"lines": [line(charge="ten dollars")]}, "lines[1].charge", "'ten dollars' is not a number."),
    ({"lines": [line(units=0)]}, "lines[1].units", "Units must be at least 1 (got 0)."),
    # Sane maxima (issue #16): two lines of 5,000,000,000.00 overflowed the claim total (a 500).
    (
        {"lines": [line(charge=Decimal("5000000000.00")), line(charge=Decimal("5000000000.00"))]},
        "lines[1].charge",
        "A line's charge must be at most $999,999.99 (got $5,000,000,000.00).",
    ),
    (
        {"lines": [line(charge=Decimal("999999.99"))] * 11},
        "lines",
        "A claim's charges add up to at most $9,999,999.99 (these: $10,999,999.89).",
    ),
    ({"lines": [line(charge="NaN")]}, "lines[1].charge", "'NaN' is not a number."),
    ({"lines": [line(charge="Infinity")]}, "lines[1].charge", "'Infinity' is not a number."),
    ({"lines": [line(units=10000)]}, "lines[1].units", "Units must be at most 9999 (got 10000)."),
    (
        {"lines": [line(units=Decimal("1.0001"))]},
        "lines[1].units",
        "Units have at most 3 decimal places (got 1.0001).",
    ),
    (
        {"lines": [line(modifiers=["25", "59", "RT", "LT", "76"])]},
        "lines[1].modifiers",
        "A line has at most 4 modifiers; 5 given.",
    ),
    (
        {"lines": [line(modifiers=["2!"])]},
        "lines[1].modifiers",
        "Modifier '2!' must be two letters or digits.",
    ),
    (
        {"lines": [line(procedure_code="9921")]},
        "lines[1].procedure_code",
        "Procedure code '9921' is not a CPT",
    ),
    (
        {"lines": [line(service_date_from=datetime.date(2099, 1, 1))]},
        "lines[1].service_date_from",
        "The date of service 2099-01-01 is in the future.",
    ),
    ({"lines": []}, "lines", "A claim needs at least one service line."),
    ({"place_of_service": "1"}, "place_of_service", "Place of service '1' must be a two-digit CMS code"),
    ({"frequency_code": "7"}, "original_claim", "A corrected or void claim must name the claim it replaces."),
]


@pytest.mark.parametrize(("overrides", "field", "message"), CASES)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_saved(setup, overrides, field, message):
    kwargs = {**setup, "diagnosis_codes": ["E11.9", "I10"], "lines": [line()], **overrides}
    before = counts()
    with pytest.raises(ValidationError) as caught:
        claim_create(**kwargs)
    errors = caught.value.message_dict
    assert field in errors, errors
    assert errors[field][0].startswith(message), errors[field][0]
    assert counts() == before


def test_coverage_of_another_patient_is_refused(setup, practice):
    other = CoverageFactory(practice=practice)
    with pytest.raises(ValidationError) as caught:
        claim_create(
            **{
                **setup,
                "coverage": other,
                "diagnosis_codes": ["I10"],
                "lines": [line(diagnosis_pointers=[1])],
            }
        )
    assert caught.value.message_dict == {"coverage": ["The coverage belongs to another patient."]}
    assert Claim.objects.count() == 0


def test_references_from_another_practice_are_refused(setup, other_practice):
    foreign_coverage = CoverageFactory(practice=other_practice)
    foreign_patient = PatientFactory(practice=other_practice)
    foreign_provider = ProviderFactory(practice=other_practice)
    with pytest.raises(ValidationError) as caught:
        claim_create(
            **{
                **setup,
                "coverage": foreign_coverage,
                "diagnosis_codes": ["I10"],
                "lines": [line(diagnosis_pointers=[1])],
            }
        )
    assert caught.value.message_dict["coverage"] == ["The coverage belongs to another practice."]
    with pytest.raises(ValidationError) as caught:
        claim_create(
            **{
                **setup,
                "patient": foreign_patient,
                "rendering_provider": foreign_provider,
                "diagnosis_codes": ["I10"],
                "lines": [line(diagnosis_pointers=[1])],
            }
        )
    assert caught.value.message_dict["patient"] == ["The patient belongs to another practice."]
    assert caught.value.message_dict["rendering_provider"] == ["The provider belongs to another practice."]
    assert Claim.objects.count() == 0


def test_codes_are_normalised(setup):
    claim = claim_create(
        **{
            **setup,
            "diagnosis_codes": ["e119", " I10 "],
            "lines": [line(procedure_code="j1100", modifiers=["rt"])],
        }
    )
    assert claim.diagnosis_codes == ["E11.9", "I10"]
    only = claim.lines.get()
    assert (only.procedure_code, only.modifiers) == ("J1100", ["RT"])


# --- batch charge entry (claims_create_many) ---------------------------------------------------


def _draft(setup, **overrides):
    values = {
        "patient": setup["patient"],
        "coverage": setup["coverage"],
        "billing_provider": setup["billing_provider"],
        "diagnosis_codes": ["E11.9", "I10"],
        "lines": [line()],
        **overrides,
    }
    return ClaimDraft(**values)


def test_a_batch_with_one_bad_claim_saves_nothing_and_names_the_claim_and_field(setup):
    drafts = [
        _draft(setup),
        _draft(setup, lines=[line(), line(units=0)]),
        _draft(setup, diagnosis_codes=["E11"]),
    ]
    before = counts()
    with pytest.raises(ValidationError) as caught:
        claims_create_many(practice=setup["practice"], drafts=drafts)
    errors = caught.value.message_dict
    assert sorted(errors) == ["claims[2].lines[2].units", "claims[3].diagnosis_codes"]
    assert errors["claims[2].lines[2].units"] == ["Units must be at least 1 (got 0)."]
    assert counts() == before


def test_a_batch_is_entered_like_claim_by_claim_entry(setup, practice, biller):
    user = biller
    created_at = datetime.datetime(2026, 3, 3, 17, 0, tzinfo=datetime.UTC)
    self_pay = PatientFactory(practice=practice)
    drafts = [
        _draft(setup, lines=[line(), line(procedure_code="36415", charge="12.50", diagnosis_pointers=[2])]),
        _draft(setup, patient=self_pay, coverage=None, prior_authorization=" PA1 "),
    ]
    with audit_context(user=user, source="test"):
        made = claims_create_many(practice=practice, drafts=drafts, user=user, created_at=created_at)
    (first, first_lines), (second, second_lines) = made
    prefix = f"{practice.pk:03d}"
    assert [first.patient_control_number, second.patient_control_number] == [
        f"{prefix}000000001",
        f"{prefix}000000002",
    ]
    assert [line.line_control_number for line in first_lines] == [
        f"{prefix}000000001-1",
        f"{prefix}000000001-2",
    ]
    assert second.prior_authorization == "PA1" and second.payer_id is None
    for claim, charge, insurance, patient in (
        (first, "162.50", "162.50", "0.00"),
        (second, "150.00", "0.00", "150.00"),
    ):
        claim.refresh_from_db()
        assert (claim.status, claim.created_at, claim.created_by) == (ClaimStatus.DRAFT, created_at, user)
        assert (claim.charge_total, claim.insurance_balance, claim.patient_balance) == (
            Decimal(charge),
            Decimal(insurance),
            Decimal(patient),
        )
    charges = Transaction.objects.filter(kind="charge").order_by("line_id")
    assert [(t.line_id, t.amount, t.party, t.posted_at, t.source_reference) for t in charges] == [
        (first_lines[0].pk, Decimal("150.00"), "insurance", created_at, first.patient_control_number),
        (first_lines[1].pk, Decimal("12.50"), "insurance", created_at, first.patient_control_number),
        (second_lines[0].pk, Decimal("150.00"), "patient", created_at, second.patient_control_number),
    ]
    events = AuditEvent.objects.filter(action="create", object_type="claims.claim").order_by("pk")
    created = [
        (e.object_id, e.user, e.changes["patient_control_number"][1])
        for e in events
        if "ledger" not in e.changes
    ]
    posted = [(e.object_id, e.changes["source"]) for e in events if "ledger" in e.changes]
    assert created == [(str(c.pk), user, c.patient_control_number) for c in (first, second)]
    assert posted == [(str(c.pk), ["charge_entry", c.patient_control_number]) for c in (first, second)]
    assert ledger_check() == []
