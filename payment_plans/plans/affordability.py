"""The affordability check: what a patient can pay each month without breaking the plan.

The formula (shown on the plan page and in docs/payment_plans.md):

    poverty allowance  = HHS poverty guideline for the household size ÷ 12
    discretionary      = monthly income − essential expenses − poverty allowance   (never below zero)
    suggested payment  = 10% of discretionary, rounded up to the dollar, at least the practice's minimum
    warning            = the monthly equivalent of the chosen payment is above 15% of discretionary

Plans above roughly 10–15% of discretionary income are the ones that default (DESIGN.md); the allowance keeps
a floor for food and shelter of a household that size even when the patient lists few expenses.
The guideline is the 2025 HHS poverty guideline for the 48 contiguous states and DC: $15,650 for one person,
$5,500 for each additional person (https://aspe.hhs.gov/poverty-guidelines, public domain).
"""

import dataclasses
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
POVERTY_GUIDELINE_FIRST = Decimal("15650")
POVERTY_GUIDELINE_EACH_ADDITIONAL = Decimal("5500")
SUGGESTED_SHARE = Decimal("0.10")
WARNING_SHARE = Decimal("0.15")
MAX_HOUSEHOLD = 20

# How many payments of each frequency fall in an average month.
PER_MONTH = {
    "monthly": Decimal(1),
    "biweekly": Decimal(26) / Decimal(12),
    "weekly": Decimal(52) / Decimal(12),
}


def poverty_allowance(household_size: int) -> Decimal:
    yearly = POVERTY_GUIDELINE_FIRST + POVERTY_GUIDELINE_EACH_ADDITIONAL * (household_size - 1)
    return (yearly / 12).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclasses.dataclass(frozen=True)
class Affordability:
    monthly_income: Decimal
    household_size: int
    essential_expenses: Decimal
    allowance: Decimal
    discretionary: Decimal
    suggested_payment: Decimal

    def monthly_equivalent(self, amount: Decimal, frequency: str) -> Decimal:
        return (amount * PER_MONTH[frequency]).quantize(CENT, rounding=ROUND_HALF_UP)

    def warning(self, amount: Decimal, frequency: str) -> str:
        """Plain words when ``amount`` per ``frequency`` is more than the patient can likely keep; else ""."""
        monthly = self.monthly_equivalent(amount, frequency)
        limit = (self.discretionary * WARNING_SHARE).quantize(CENT, rounding=ROUND_HALF_UP)
        if monthly <= limit:
            return ""
        return (
            f"${monthly} a month is more than 15% of the patient's discretionary income "
            f"(${self.discretionary} "
            f"a month; 15% is ${limit}). Plans this heavy often default: consider a longer term or a smaller "
            f"payment."
        )


def affordability_check(
    *, monthly_income: Decimal, household_size: int, essential_expenses: Decimal, minimum_payment: Decimal
) -> Affordability:
    """The suggested monthly payment from the patient's income, household and essential expenses.
    Raises ValidationError naming the field for negative money or an impossible household."""
    errors = {}
    if monthly_income is None or monthly_income < 0:
        errors["monthly_income"] = "Monthly income must be zero or more."
    if essential_expenses is None or essential_expenses < 0:
        errors["essential_expenses"] = "Essential expenses must be zero or more."
    if household_size is None or not 1 <= household_size <= MAX_HOUSEHOLD:
        errors["household_size"] = f"Household size must be between 1 and {MAX_HOUSEHOLD}."
    if errors:
        raise ValidationError(errors)
    allowance = poverty_allowance(household_size)
    discretionary = max(ZERO, (monthly_income - essential_expenses - allowance).quantize(CENT))
    suggested = (discretionary * SUGGESTED_SHARE).quantize(Decimal(1), rounding=ROUND_CEILING)
    suggested = max(suggested.quantize(CENT), minimum_payment)
    return Affordability(
        monthly_income=monthly_income,
        household_size=household_size,
        essential_expenses=essential_expenses,
        allowance=allowance,
        discretionary=discretionary,
        suggested_payment=suggested,
    )
