"""ERA posting and charge entry price lines with rcm.pricing: the multiple-procedure reduction when posting a
claim's lines, and any pricing method (not only fee schedules) on the charge entry line."""

from decimal import Decimal

from claims.models import RemittanceLine
from rcm.models import ChargeMasterEntry, FeeScheduleRow, PricingMethod
from tests.claims.era_builder import era
from tests.claims.test_era_posting import post, submitted
from tests.conftest import login

D = Decimal


def test_posting_expects_the_reduced_amount_for_the_second_procedure(billing):
    billing.contract.multiple_procedure_reduction_percent = D("50.00")
    billing.contract.save()
    for code, amount in (("99214", "130.00"), ("36415", "18.00")):
        FeeScheduleRow.objects.create(
            practice=billing.practice,
            contract=billing.contract,
            procedure_code=code,
            allowed_amount=D(amount),
        )
    claim = submitted(billing)
    payment = dict(
        pcn=claim.patient_control_number,
        charge="203",
        paid="129",
        services=[
            dict(code="99214", charge="185", paid="120", cas=[("CO", "45", "65")]),
            dict(code="36415", charge="18", paid="9", cas=[("CO", "45", "9")]),
        ],
    )
    post(billing, era(claims=[payment]))
    expected = dict(RemittanceLine.objects.values_list("procedure_code", "expected_allowed"))
    assert expected == {"99214": D("130.00"), "36415": D("9.00")}
    claim.refresh_from_db()
    assert claim.underpaid_amount == D("10.00")


def test_charge_entry_shows_what_a_percentage_of_charges_contract_allows(billing, biller):
    billing.contract.pricing_method = PricingMethod.PERCENT_OF_CHARGES
    billing.contract.percent = D("62.50")
    billing.contract.save()
    ChargeMasterEntry.objects.create(practice=billing.practice, procedure_code="99214", charge=D("185.00"))
    response = login(biller).get(
        "/claims/entry/charge/",
        {"procedure_code": "99214", "units": "2", "coverage": billing.coverage.pk, "place_of_service": "11"},
    )
    # 185.00 x 62.5% = 115.625: one unit's charge, rounded half up
    assert response.context["allowed"] == D("115.63")
    assert "allows $115.63" in response.content.decode()
