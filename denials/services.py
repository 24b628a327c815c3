"""Writes on denials: recording them (ERA posting), appealing them and writing them off.

The appeal and write-off services are the biller's actions on a denied claim. Each locks the claim,
refuses bad input with a ``ValidationError`` that names the problem (and then changes nothing), moves
the claim through ``claims.state_machine`` (history row included), posts money only through
``claims.ledger`` and keeps the claim's ``Denial`` rows in step.
"""

import dataclasses
import datetime
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from claims.ledger import Entry, ledger_post, money
from claims.models import Claim, ClaimLine, ClaimStatus, TransactionKind, TransactionSource
from claims.state_machine import can_transition, claim_transition
from denials.models import Denial, DenialRisk, DenialStatus
from denials.risk import WINDOW_DAYS, RiskModel
from denials.selectors import payer_names, ready_claim_lines, risk_outcomes

APPEALABLE = frozenset({ClaimStatus.DENIED, ClaimStatus.PARTIALLY_PAID})
OVERTURNED, UPHELD = "overturned", "upheld"
# Denials still being worked: open, or waiting on an appeal.
UNRESOLVED = (DenialStatus.OPEN, DenialStatus.APPEALED)


def denials_record(rows: list[dict]) -> list[Denial]:
    """Record the denials an ERA posting found (called inside the posting's transaction)."""
    return Denial.objects.bulk_create([Denial(**row) for row in rows], batch_size=1000)


@dataclasses.dataclass
class AppealPayment:
    """What the payer's decision letter pays on one line of an overturned appeal: the allowed amount,
    the payment, and the patient's share by kind (responsibility, PR CARC, amount)."""

    line: ClaimLine
    allowed: Decimal
    paid: Decimal
    patient_shares: list[tuple[str, str, Decimal]] = dataclasses.field(default_factory=list)


def _locked(claim: Claim) -> Claim:
    return Claim.objects.select_for_update().get(pk=claim.pk)


def _refuse_move(claim: Claim, to_status: str, action: str) -> None:
    if not can_transition(claim.status, to_status):
        current = ClaimStatus(claim.status).label.lower()
        raise ValidationError(
            f"Claim {claim.patient_control_number} is {current}: it cannot be {action}.", code="claim_status"
        )


@transaction.atomic
def appeal_file(*, claim: Claim, user=None, at: datetime.datetime | None = None, note: str = "") -> Claim:
    """File an appeal of a denied (or partially paid) claim.

    Guarantees: the claim moves to appealed with its history row (reason ``note``, or "Appeal filed"),
    and every open denial of the claim becomes appealed. A claim in any other status is refused and
    nothing changes."""
    locked = _locked(claim)
    if locked.status not in APPEALABLE:
        current = ClaimStatus(locked.status).label.lower()
        raise ValidationError(
            f"Claim {locked.patient_control_number} is {current}: only a denied or partially paid claim "
            "can be appealed.",
            code="claim_status",
        )
    at = at or timezone.now()
    claim_transition(
        claim=locked, to_status=ClaimStatus.APPEALED, user=user, reason=note or "Appeal filed", at=at
    )
    Denial.objects.filter(claim_id=locked.pk, status=DenialStatus.OPEN).update(status=DenialStatus.APPEALED)
    return locked


