"""Writes of the Payment plans app (services, one transaction each). Patient payments, credits and
refunds live in ``payment_plans.payments`` and are re-exported here; see their docstrings."""

from payment_plans.payments import (  # noqa: F401
    looks_like_card_number,
    parse_amount,
    patient_credit_available,
    patient_credit_refund,
    patient_credits_apply,
    patient_payment_record,
)
