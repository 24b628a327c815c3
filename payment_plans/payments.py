"""Patient payments, credits and credit refunds: the only code that moves a patient's money.

Every movement goes through ``claims.ledger`` (PATIENT_PAYMENT to pay a line, REFUND to take money off
a line) and is written down as a ``PaymentAllocation`` tied to its ledger row, so the account can say
what was applied where. A payment larger than what is owed keeps the remainder as a *credit*: a
PATIENT_PAYMENT that takes one line's patient balance below zero (the ledger identity still holds and
the credit shows in every balance). A later balance consumes credits (``patient_credits_apply``), and a
credit can be refunded (``patient_credit_refund``).

Each service runs in one transaction and locks the patient row first, so two payments recorded at the
same moment on one patient are applied one after the other against the balances as they are.
"""

import dataclasses
import datetime
import re
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from claims.ledger import Entry, ledger_post
from claims.models import Claim, ClaimLine, ClaimStatus, Party, TransactionKind, TransactionSource
from claims.patient_billing import claims_settle_patient_paid
from payment_plans.models import (
    AllocationKind,
    CreditRefund,
    PatientPayment,
    PaymentAllocation,
    PaymentMethod,
)
from rcm.audit import audit_record, current_context
from rcm.models import AuditAction, Patient
from rcm.sequences import sequence_next

ZERO = Decimal("0.00")
CENT = Decimal("0.01")
MAX_PAYMENT = Decimal("999999.99")
_DIGIT_RUN = re.compile(r"\d[\d \-]{11,}\d")


def luhn_ok(digits: str) -> bool:
    total = 0
    for index, char in enumerate(reversed(digits)):
        digit = int(char)
        if index % 2 == 1:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return total % 10 == 0


def looks_like_card_number(text: str) -> bool:
    """True when ``text`` holds 13 to 19 digits (spaces or dashes between them allowed) that pass the
    Luhn check: a primary account number, which must never be stored."""
    for match in _DIGIT_RUN.finditer(text or ""):
        digits = re.sub(r"\D", "", match.group())
        if 13 <= len(digits) <= 19 and luhn_ok(digits):
            return True
    return False


def parse_amount(value, *, field: str = "amount") -> Decimal:
    """A positive amount in dollars and cents, or a ValidationError naming what is wrong."""
    if isinstance(value, float):
        raise ValidationError({field: "Give the amount as text or a Decimal, not a floating-point number."})
    try:
        amount = Decimal(str(value).strip().replace(",", "").lstrip("$"))
    except (InvalidOperation, ValueError):
        raise ValidationError({field: f"{value!r} is not an amount of money."}) from None
    if not amount.is_finite():
        raise ValidationError({field: f"{value!r} is not an amount of money."})
    if amount <= 0:
        raise ValidationError({field: f"The amount must be more than zero (got {amount})."})
    if amount != amount.quantize(CENT):
        raise ValidationError({field: f"{amount} has more decimals than cents; use at most two decimals."})
    if amount > MAX_PAYMENT:
        raise ValidationError({field: f"{amount} is more than the largest amount accepted ({MAX_PAYMENT})."})
    return amount.quantize(CENT)


def _check_method_and_reference(method: str, reference: str, *, check_needs_reference: bool = True) -> str:
    if method not in PaymentMethod.values:
        allowed = ", ".join(PaymentMethod.values)
        raise ValidationError({"method": f"Unknown payment method {method!r}; use one of {allowed}."})
    reference = (reference or "").strip()
    if len(reference) > 64:
        raise ValidationError({"reference": "The reference is longer than 64 characters."})
    if looks_like_card_number(reference):
        raise ValidationError(
            {
                "reference": (
                    "The reference looks like a card number. Card numbers are never stored: enter the "
                    "authorisation code or the last four digits instead."
                )
            }
        )
    if check_needs_reference and method == PaymentMethod.CHECK and not reference:
        raise ValidationError({"reference": "A check payment needs the check number as its reference."})
    return reference


def _lock_patient(practice, patient) -> Patient:
    if patient.practice_id != practice.pk:
        raise ValidationError("This patient belongs to another practice.")
    return Patient.objects.select_for_update().get(pk=patient.pk)


