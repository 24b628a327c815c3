"""Writes on denials: recording them (ERA posting), appealing them and writing them off.

The appeal and write-off services are the biller's actions on a denied claim. Each locks the claim,
refuses bad input with a ``ValidationError`` that names the problem (and then changes nothing), moves
the claim through ``claims.state_machine`` (history row included), posts money only through
``claims.ledger`` and keeps the claim's ``Denial`` rows in step.
"""

import dataclasses
import datetime
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from claims.ledger import Entry, ledger_post, money
from claims.models import Claim, ClaimLine, ClaimStatus, FrequencyCode, TransactionKind, TransactionSource
from claims.scrubber.engine import claims_scrub
from claims.state_machine import can_transition, claim_transition
from denials.models import (
    ZERO,
    AppealLetter,
    AppealOutcome,
    Denial,
    DenialNote,
    DenialRisk,
    DenialStatus,
    RootCauseRule,
)
from denials.reference import CATEGORY_CHOICES, OWNER_CHOICES, is_known_carc, is_known_rarc
from denials.risk import WINDOW_DAYS, RiskModel
from denials.risk_selectors import payer_names, ready_claim_lines, risk_outcomes
from denials.rules import root_causes_for
from denials.selectors import denial_queue
from denials.state_machine import OPEN_STATUSES, denials_transition
from rcm.models import Membership, PayerContract
from rcm.pricing import contract_in_force
from rcm.roles import role_can

APPEALABLE = frozenset({ClaimStatus.DENIED, ClaimStatus.PARTIALLY_PAID})
OVERTURNED, UPHELD = "overturned", "upheld"
S = DenialStatus
# Denials still being worked (a write-off takes them).
UNRESOLVED = tuple(sorted(OPEN_STATUSES))
# Denials an appeal takes up.
TO_APPEAL = (S.NEW, S.IN_REVIEW, S.UPHELD, S.PARTLY_OVERTURNED, S.CORRECTED)


def _appeal_limits(practice_id: int, payer_ids) -> dict[int, list[PayerContract]]:
    contracts: dict[int, list[PayerContract]] = defaultdict(list)
    for contract in PayerContract.objects.filter(practice_id=practice_id, payer_id__in=set(payer_ids)):
        contracts[contract.payer_id].append(contract)
    return contracts


def appeal_deadline(contracts: list[PayerContract], service_date, remit_date) -> datetime.date | None:
    """Remit date + the appeal limit of the payer contract in force on the date of service; None without
    a contract (the queue says so)."""
    contract = contract_in_force(contracts, service_date)
    if contract is None or remit_date is None:
        return None
    return remit_date + datetime.timedelta(days=contract.appeal_limit_days)


def denials_record(rows: list[dict]) -> list[Denial]:
    """Record the denials an ERA posting found (called inside the posting's transaction).

    Guarantees: each denial gets its root cause (category, owner, preventable) from the practice's rules
    (the reference's defaults where it has none), the remit date of its remittance and its appeal
    deadline; a CARC or RARC not in our reference is stored as sent and flagged ``unknown_code``."""
    if not rows:
        return []
    by_practice: dict[int, list[dict]] = defaultdict(list)
    for row in rows:
        by_practice[row["practice"].pk].append(row)
    denials = []
    for practice_id, practice_rows in by_practice.items():
        causes = root_causes_for(practice_id, {row["reason_code"] for row in practice_rows})
        contracts = _appeal_limits(practice_id, {row["claim"].payer_id for row in practice_rows})
        for row in practice_rows:
            cause = causes[row["reason_code"]]
            remittance = row["remittance_claim"].remittance
            remit_date = remittance.payment_date or remittance.production_date or row["created_at"].date()
            line, claim = row.get("line"), row["claim"]
            service_date = line.service_date_from if line is not None else claim.service_date
            denials.append(
                Denial(
                    **row,
                    category=cause.category,
                    owner=cause.owner,
                    preventable=cause.preventable,
                    unknown_code=not is_known_carc(row["reason_code"])
                    or not all(is_known_rarc(code) for code in row.get("remark_codes") or []),
                    remit_date=remit_date,
                    appeal_deadline=appeal_deadline(
                        contracts.get(claim.payer_id, []), service_date, remit_date
                    ),
                    status_changed_at=row["created_at"],
                )
            )
    _uphold_denied_again(denials)
    return Denial.objects.bulk_create(denials, batch_size=1000)


