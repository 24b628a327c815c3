import pytest
from django.core.exceptions import ValidationError

from rcm.validators import icd10_problem, npi_is_valid, validate_npi


@pytest.mark.parametrize("npi", ["1234567893", "1245319599", "1003000126"])
def test_valid_npis_pass_the_luhn_check(npi):
    assert npi_is_valid(npi)


@pytest.mark.parametrize(
    ("npi", "message"),
    [
        ("1234567890", "NPI 1234567890 fails the check-digit test: it is mistyped."),
        ("123456789", "NPI '123456789' must be exactly 10 digits."),
        ("12345678AB", "NPI '12345678AB' must be exactly 10 digits."),
    ],
)
def test_invalid_npis_are_refused_with_the_reason(npi, message):
    with pytest.raises(ValidationError) as caught:
        validate_npi(npi)
    assert caught.value.messages == [message]


def test_icd10_billable_and_header_codes():
    assert icd10_problem("E11.9") is None
    assert icd10_problem("e119") is None
    assert icd10_problem("S72.001A") is None
    assert icd10_problem("M54.5").startswith("M54.5 (Low back pain) is a header code, not billable")
    assert icd10_problem("Q99.99") == "'Q99.99' is not an ICD-10-CM code."


def test_provider_with_bad_npi_is_refused_by_model_validation(practice):
    from tests.rcm.factories import ProviderFactory

    provider = ProviderFactory.build(practice=practice, npi="1234567890")
    with pytest.raises(ValidationError) as caught:
        provider.full_clean()
    assert caught.value.message_dict["npi"] == ["NPI 1234567890 fails the check-digit test: it is mistyped."]
