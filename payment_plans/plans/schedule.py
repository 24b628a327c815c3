"""Schedules: the due dates and amounts of a plan's installments in Decimal, remainder on the last one."""

import dataclasses
import datetime
from decimal import ROUND_DOWN, Decimal

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ValidationError

from payment_plans.plans.affordability import PER_MONTH

CENT = Decimal("0.01")
MAX_INSTALLMENTS = 260  # five years weekly: a bound for the term given by amount


@dataclasses.dataclass(frozen=True)
class Due:
    due_date: datetime.date
    amount: Decimal


def due_date(start: datetime.date, frequency: str, index: int) -> datetime.date:
    if frequency == "monthly":
        return start + relativedelta(months=index)
    return start + datetime.timedelta(days=(14 if frequency == "biweekly" else 7) * index)


def max_installments(frequency: str, maximum_term_months: int) -> int:
    """How many installments of ``frequency`` fit in the practice's maximum term."""
    return int((PER_MONTH[frequency] * maximum_term_months).to_integral_value(rounding=ROUND_DOWN))


def schedule_build(
    *,
    financed: Decimal,
    frequency: str,
    start: datetime.date,
    term: int | None = None,
    installment_amount: Decimal | None = None,
) -> list[Due]:
    """Installments for ``financed``: by ``term`` (equal cents, the rounding remainder on the last) or by
    ``installment_amount`` (that amount each, the last one the remainder)."""
    if (term is None) == (installment_amount is None):
        raise ValidationError("Choose either the number of installments or the installment amount, not both.")
    if financed <= 0:
        raise ValidationError("There is nothing left to schedule: the amount financed is zero.")
    if term is not None:
        if term < 1:
            raise ValidationError({"term": "The plan needs at least one installment."})
        each = (financed / term).quantize(CENT, rounding=ROUND_DOWN)
        if each <= 0:
            raise ValidationError({"term": f"{term} installments would be less than a cent each."})
        amounts = [each] * (term - 1) + [financed - each * (term - 1)]
    else:
        if installment_amount <= 0:
            raise ValidationError({"installment_amount": "The installment amount must be more than zero."})
        count = int((financed / installment_amount).to_integral_value(rounding="ROUND_CEILING"))
        if count > MAX_INSTALLMENTS:
            raise ValidationError(
                {"installment_amount": f"${installment_amount} would take {count} installments; pay more."}
            )
        amounts = [installment_amount] * (count - 1) + [financed - installment_amount * (count - 1)]
    return [Due(due_date(start, frequency, i), amount) for i, amount in enumerate(amounts)]
