"""Bad input to charge entry: refused with a message naming the field and the reason; nothing saved."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from claims.models import Claim, ClaimLine, Transaction
from claims.services import LineInput, claim_create
from rcm.models import NumberSequence
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
    return (Claim.objects.count(), ClaimLine.objects.count(), Transaction.objects.count(),
            NumberSequence.objects.filter(name="claim").count())


CASES = [
    ({"diagnosis_codes": ["XYZ.1"]}, "diagnosis_codes", "'XYZ.1' is not an ICD-10-CM code."),
    ({"diagnosis_codes": ["E11"]}, "diagnosis_codes", "E11 (Type 2 diabetes mellitus) is a header code, not billable"),
    ({"diagnosis_codes": []}, "diagnosis_codes", "A claim needs at least one diagnosis code."),
    ({"diagnosis_codes": ["I10"] * 13}, "diagnosis_codes", "A claim has at most 12 diagnosis codes; 13 given."),
    ({"diagnosis_codes": ["I10", "I10"]}, "diagnosis_codes", "A diagnosis code is listed twice."),
    ({"lines": [line(diagnosis_pointers=[3])]}, "lines[1].diagnosis_pointers",
     "Pointer 3 does not point at a diagnosis: the claim has 2."),
    ({"lines": [line(charge=Decimal("0"))]}, "lines[1].charge", "The charge must be greater than zero (got 0)."),
    ({"lines": [line(charge=Decimal("-5.00"))]}, "lines[1].charge", "The charge must be greater than zero (got -5.00)."),
    ({"lines": [line(charge="ten dollars")]}, "lines[1].charge", "'ten dollars' is not a number."),
    ({"lines": [line(units=0)]}, "lines[1].units", "Units must be at least 1 (got 0)."),
    ({"lines": [line(modifiers=["25", "59", "RT", "LT", "76"])]}, "lines[1].modifiers",
     "A line has at most 4 modifiers; 5 given."),
    ({"lines": [line(modifiers=["2!"])]}, "lines[1].modifiers", "Modifier '2!' must be two letters or digits."),
    ({"lines": [line(procedure_code="9921")]}, "lines[1].procedure_code", "Procedure code '9921' is not a CPT"),
    ({"lines": [line(service_date_from=datetime.date(2099, 1, 1))]}, "lines[1].service_date_from",
     "The date of service 2099-01-01 is in the future."),
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
        claim_create(**{**setup, "coverage": other, "diagnosis_codes": ["I10"], "lines": [line(diagnosis_pointers=[1])]})
    assert caught.value.message_dict == {"coverage": ["The coverage belongs to another patient."]}
    assert Claim.objects.count() == 0


def test_references_from_another_practice_are_refused(setup, other_practice):
    foreign_coverage = CoverageFactory(practice=other_practice)
    foreign_patient = PatientFactory(practice=other_practice)
    foreign_provider = ProviderFactory(practice=other_practice)
    with pytest.raises(ValidationError) as caught:
        claim_create(**{**setup, "coverage": foreign_coverage, "diagnosis_codes": ["I10"],
                        "lines": [line(diagnosis_pointers=[1])]})
    assert caught.value.message_dict["coverage"] == ["The coverage belongs to another practice."]
    with pytest.raises(ValidationError) as caught:
        claim_create(**{**setup, "patient": foreign_patient, "rendering_provider": foreign_provider,
                        "diagnosis_codes": ["I10"], "lines": [line(diagnosis_pointers=[1])]})
    assert caught.value.message_dict["patient"] == ["The patient belongs to another practice."]
    assert caught.value.message_dict["rendering_provider"] == ["The provider belongs to another practice."]
    assert Claim.objects.count() == 0


def test_codes_are_normalised(setup):
    claim = claim_create(**{**setup, "diagnosis_codes": ["e119", " I10 "],
                            "lines": [line(procedure_code="j1100", modifiers=["rt"])]})
    assert claim.diagnosis_codes == ["E11.9", "I10"]
    only = claim.lines.get()
    assert (only.procedure_code, only.modifiers) == ("J1100", ["RT"])