def _uphold_denied_again(new: list[Denial]) -> None:
    """A denial appealed or corrected that the payer denies again (same claim and line) is upheld; the new
    denial is the one to work now. Sent letters still waiting get the outcome."""
    if not new:
        return
    keys = {(d.claim_id, d.line_id) for d in new}
    earlier = [
        d
        for d in Denial.objects.filter(
            claim_id__in={claim_id for claim_id, _ in keys}, status__in=(S.APPEALED, S.CORRECTED)
        ).order_by("pk")
        if (d.claim_id, d.line_id) in keys
    ]
    by_remit = {d.claim_id: d for d in new}
    for denial in earlier:
        record = by_remit[denial.claim_id].remittance_claim
        denials_transition(
            denials=[denial],
            to_status=S.UPHELD,
            reason=f"Denied again by a later remittance (CLP {record.patient_control_number})",
            at=by_remit[denial.claim_id].created_at,
        )
    if earlier:
        letters_settle(outcomes={d.claim_id: {S.UPHELD} for d in earlier}, at=new[0].created_at)


def denials_overturn_paid(payments: list[dict]) -> list[Denial]:
    """A later 835 pays a denied claim (called inside the posting's transaction, before its own denials
    are recorded): each unresolved denial whose line (or claim, for a claim-level denial) this payment
    pays becomes overturned, or partly overturned when insurance still owes on it, with the money
    recovered; sent appeal letters waiting on a decision get the outcome. Returns the denials moved."""
    moved: list[Denial] = []
    by_claim = {row["claim"].pk: row for row in payments}
    open_denials = list(
        Denial.objects.filter(claim_id__in=list(by_claim), status__in=UNRESOLVED)
        .exclude(remittance_claim_id__in=[row["remittance_claim"].pk for row in payments])
        .select_related("line", "claim")
        .order_by("pk")
    )
    if not open_denials:
        return moved
    balances = dict(
        ClaimLine.objects.filter(pk__in=[d.line_id for d in open_denials if d.line_id]).values_list(
            "pk", "insurance_balance"
        )
    )
    claim_balances = dict(Claim.objects.filter(pk__in=list(by_claim)).values_list("pk", "insurance_balance"))
    outcomes: dict[int, set[str]] = defaultdict(set)
    for denial in open_denials:
        row = by_claim[denial.claim_id]
        if denial.line_id is not None:
            paid = row["paid_by_line"].get(denial.line_id, ZERO)
            still_owed = balances.get(denial.line_id, ZERO) > 0
        else:
            paid = row["paid"]
            still_owed = claim_balances.get(denial.claim_id, ZERO) > 0
        if paid <= 0:
            continue
        to_status = S.PARTLY_OVERTURNED if still_owed else S.OVERTURNED
        record = row["remittance_claim"]
        moved += denials_transition(
            denials=[denial],
            to_status=to_status,
            reason=f"Paid {paid} by a later remittance (CLP {record.patient_control_number})",
            at=row["at"],
            recovered_amount=denial.recovered_amount + paid,
        )
        outcomes[denial.claim_id].add(to_status)
    for denial in open_denials:
        if denial.claim_id in outcomes and denial.pk not in {d.pk for d in moved}:
            outcomes[denial.claim_id].add(S.UPHELD)  # a denial of the claim this payment left unpaid
    if outcomes:
        letters_settle(outcomes=outcomes, at=payments[0]["at"])
    return moved


def _locked_denial(denial: Denial) -> Denial:
    return Denial.objects.select_for_update().select_related("claim").get(pk=denial.pk)