def _patient_lines(patient):
    """The patient's claim lines that may carry a patient balance, oldest service first."""
    return (
        ClaimLine.objects.filter(claim__patient=patient, removed=False)
        .exclude(claim__status=ClaimStatus.VOIDED)
        .select_related("claim")
        .order_by("claim__service_date", "claim_id", "line_number")
    )


@dataclasses.dataclass
class _Move:
    line: ClaimLine
    kind: str  # AllocationKind
    amount: Decimal


def _post(
    *, practice, moves: list[_Move], user, reference: str, effective_date, payment=None, refund=None, at=None
):
    """Post ``moves`` through the ledger (one call per claim) and write their allocations."""
    by_claim: dict[int, list[_Move]] = {}
    for move in moves:
        by_claim.setdefault(move.line.claim_id, []).append(move)
    allocations = []
    for claim_id, claim_moves in by_claim.items():
        claim = claim_moves[0].line.claim
        entries = [
            Entry(
                line=move.line,
                kind=(
                    TransactionKind.PATIENT_PAYMENT
                    if move.kind in (AllocationKind.APPLIED, AllocationKind.CREDIT)
                    else TransactionKind.REFUND
                ),
                party=Party.PATIENT,
                amount=move.amount,
                effective_date=effective_date,
                note=AllocationKind(move.kind).label,
            )
            for move in claim_moves
        ]
        rows = ledger_post(
            claim=claim,
            entries=entries,
            user=user,
            source=TransactionSource.PAYMENT,
            source_reference=reference,
            posted_at=at,
        )
        for move, row in zip(claim_moves, rows, strict=True):
            allocations.append(
                PaymentAllocation(
                    practice=practice,
                    payment=payment,
                    refund=refund,
                    kind=move.kind,
                    claim_id=claim_id,
                    line=move.line,
                    amount=move.amount,
                    transaction=row,
                    at=at or timezone.now(),
                )
            )
    PaymentAllocation.objects.bulk_create(allocations)
    return allocations


def _owed_moves(lines, amount: Decimal, kind=AllocationKind.APPLIED) -> tuple[list[_Move], Decimal]:
    moves, left = [], amount
    for line in lines:
        if left <= 0:
            break
        if line.patient_balance > 0:
            take = min(left, line.patient_balance)
            moves.append(_Move(line, kind, take))
            line.patient_balance -= take
            left -= take
    return moves, left


def _resolve_allocations(practice, patient, allocations, lines_by_id, amount):
    """``allocations``: [(claim or line, amount)]: each within that target's patient balance."""
    moves, total = [], ZERO
    for index, item in enumerate(allocations):
        try:
            target, wanted = item
        except (TypeError, ValueError):
            raise ValidationError(
                {"allocations": f"Allocation {index + 1} must be (claim or line, amount)."}
            ) from None
        wanted = parse_amount(wanted, field=f"allocations[{index}].amount")
        if isinstance(target, Claim):
            if target.patient_id != patient.pk or target.practice_id != practice.pk:
                raise ValidationError(
                    {"allocations": f"Claim {target.patient_control_number} is not this patient's."}
                )
            lines = [line for line in lines_by_id.values() if line.claim_id == target.pk]
        elif isinstance(target, ClaimLine):
            if target.pk not in lines_by_id:
                raise ValidationError(
                    {"allocations": f"Line {target.pk} is not an open line of this patient."}
                )
            lines = [lines_by_id[target.pk]]
        else:
            raise ValidationError({"allocations": f"Allocation {index + 1} must name a claim or a line."})
        owed = sum((line.patient_balance for line in lines if line.patient_balance > 0), ZERO)
        if wanted > owed:
            raise ValidationError(
                {"allocations": f"Allocation {index + 1} is {wanted} but the patient owes {owed} there."}
            )
        claim_moves, _left = _owed_moves(lines, wanted)
        moves += claim_moves
        total += wanted
    if total > amount:
        raise ValidationError(
            {"allocations": f"The allocations add up to {total}, more than the payment ({amount})."}
        )
    return moves, amount - total


