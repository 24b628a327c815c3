"""Each claim line's expected allowed amount at charge time, on the claim page and in the claims API, with
the contract and fee schedule row it came from; unknown (and said so) when no contract is in force or the
contract has no rate; earlier claims keep their amounts when new rates start from a date."""

import datetime
from decimal import Decimal

from claims.expected import claim_lines_expected
from claims.services import LineInput, claim_create
from rcm.contracts.services import contract_new_rate_year
from rcm.models import FeeScheduleRow, PayerContract
from tests.api import api
from tests.claims.conftest import DOS
from tests.conftest import login
from tests.rcm.factories import PayerFactory

D = Decimal


def _row(billing, code, amount, contract=None):
    return FeeScheduleRow.objects.create(
        practice=billing.practice,
        contract=contract or billing.contract,
        procedure_code=code,
        allowed_amount=D(amount),
    )


def _lines(*codes, day=DOS):
    charges = {"99214": "185.00", "36415": "18.00", "99215": "250.00"}
    return [
        LineInput(procedure_code=code, charge=D(charges[code]), service_date_from=day, diagnosis_pointers=[1])
        for code in codes
    ]


def _cells(response) -> list[str]:
    return [line.expected.message or str(line.expected.amount) for line in response.context["lines"]]


def test_the_claim_page_shows_each_lines_expected_amount_with_its_contract_and_row(billing, biller):
    billing.contract.multiple_procedure_reduction_percent = D("50.00")
    billing.contract.save()
    row = _row(billing, "99214", "130.00")
    _row(billing, "36415", "9.00")
    claim = billing.claim(lines=_lines("36415", "99214", "99215"))
    response = login(biller).get(f"/claims/{claim.pk}/")
    assert _cells(response) == [
        "4.50",  # second procedure by amount: 9.00 reduced to 50%
        "130.00",
        "unknown — no fee schedule row for 99215 (Acme PPO 2026)",
    ]
    page = response.content.decode()
    assert '<th class="num">Expected allowed</th>' in page
    assert "$130.00" in page and f'href="/payers/contracts/{billing.contract.pk}/">Acme PPO 2026</a>' in page
    assert "row 99214 non-facility $130.00" in page
    assert "row 36415 non-facility $9.00 · reduced to 50.00% (multiple procedures)" in page
    assert response.context["lines"][1].expected.fee_row == row


def test_a_date_with_no_contract_in_force_shows_unknown_never_a_guess(billing, biller):
    billing.contract.end_date = datetime.date(2025, 12, 31)
    billing.contract.save()
    _row(billing, "99214", "130.00")
    claim = billing.claim()
    response = login(biller).get(f"/claims/{claim.pk}/")
    assert _cells(response) == ["unknown — no contract in force"]
    assert "unknown — no contract in force" in response.content.decode()
    assert response.context["lines"][0].expected.amount is None


def test_a_percentage_of_charges_contract_prices_from_the_lines_charge(billing):
    billing.contract.pricing_method = "percent_of_charges"
    billing.contract.percent = D("60.00")
    billing.contract.save()
    claim = billing.claim()
    (expected,) = claim_lines_expected(claim, list(claim.lines.all())).values()
    assert (expected.amount, expected.method, expected.fee_row, expected.contract) == (
        D("111.00"),
        "percent_of_charges",
        None,
        billing.contract,
    )


def test_new_rates_from_a_date_leave_the_earlier_claims_amount_as_it_was(billing, biller):
    _row(billing, "99214", "130.00")
    march = billing.claim()
    new = contract_new_rate_year(contract=billing.contract, effective_date=datetime.date(2026, 6, 1))
    FeeScheduleRow.objects.filter(contract=new).update(allowed_amount=D("140.00"))
    june = billing.claim(lines=_lines("99214", day=datetime.date(2026, 6, 15)))
    client = login(biller)
    assert _cells(client.get(f"/claims/{march.pk}/")) == ["130.00"]
    assert _cells(client.get(f"/claims/{june.pk}/")) == ["140.00"]
    assert PayerContract.objects.get(pk=billing.contract.pk).end_date == datetime.date(2026, 5, 31)


def test_a_percentage_of_medicare_reads_medicare_s_schedule_of_each_date_or_says_why_not(billing, biller):
    medicare = PayerFactory(practice=billing.practice, name="Medicare Part B", kind="medicare")
    medicare_2026 = PayerContract.objects.create(
        practice=billing.practice, payer=medicare, name="Medicare 2026", effective_date=DOS
    )
    medicare_2026_row = _row(billing, "99214", "110.00", contract=medicare_2026)
    _row(billing, "36415", "3.00", contract=medicare_2026)
    billing.contract.pricing_method = "percent_of_base"
    billing.contract.percent, billing.contract.base_payer = D("110.00"), medicare
    billing.contract.save()
    march = billing.claim(lines=_lines("99214", "99215"))
    february = billing.claim(lines=_lines("99214", day=datetime.date(2026, 2, 27)))
    assert [(e.amount, e.fee_row) for e in claim_lines_expected(march, list(march.lines.all())).values()] == [
        (D("121.00"), medicare_2026_row),
        (None, None),
    ]
    client = login(biller)
    assert _cells(client.get(f"/claims/{march.pk}/")) == [
        "121.00",
        "unknown — no row for 99215 in the base schedule, Medicare 2026 (Acme PPO 2026)",
    ]
    assert _cells(client.get(f"/claims/{february.pk}/")) == [
        "unknown — Medicare Part B, the base payer, has no fee schedule contract in force on 02/27/2026 "
        "(Acme PPO 2026)"
    ]


def test_the_claims_api_gives_the_expected_amount_and_its_source_per_line(billing, biller):
    row = _row(billing, "99214", "130.00")
    claim = billing.claim(lines=_lines("99214", "99215"))
    lines = api(biller).get(f"/api/claims/{claim.pk}/").json()["lines"]
    assert [line["expected_allowed"] for line in lines] == [
        {
            "amount": "130.00",
            "status": "priced",
            "message": "",
            "contract": {"id": billing.contract.pk, "name": "Acme PPO 2026"},
            "fee_row": {
                "id": row.pk,
                "code": "99214",
                "modifier": "",
                "setting": "non-facility",
                "allowed_amount": "130.00",
            },
            "method": "fee_schedule",
            "reduction_percent": None,
        },
        {
            "amount": None,
            "status": "no_rate",
            "message": "unknown — no fee schedule row for 99215 (Acme PPO 2026)",
            "contract": {"id": billing.contract.pk, "name": "Acme PPO 2026"},
            "fee_row": None,
            "method": "",
            "reduction_percent": None,
        },
    ]


def test_a_self_pay_claim_has_no_expected_amount(billing, biller):
    claim = claim_create(
        practice=billing.practice,
        patient=billing.patient,
        coverage=None,
        billing_provider=billing.group,
        diagnosis_codes=["I10"],
        lines=_lines("99214"),
    )
    assert claim.payer_id is None
    (expected,) = claim_lines_expected(claim, list(claim.lines.all())).values()
    assert (expected.status, expected.message, expected.amount) == (
        "self_pay",
        "unknown — self-pay, no payer contract",
        None,
    )