def _check_assignee(practice_id: int, assignee) -> None:
    if assignee is None:
        return
    membership = Membership.objects.filter(user=assignee, practice_id=practice_id, is_active=True).first()
    if membership is None or not role_can(membership.role, "denials.edit"):
        raise ValidationError(
            {"assignee": f"{assignee} cannot work denials in this practice."}, code="assignee"
        )


@transaction.atomic
def denials_assign(*, practice, denial_ids, assignee, user=None) -> list[Denial]:
    """Assign several denials of ``practice`` to ``assignee`` (None: unassign), all or none: an id that is
    not a denial of the practice, or an assignee who may not work denials here, refuses the whole request
    and changes nothing. A note records each assignment."""
    ids = sorted({int(i) for i in denial_ids})
    if not ids:
        raise ValidationError({"denial_ids": "Choose the denials to assign."})
    _check_assignee(practice.pk, assignee)
    found = list(Denial.objects.select_for_update().filter(practice=practice, pk__in=ids).order_by("pk"))
    missing = sorted(set(ids) - {d.pk for d in found})
    if missing:
        raise ValidationError(
            {"denial_ids": f"No denial {', '.join(map(str, missing))} in this practice; nothing assigned."}
        )
    Denial.objects.filter(pk__in=ids).update(assignee=assignee)
    now = timezone.now()
    DenialNote.objects.bulk_create(
        [
            DenialNote(
                practice_id=practice.pk,
                denial=denial,
                author=user if user is not None and user.is_authenticated else None,
                text=f"Assigned to {assignee}." if assignee else "Unassigned.",
                at=now,
            )
            for denial in found
        ]
    )
    for denial in found:
        denial.assignee = assignee
    return found


def denial_take(*, denial: Denial, user) -> Denial:
    """The signed-in biller takes a denial (assigns it to themselves)."""
    (taken,) = denials_assign(practice=denial.practice, denial_ids=[denial.pk], assignee=user, user=user)
    return taken


@transaction.atomic
def denial_take_next(*, practice, user, queryset=None) -> Denial | None:
    """The first unassigned open denial of the queue (``queryset``, already filtered and sorted; default
    the whole queue) for ``user``, skipping rows another biller is taking at this moment. None when the
    queue has nothing left to take."""
    queryset = queryset if queryset is not None else denial_queue(practice)
    candidate_ids = list(queryset.filter(assignee__isnull=True).values_list("pk", flat=True)[:50])
    for pk in candidate_ids:
        row = (
            Denial.objects.select_for_update(skip_locked=True)
            .filter(pk=pk, assignee__isnull=True, status__in=UNRESOLVED)
            .first()
        )
        if row is not None:
            return denial_take(denial=row, user=user)
    return None


def denial_review(*, denial: Denial, user=None, note: str = "") -> Denial:
    """Start working a new denial: it moves to in review (history row), taken by ``user`` if unassigned."""
    (moved,) = denials_transition(
        denials=[denial], to_status=S.IN_REVIEW, user=user, reason=note or "In review"
    )
    if moved.assignee_id is None and user is not None and user.is_authenticated:
        moved = denial_take(denial=moved, user=user)
    return moved


def denial_note_add(*, denial: Denial, user, text: str) -> DenialNote:
    text = (text or "").strip()
    if not text:
        raise ValidationError({"text": "Write the note first."}, code="blank_note")
    return DenialNote.objects.create(
        practice_id=denial.practice_id, denial=denial, author=user, text=text[:4000], at=timezone.now()
    )


def _refuse_never_adjudicated(claim: Claim, action: str) -> None:
    if claim.adjudicated_at is None or not claim.payer_claim_number:
        raise ValidationError(
            f"Claim {claim.patient_control_number} was never adjudicated by the payer (no payer claim "
            f"number): there is nothing to {action}. Fix and resubmit it as it is.",
            code="never_adjudicated",
        )