@transaction.atomic
def patient_payment_record(
    *,
    practice,
    patient,
    amount,
    method: str,
    reference: str = "",
    received_on: datetime.date,
    user,
    claim=None,
    allocations=None,
    at=None,
) -> PatientPayment:
    """Record money received from ``patient`` and apply it through the ledger.

    - ``amount``: Decimal or text, more than zero, at most two decimals (a float is refused).
    - ``method``: ``PaymentMethod`` value (cash, check, card, online); ``reference``: check number,
      authorisation or transaction id (required for a check); anything that looks like a card number
      (13-19 digits passing the Luhn check) is refused.
    - Where it goes: by default the oldest patient balances first (by date of service, claim, line);
      with ``claim`` only that claim's lines; with ``allocations`` = [(Claim or ClaimLine, amount), ...]
      exactly those amounts (each within what is owed there; the rest, if any, goes oldest first).
    - What is left once the balances are paid becomes a credit (``AllocationKind.CREDIT``) on the
      chosen claim's last line, else the patient's most recent line; it is never lost and shows as a
      negative patient balance until used (``patient_credits_apply``) or refunded
      (``patient_credit_refund``). A patient with no claim line at all cannot hold a credit: refused.
    - ``at``: when it is recorded (default now; the demo data back-dates its payments).

    Returns the ``PatientPayment``; ``payment.allocations.all()`` (and the ``applied`` and ``credit``
    attributes set on the returned object) say what was applied where: each allocation has the claim,
    the line, the amount and the ledger transaction. Bad input raises ``ValidationError`` (keyed by
    field) and saves nothing.
    """
    amount = parse_amount(amount)
    reference = _check_method_and_reference(method, reference)
    if not isinstance(received_on, datetime.date):
        raise ValidationError({"received_on": "Give the date the payment was received."})
    if received_on > timezone.localdate():
        raise ValidationError({"received_on": f"{received_on} is in the future."})
    if claim is not None and (claim.patient_id != patient.pk or claim.practice_id != practice.pk):
        raise ValidationError({"claim": f"Claim {claim.patient_control_number} is not this patient's."})
    patient = _lock_patient(practice, patient)
    all_lines = list(_patient_lines(patient))
    lines_by_id = {line.pk: line for line in all_lines}
    if not all_lines:
        raise ValidationError(
            {"amount": "This patient has no billed visit yet: a payment has nothing to apply to."}
        )
    if allocations:
        moves, left = _resolve_allocations(practice, patient, allocations, lines_by_id, amount)
        more, left = _owed_moves(all_lines, left)
        moves += more
        credit_line = all_lines[-1]
    elif claim is not None:
        claim_lines = [line for line in all_lines if line.claim_id == claim.pk]
        if not claim_lines:
            raise ValidationError({"claim": f"Claim {claim.patient_control_number} has no open line."})
        moves, left = _owed_moves(claim_lines, amount)
        credit_line = claim_lines[-1]
    else:
        moves, left = _owed_moves(all_lines, amount)
        credit_line = all_lines[-1]
    if left > 0:
        moves.append(_Move(credit_line, AllocationKind.CREDIT, left))
    number = sequence_next(practice=practice, name="patient_receipt")[0]
    payment = PatientPayment.objects.create(
        practice=practice,
        patient=patient,
        receipt_number=f"R-{number:06d}",
        amount=amount,
        method=method,
        reference=reference,
        received_on=received_on,
        recorded_by=user if user is not None and user.is_authenticated else None,
        recorded_at=at or timezone.now(),
    )
    rows = _post(
        practice=practice,
        moves=moves,
        user=user,
        reference=payment.receipt_number,
        effective_date=received_on,
        payment=payment,
        at=at,
    )
    claims_settle_patient_paid(claim_ids={row.claim_id for row in rows}, user=user, at=at)
    if current_context().enabled:  # data generators turn the log off
        audit_record(
            action=AuditAction.CREATE,
            practice=practice,
            object_type="payment_plans.patientpayment",
            object_id=payment.pk,
            changes={"amount": amount, "method": method, "patient": patient.pk},
            user=user,
        )
    payment.applied = sum((r.amount for r in rows if r.kind == AllocationKind.APPLIED), ZERO)
    payment.credit = left
    return payment


def _credit_lines(patient) -> list[ClaimLine]:
    return [
        line
        for line in _patient_lines(patient)
        .filter(patient_balance__lt=0)
        .order_by("-claim__service_date", "-claim_id", "-line_number")
    ]