def _appeal_entries(claim: Claim, payments: list[AppealPayment]) -> list[Entry]:
    """The decision letter's postings, as an ERA would post them: the payment, the contractual
    reduction (CO-45) down to the allowed amount, and the patient's share (PR)."""
    seen: set[int] = set()
    entries = []
    for payment in payments:
        line = payment.line
        if line.claim_id != claim.pk or line.pk in seen:
            raise ValidationError(
                f"Line {line.pk} is not on claim {claim.patient_control_number} or is paid twice.",
                code="appeal_line",
            )
        seen.add(line.pk)
        allowed, paid = money(payment.allowed), money(payment.paid)
        shares = [
            (responsibility, code, money(amount)) for responsibility, code, amount in payment.patient_shares
        ]
        if not (0 <= paid <= allowed <= line.charge) or any(amount < 0 for _r, _c, amount in shares):
            raise ValidationError(
                f"Line {line.line_number}: the payment ({paid}) and allowed amount ({allowed}) "
                f"must be between zero and the charge ({line.charge}), payment first.",
                code="appeal_amounts",
            )
        if paid + sum((amount for _r, _c, amount in shares), Decimal("0.00")) != allowed:
            raise ValidationError(
                f"Line {line.line_number}: the payment and the patient's share must add up to the allowed "
                f"amount ({allowed}).",
                code="appeal_amounts",
            )
        entries.append(
            Entry(
                line=line,
                kind=TransactionKind.INSURANCE_PAYMENT,
                amount=paid,
                payer_id=claim.payer_id,
                note="appeal overturned",
            )
        )
        entries.append(
            Entry(
                line=line,
                kind=TransactionKind.CONTRACTUAL_ADJUSTMENT,
                amount=line.charge - allowed,
                payer_id=claim.payer_id,
                group_code="CO",
                reason_code="45",
            )
        )
        entries += [
            Entry(
                line=line,
                kind=TransactionKind.TRANSFER_TO_PATIENT,
                amount=amount,
                payer_id=claim.payer_id,
                group_code="PR",
                reason_code=code,
                responsibility=responsibility,
            )
            for responsibility, code, amount in shares
        ]
    return [entry for entry in entries if entry.amount > 0]


@transaction.atomic
def appeal_decide(
    *,
    claim: Claim,
    outcome: str,
    payments: list[AppealPayment] | None = None,
    user=None,
    at: datetime.datetime | None = None,
    note: str = "",
) -> Claim:
    """Record the payer's decision on an appealed claim.

    ``overturned``: the decision letter's ``payments`` (one per line it pays) are posted to the ledger
    (source remittance, reference ``APPEAL-<claim number>``), the claim becomes paid (partially paid when
    insurance still owes on a line) and its appealed denials are resolved. ``upheld``: nothing is paid, the
    claim goes back to denied (to appeal further or write off) and its appealed denials are open again.
    Guarantees: one history row per decision; a claim that is not appealed, an unknown outcome, an
    overturned appeal without payments, an upheld one with payments or amounts that do not add up are
    refused and nothing changes."""
    payments = list(payments or [])
    if outcome not in (OVERTURNED, UPHELD):
        raise ValidationError(
            f"Unknown appeal outcome {outcome!r}: it is {OVERTURNED!r} or {UPHELD!r}.", code="appeal_outcome"
        )
    if outcome == OVERTURNED and not payments:
        raise ValidationError(
            "An overturned appeal needs the payer's payment for each line it pays.", code="appeal_payments"
        )
    if outcome == UPHELD and payments:
        raise ValidationError("An upheld appeal pays nothing: give no payments.", code="appeal_payments")
    locked = _locked(claim)
    if locked.status != ClaimStatus.APPEALED:
        current = ClaimStatus(locked.status).label.lower()
        raise ValidationError(
            f"Claim {locked.patient_control_number} is {current}: "
            "only an appealed claim has an appeal to decide.",
            code="claim_status",
        )
    at = at or timezone.now()
    appealed = Denial.objects.filter(claim_id=locked.pk, status=DenialStatus.APPEALED)
    if outcome == UPHELD:
        claim_transition(
            claim=locked,
            to_status=ClaimStatus.DENIED,
            user=user,
            reason=note or "Appeal upheld by the payer",
            at=at,
        )
        appealed.update(status=DenialStatus.OPEN)
        return locked
    entries = _appeal_entries(locked, payments)
    ledger_post(
        claim=locked,
        entries=entries,
        user=user,
        source=TransactionSource.REMITTANCE,
        source_reference=f"APPEAL-{locked.patient_control_number}",
        posted_at=at,
        need_ids=False,
    )
    settled = locked.insurance_balance <= 0
    claim_transition(
        claim=locked,
        to_status=ClaimStatus.PAID if settled else ClaimStatus.PARTIALLY_PAID,
        user=user,
        reason=note or "Appeal overturned: paid per the payer's decision letter",
        at=at,
    )
    appealed.update(status=DenialStatus.RESOLVED)
    return locked