def _resubmit(claim: Claim, frequency: str, user, at, prior_authorization: str | None = None) -> Claim:
    """Turn an adjudicated claim into a replacement (7) or void (8) of itself: the payer claim number goes
    in REF*F8, the claim moves to corrected and through the scrubber, which moves it to ready (into the
    next 837P batch) when clean."""
    claim.frequency_code = frequency
    fields = ["frequency_code"]
    if prior_authorization is not None:
        claim.prior_authorization = prior_authorization.strip()[:50]
        fields.append("prior_authorization")
    claim.save(update_fields=fields)
    reason = "Corrected claim (frequency 7)" if frequency == FrequencyCode.CORRECTED else "Void (frequency 8)"
    claim_transition(claim=claim, to_status=ClaimStatus.CORRECTED, user=user, reason=reason, at=at)
    claims_scrub(queryset=Claim.objects.filter(pk=claim.pk), user=user, now=at)
    claim.refresh_from_db()
    return claim


@transaction.atomic
def denial_correct(
    *, claim: Claim, user=None, prior_authorization: str | None = None, note: str = "", at=None
) -> Claim:
    """Send a corrected claim for a denied claim: the claim becomes a frequency-7 replacement carrying the
    payer claim number (REF*F8), goes through the scrubber and, clean, into the next 837P batch; its open
    denials become corrected. ``prior_authorization`` (e.g. the auth number an authorization denial
    lacked) is put on the claim. A claim the payer never adjudicated, or one that cannot be corrected
    now, is refused and nothing changes. Lines are edited on the claim while it is corrected."""
    locked = Claim.objects.select_for_update().get(pk=claim.pk)
    _refuse_never_adjudicated(locked, "correct")
    _refuse_move(locked, ClaimStatus.CORRECTED, "corrected")
    denials = list(
        Denial.objects.filter(claim_id=locked.pk, status__in=UNRESOLVED).exclude(status=S.APPEALED)
    )
    if not denials:
        raise ValidationError(
            f"Claim {locked.patient_control_number} has no open denial to correct.", code="no_denial"
        )
    at = at or timezone.now()
    denials_transition(
        denials=denials, to_status=S.CORRECTED, user=user, reason=note or "Corrected claim sent", at=at
    )
    return _resubmit(locked, FrequencyCode.CORRECTED, user, at, prior_authorization)


