"""A patient who owes money after insurance (self-pay claims), and a helper to make a plan for them."""

import datetime
from decimal import Decimal

import pytest

from claims.services import LineInput
from payment_plans.plans.services import plan_create
from tests.claims.factories import make_claim
from tests.rcm.factories import PatientFactory

TODAY = datetime.date(2026, 4, 1)


def self_pay_claim(practice, patient, charge: str, day=datetime.date(2026, 3, 2)):
    return make_claim(
        practice,
        patient=patient,
        self_pay=True,
        lines=[LineInput(procedure_code="99213", charge=Decimal(charge), service_date_from=day)],
    )


@pytest.fixture
def debtor(practice):
    """A patient owing $1,000.00 on two self-pay claims ($600.00 then $400.00)."""
    patient = PatientFactory(practice=practice, first_name="Ana", last_name="Reyes")
    patient.claims_owed = [
        self_pay_claim(practice, patient, "600.00", datetime.date(2026, 2, 2)),
        self_pay_claim(practice, patient, "400.00", datetime.date(2026, 3, 2)),
    ]
    return patient


def make_plan(patient, **kwargs):
    values = {"frequency": "monthly", "start_date": datetime.date(2026, 5, 1), "term": 3, "today": TODAY}
    values.update(kwargs)
    return plan_create(patient=patient, **values)