@transaction.atomic
def denial_write_off(*, claim: Claim, reason: str, user=None, at: datetime.datetime | None = None) -> Claim:
    """Write off what insurance still owes on a claim's denied lines: a payer denial is never billed to
    the patient.

    Guarantees: each denied line's open insurance balance goes in one write-off (group CO, the line's
    denial CARC, ``reason`` as the note) posted through the ledger; the claim moves to written off with a
    history row ("Written off: CARC ..."); its open and appealed denials become written off. A claim
    already written off, one whose status cannot be written off, one without an unresolved denial, or a
    blank reason is refused and nothing changes."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the denial is written off."}, code="blank_reason")
    locked = _locked(claim)
    if locked.status == ClaimStatus.WRITTEN_OFF:
        raise ValidationError(
            f"Claim {locked.patient_control_number} is already written off.", code="already_written_off"
        )
    _refuse_move(locked, ClaimStatus.WRITTEN_OFF, "written off")
    denials = list(
        Denial.objects.filter(claim_id=locked.pk, status__in=UNRESOLVED).order_by("created_at", "pk")
    )
    if not denials:
        raise ValidationError(
            f"Claim {locked.patient_control_number} has no open denial to write off.", code="no_denial"
        )
    # The latest denial of a line says why it is written off; a claim-level denial covers every line.
    carc_by_line: dict[int | None, str] = {denial.line_id: denial.reason_code for denial in denials}
    lines = ClaimLine.objects.filter(claim_id=locked.pk, removed=False, insurance_balance__gt=0).order_by(
        "line_number"
    )
    entries = [
        Entry(
            line=line,
            kind=TransactionKind.WRITE_OFF,
            amount=line.insurance_balance,
            group_code="CO",
            reason_code=carc_by_line.get(line.pk) or carc_by_line[None],
            note=reason,
        )
        for line in lines
        if line.pk in carc_by_line or None in carc_by_line
    ]
    at = at or timezone.now()
    ledger_post(
        claim=locked, entries=entries, user=user, source=TransactionSource.USER, posted_at=at, need_ids=False
    )
    codes = ", ".join(dict.fromkeys(denial.reason_code for denial in reversed(denials)))
    claim_transition(
        claim=locked, to_status=ClaimStatus.WRITTEN_OFF, user=user, reason=f"Written off: CARC {codes}", at=at
    )
    Denial.objects.filter(pk__in=[denial.pk for denial in denials]).update(status=DenialStatus.WRITTEN_OFF)
    return locked


# --- denial risk before submission ------------------------------------------------------------------


@transaction.atomic
def denial_risks_compute(*, practice, today: datetime.date | None = None) -> int:
    """Score every claim of the practice that is ready to submit with a model learned from the last six
    months of the practice's remittances (``denials.risk``), and store the score and its reason per claim.

    Guarantees: afterwards exactly the practice's ready claims with a payer have a ``DenialRisk`` (scores of
    claims that left ready are removed), all written at one time; running it twice on the same day writes the
    same rows. Returns the number of claims scored."""
    today = today or timezone.localdate()
    outcomes = risk_outcomes(practice, start=today - datetime.timedelta(days=WINDOW_DAYS), end=today)
    model = RiskModel(outcomes, payer_names=payer_names(practice))
    now = timezone.now()
    rows = []
    for claim_id, lines in ready_claim_lines(practice).items():
        risk = model.claim_risk(lines)
        rows.append(
            DenialRisk(
                practice=practice,
                claim_id=claim_id,
                score=_probability(risk.score),
                reason=risk.reason[:400],
                line_scores=[
                    {
                        "line": line.line_number,
                        "procedure_code": line.procedure_code,
                        "score": str(_probability(line.score)),
                        "reason": line.reason,
                    }
                    for line in risk.lines
                ],
                computed_at=now,
            )
        )
    DenialRisk.objects.filter(practice=practice).delete()
    DenialRisk.objects.bulk_create(rows, batch_size=1000)
    return len(rows)


def _probability(value: float) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