@transaction.atomic
def denial_void(*, claim: Claim, reason: str, user=None, at=None) -> Claim:
    """Void a denied claim with the payer: a frequency-8 claim with the payer claim number goes out in the
    next 837P batch; the claim's open denials become voided. A blank reason, a claim never adjudicated or
    one that cannot be voided now is refused and nothing changes."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say why the claim is voided."}, code="blank_reason")
    locked = Claim.objects.select_for_update().get(pk=claim.pk)
    _refuse_never_adjudicated(locked, "void")
    _refuse_move(locked, ClaimStatus.CORRECTED, "voided")
    at = at or timezone.now()
    denials = list(
        Denial.objects.filter(claim_id=locked.pk, status__in=UNRESOLVED).exclude(status=S.APPEALED)
    )
    denials_transition(denials=denials, to_status=S.VOIDED, user=user, reason=f"Voided: {reason}", at=at)
    return _resubmit(locked, FrequencyCode.VOID, user, at)


@transaction.atomic
def rule_save(
    *, practice, reason_code: str, category: str, owner: str, preventable: bool, what_to_do: str, user=None
) -> RootCauseRule:
    """Create or change the practice's rule for one CARC (new denials read it at once). Unknown category or
    owner, or a blank code, is refused and nothing changes."""
    code = (reason_code or "").strip().upper()
    errors = {}
    if not code or len(code) > 5:
        errors["reason_code"] = "Give the CARC (1 to 5 characters)."
    if category not in dict(CATEGORY_CHOICES):
        errors["category"] = f"Unknown category {category!r}."
    if owner not in dict(OWNER_CHOICES):
        errors["owner"] = f"Unknown owner {owner!r}: one of {', '.join(dict(OWNER_CHOICES))}."
    if errors:
        raise ValidationError(errors)
    rule = RootCauseRule.objects.select_for_update().filter(practice=practice, reason_code=code).first()
    rule = rule or RootCauseRule(practice=practice, reason_code=code)
    rule.category, rule.owner, rule.preventable = category, owner, bool(preventable)
    rule.what_to_do = (what_to_do or "").strip()
    rule.updated_at, rule.updated_by = timezone.now(), user
    rule.save()
    return rule


@transaction.atomic
def rules_apply_to_open(*, practice, user=None) -> int:
    """Re-read every open denial of the practice with the current rules (category, owner, preventable).
    Returns how many denials changed."""
    denials = list(Denial.objects.select_for_update().filter(practice=practice, status__in=UNRESOLVED))
    causes = root_causes_for(practice.pk, {d.reason_code for d in denials})
    changed = []
    for denial in denials:
        cause = causes[denial.reason_code]
        new = (cause.category, cause.owner, cause.preventable)
        if (denial.category, denial.owner, denial.preventable) != new:
            denial.category, denial.owner, denial.preventable = new
            changed.append(denial)
    Denial.objects.bulk_update(changed, ["category", "owner", "preventable"], batch_size=1000)
    return len(changed)


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
    denials = list(Denial.objects.filter(claim_id=locked.pk, status__in=TO_APPEAL))
    late = [d for d in denials if d.appeal_deadline and d.appeal_deadline < timezone.localdate(at)]
    reason = note or "Appeal filed"
    if late:
        reason = f"{reason} after the deadline ({min(d.appeal_deadline for d in late):%m/%d/%Y})"
    denials_transition(denials=denials, to_status=S.APPEALED, user=user, reason=reason, at=at)
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
    appealed = list(Denial.objects.filter(claim_id=locked.pk, status=DenialStatus.APPEALED))
    if outcome == UPHELD:
        claim_transition(
            claim=locked,
            to_status=ClaimStatus.DENIED,
            user=user,
            reason=note or "Appeal upheld by the payer",
            at=at,
        )
        denials_transition(
            denials=appealed,
            to_status=S.UPHELD,
            user=user,
            reason=note or "Appeal upheld by the payer",
            at=at,
        )
        letters_settle(outcomes={locked.pk: {S.UPHELD}}, at=at)
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
    paid_by_line: dict[int, Decimal] = defaultdict(Decimal)
    for payment in payments:
        paid_by_line[payment.line.pk] += money(payment.paid)
    balances = dict(ClaimLine.objects.filter(claim_id=locked.pk).values_list("pk", "insurance_balance"))
    outcomes = set()
    for denial in appealed:
        paid = paid_by_line.get(denial.line_id, ZERO) if denial.line_id else sum(paid_by_line.values(), ZERO)
        owed = balances.get(denial.line_id, ZERO) > 0 if denial.line_id else not settled
        to_status = S.UPHELD if paid <= 0 else S.PARTLY_OVERTURNED if owed else S.OVERTURNED
        outcomes.add(to_status)
        denials_transition(
            denials=[denial],
            to_status=to_status,
            user=user,
            reason=note or "Appeal decided by the payer's decision letter",
            at=at,
            recovered_amount=denial.recovered_amount + paid,
        )

    letters_settle(outcomes={locked.pk: outcomes}, at=at)
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
    denials_transition(
        denials=denials, to_status=S.WRITTEN_OFF, user=user, reason=f"Written off: {reason}", at=at
    )
    return locked


def letters_settle(*, outcomes: dict[int, set[str]], at) -> int:
    """Record the outcome on the sent letters still waiting on one, per claim: overturned when every
    denial decided was overturned, partly overturned when some money came back, else upheld."""
    count = 0
    for claim_id, statuses in outcomes.items():
        if statuses <= {DenialStatus.OVERTURNED}:
            outcome = AppealOutcome.OVERTURNED
        elif statuses & {DenialStatus.OVERTURNED, DenialStatus.PARTLY_OVERTURNED}:
            outcome = AppealOutcome.PARTLY_OVERTURNED
        else:
            outcome = AppealOutcome.UPHELD
        count += AppealLetter.objects.filter(claim_id=claim_id, sent_on__isnull=False, outcome="").update(
            outcome=outcome, outcome_at=at
        )
    return count


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