def _credit_source(line) -> PatientPayment | None:
    """The payment whose credit sits on ``line`` (the latest credit put there)."""
    row = (
        PaymentAllocation.objects.filter(line=line, kind=AllocationKind.CREDIT)
        .select_related("payment")
        .order_by("-at", "-id")
        .first()
    )
    return row.payment if row else None


def patient_credit_available(patient) -> Decimal:
    """The patient's credit: what the ledger holds below zero on their lines."""
    return sum((-line.patient_balance for line in _credit_lines(patient)), ZERO)


@transaction.atomic
def patient_credits_apply(*, practice, patient, user) -> list[PaymentAllocation]:
    """Let the patient's credits pay their balances, oldest balance first: a REFUND takes the money off
    the credit line (CREDIT_USED) and a PATIENT_PAYMENT puts it on the owed line (APPLIED), both
    attributed to the payment the credit came from. Returns the allocations written (empty when there
    is no credit or nothing owed)."""
    patient = _lock_patient(practice, patient)
    lines = list(_patient_lines(patient))
    written = []
    for credit_line in sorted(
        (line for line in lines if line.patient_balance < 0),
        key=lambda line: (line.claim.service_date, line.claim_id, line.line_number),
    ):
        credit = -credit_line.patient_balance
        moves, left = _owed_moves(lines, credit)
        used = credit - left
        if used <= 0:
            break
        credit_line.patient_balance += used
        source = _credit_source(credit_line)
        rows = _post(
            practice=practice,
            moves=[_Move(credit_line, AllocationKind.CREDIT_USED, used), *moves],
            user=user,
            reference=source.receipt_number if source else "credit",
            effective_date=timezone.localdate(),
            payment=source,
        )
        written += rows
    if written:
        claims_settle_patient_paid(claim_ids={row.claim_id for row in written}, user=user)
    return written


@transaction.atomic
def patient_credit_refund(
    *,
    practice,
    patient,
    amount,
    method: str,
    reference: str = "",
    refunded_on: datetime.date | None = None,
    reason: str = "",
    user,
    at=None,
) -> CreditRefund:
    """Give ``amount`` of the patient's credit back: REFUND transactions on the credit lines (most
    recent first) bring them back toward zero. Refused (nothing saved) when ``amount`` is more than the
    credit, not an amount of money, or the reference looks like a card number."""
    amount = parse_amount(amount)
    reference = _check_method_and_reference(method, reference, check_needs_reference=False)
    refunded_on = refunded_on or timezone.localdate()
    patient = _lock_patient(practice, patient)
    lines = _credit_lines(patient)
    credit = sum((-line.patient_balance for line in lines), ZERO)
    if amount > credit:
        raise ValidationError(
            {"amount": f"The refund ({amount}) is more than the patient's credit ({credit})."}
        )
    refund = CreditRefund.objects.create(
        practice=practice,
        patient=patient,
        amount=amount,
        method=method,
        reference=reference,
        refunded_on=refunded_on,
        reason=reason[:255],
        recorded_by=user if user is not None and user.is_authenticated else None,
        recorded_at=at or timezone.now(),
    )
    left, rows = amount, []
    for line in lines:
        if left <= 0:
            break
        take = min(left, -line.patient_balance)
        rows += _post(
            practice=practice,
            moves=[_Move(line, AllocationKind.REFUNDED, take)],
            user=user,
            reference=f"refund-{refund.pk}",
            effective_date=refunded_on,
            payment=_credit_source(line),
            refund=refund,
            at=at,
        )
        left -= take
    if current_context().enabled:  # data generators turn the log off
        audit_record(
            action=AuditAction.CREATE,
            practice=practice,
            object_type="payment_plans.creditrefund",
            object_id=refund.pk,
            changes={"amount": amount, "patient": patient.pk},
            user=user,
        )
    return refund


def payments_for_patient(patient):
    return PatientPayment.objects.filter(patient=patient).prefetch_related("allocations")


__all__ = [
    "looks_like_card_number",
    "parse_amount",
    "patient_credit_available",
    "patient_credit_refund",
    "patient_credits_apply",
    "patient_payment_record",
    "payments_for_patient",
]
