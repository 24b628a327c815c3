"""ERA (835) posting: match, check, post, and explain what was not posted.

Rules (DESIGN.md): claims match by CLP01, lines by REF*6R, else procedure + modifiers + date of
service, else procedure + date (the payer dropped or changed a modifier, or SVC06 names the
procedure as billed), the reason kept on each line. SVC03 is the insurance payment; CAS CO is a
contractual adjustment, or a denial when the line pays nothing and the CARC is a denial reason; PR is
a transfer to patient responsibility (1 deductible, 2 coinsurance, 3 copay); OA, PI and CR are other
adjustments. Claim-level adjustments are shared out over the claim's lines by their open insurance
balance. CLP02 = 22 reverses the earlier posting. Unbalanced, unmatched and duplicate claim payments
and reversals without an original become exceptions, never postings.

The whole remittance is planned in memory from a fixed number of reads, then written with bulk
inserts and updates, so a 10,000-claim file posts in seconds."""

import dataclasses
import datetime
from collections import defaultdict
from collections.abc import Callable
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from claims.edi.era import (
    Adjustment,
    ClaimPayment,
    RemittanceAdvice,
    ServicePayment,
    balance_problems,
    check_balance_problem,
    read_835,
)
from claims.edi.reader import X12Error
from claims.ledger import EFFECTS, Entry, ledger_post_many
from claims.models import (
    ZERO,
    Claim,
    ClaimLine,
    ClaimStatus,
    ExceptionKind,
    ExceptionStatus,
    Party,
    PatientResponsibility,
    ProviderAdjustment,
    Remittance,
    RemittanceAdjustment,
    RemittanceClaim,
    RemittanceException,
    RemittanceLine,
    RemittanceStatus,
    Transaction,
    TransactionKind,
    TransactionSource,
    X12File,
)
from claims.remittances.reason_codes import is_denial
from claims.state_machine import can_transition, claim_transition_many
from claims.underpayments.variances import tolerance, variances_recompute
from rcm.bulk import bulk_insert_rows, bulk_insert_with_ids, bulk_update_values
from rcm.models import Coverage, Payer, Provider
from rcm.practice_cache import claims_changed
from rcm.pricing import LineToPrice, PriceBook, is_facility
from rcm.templatetags.rcm_tags import money

CENT = Decimal("0.01")
RESPONSIBILITY = {
    "1": PatientResponsibility.DEDUCTIBLE,
    "2": PatientResponsibility.COINSURANCE,
    "3": PatientResponsibility.COPAY,
}
PAYER_ORDER = {"1": 1, "19": 1, "4": 1, "2": 2, "20": 2, "3": 3, "21": 3}

# Other apps act on denials without claims importing them (dependencies point one way): the denials
# app registers a handler that receives the denial rows to record, inside the posting transaction.
DENIAL_HANDLERS: list[Callable[[list[dict]], None]] = []
# The same for payments: handlers receive, for each claim payment that pays something (reversals aside),
# the claim, the CLP record, the payment by claim line and the claim's total, inside the posting
# transaction and before this posting's own denials are recorded (a later 835 paying a denied claim).
PAYMENT_HANDLERS: list[Callable[[list[dict]], None]] = []


def ref_for(remittance_claim_id: int) -> str:
    return f"remit-claim:{remittance_claim_id}"


@dataclasses.dataclass
class Plan:
    payment: ClaimPayment
    claim: Claim | None = None
    entries: list[Entry] = dataclasses.field(default_factory=list)
    line_matches: list[tuple[ServicePayment, ClaimLine | None, str]] = dataclasses.field(default_factory=list)
    denials: list[dict] = dataclasses.field(default_factory=list)
    to_status: str | None = None
    exception: tuple[str, str] | None = None
    reverses: RemittanceClaim | None = None
    reverses_planned: "Plan | None" = None
    secondary_pending: bool = False
    underpaid: Decimal = ZERO
    allowed: dict[int, tuple[Decimal | None, Decimal | None]] = dataclasses.field(default_factory=dict)
    record: RemittanceClaim | None = None


class _Context:
    """Everything the planner reads, loaded once per remittance."""

    def __init__(self, practice, advice: RemittanceAdvice, payer: Payer | None):
        self.practice, self.advice, self.payer = practice, advice, payer
        pcns = {c.patient_control_number for c in advice.claims}
        self.claims = {
            c.patient_control_number: c
            for c in Claim.objects.select_for_update()
            .filter(practice=practice, patient_control_number__in=pcns)
            .order_by("pk")
        }
        claim_ids = [c.pk for c in self.claims.values()]
        self.lines: dict[int, list[ClaimLine]] = defaultdict(list)
        for line in ClaimLine.objects.filter(claim_id__in=claim_ids, removed=False).order_by("line_number"):
            self.lines[line.claim_id].append(line)
        self.balance = {line.pk: line.insurance_balance for lines in self.lines.values() for line in lines}
        self.posted: dict[int, list[RemittanceClaim]] = defaultdict(list)
        for rc in (
            RemittanceClaim.objects.filter(claim_id__in=claim_ids, posted=True, reversed_by__isnull=True)
            .select_related("remittance")
            .order_by("pk")
        ):
            self.posted[rc.claim_id].append(rc)
        reversal_claims = [
            self.claims[c.patient_control_number].pk
            for c in advice.claims
            if c.status_code == "22" and c.patient_control_number in self.claims
        ]
        self.posted_transactions: dict[str, list[Transaction]] = defaultdict(list)
        if reversal_claims:
            for txn in Transaction.objects.filter(
                claim_id__in=reversal_claims, reversed_by__isnull=True, source=TransactionSource.REMITTANCE
            ).exclude(kind=TransactionKind.REVERSAL):
                self.posted_transactions[txn.source_reference].append(txn)
        codes = {line.procedure_code for lines in self.lines.values() for line in lines}
        self.prices = PriceBook.load(practice=practice, payer=payer, procedure_codes=codes)
        self.expected: dict[int, Decimal | None] = {}
        patient_ids = {c.patient_id for c in self.claims.values()}
        self.secondary: dict[int, list[Coverage]] = defaultdict(list)
        for coverage in Coverage.objects.filter(patient_id__in=patient_ids, priority__gte=2):
            self.secondary[coverage.patient_id].append(coverage)
        self.planned_posted: dict[int, list[Plan]] = defaultdict(list)
        self.status = {c.pk: c.status for c in self.claims.values()}


def _match_payer(practice, advice: RemittanceAdvice) -> Payer | None:
    ids = {i for i in (advice.payer_identifier, advice.payer_trace_id, advice.payer_trace_id[1:]) if i}
    payer = Payer.objects.filter(practice=practice, payer_id__in=ids).first()
    if payer is None and advice.payer_name:
        payer = Payer.objects.filter(practice=practice, name__iexact=advice.payer_name).first()
    return payer


def _check_payee(practice, advice: RemittanceAdvice) -> None:
    npis = {practice.npi} | set(Provider.objects.filter(practice=practice).values_list("npi", flat=True))
    if advice.payee_npi and advice.payee_npi in npis:
        return
    if advice.payee_tax_id and advice.payee_tax_id == practice.tax_id:
        return
    who = (
        advice.payee_npi
        and f"NPI {advice.payee_npi}"
        or advice.payee_tax_id
        and f"tax ID {advice.payee_tax_id}"
    )
    raise X12Error(
        f"This 835 pays {advice.payee_name or 'another payee'} ({who or 'no payee identifier'}), "
        f"not {practice.name}: import it in the practice it belongs to."
    )


def _match_lines(plan: Plan, lines: list[ClaimLine]) -> None:
    taken: set[int] = set()
    for service in plan.payment.services:
        found, reason = None, ""
        if service.line_control_number:
            found = next(
                (
                    ln
                    for ln in lines
                    if ln.line_control_number == service.line_control_number and ln.pk not in taken
                ),
                None,
            )
            reason = f"line control number {service.line_control_number} (REF*6R)"
        candidates = [
            ln
            for ln in lines
            if ln.pk not in taken
            and (service.service_date_from is None or ln.service_date_from == service.service_date_from)
        ]
        if found is None:
            found = next(
                (
                    ln
                    for ln in candidates
                    if ln.procedure_code == service.procedure and ln.modifiers == service.modifiers
                ),
                None,
            )
            reason = "procedure, modifiers and date of service"
        if found is None and service.original_procedure:
            found = next(
                (
                    ln
                    for ln in candidates
                    if ln.procedure_code == service.original_procedure
                    and ln.modifiers == service.original_modifiers
                ),
                None,
            )
            reason = f"procedure as billed (SVC06 {service.original_procedure}), paid as {service.procedure}"
        if found is None:
            found = next(
                (
                    ln
                    for ln in candidates
                    if ln.procedure_code in (service.procedure, service.original_procedure)
                ),
                None,
            )
            if found is not None:
                billed = "-".join([found.procedure_code, *found.modifiers])
                paid = "-".join([service.procedure, *service.modifiers])
                reason = (
                    "procedure and date of service; "
                    f"the payer changed the modifiers ({billed} billed, {paid} paid)"
                )
        if found is not None:
            taken.add(found.pk)
        plan.line_matches.append((service, found, reason if found else ""))


def _apply(plan: Plan, context: _Context, entry: Entry) -> None:
    plan.entries.append(entry)
    for bucket, sign in EFFECTS.get((entry.kind, entry.party), {}).items():
        if bucket == "insurance_balance":
            context.balance[entry.line.pk] += sign * entry.amount


def _adjustment_entry(line, adjustment: Adjustment, amount: Decimal, payer_id, effective, remarks) -> Entry:
    group, reason = adjustment.group, adjustment.reason
    common = dict(
        line=line,
        amount=amount,
        party=Party.INSURANCE,
        payer_id=payer_id,
        group_code=group,
        reason_code=reason,
        effective_date=effective,
        remark_codes=remarks,
    )
    if group == "CO":
        return Entry(kind=TransactionKind.CONTRACTUAL_ADJUSTMENT, **common)
    if group == "PR":
        return Entry(
            kind=TransactionKind.TRANSFER_TO_PATIENT,
            responsibility=RESPONSIBILITY.get(reason, PatientResponsibility.OTHER),
            **common,
        )
    return Entry(
        kind=TransactionKind.OTHER_ADJUSTMENT,
        note="prior payer's adjudication" if reason == "23" else "",
        **common,
    )


def _net(adjustments: list[Adjustment]) -> tuple[list[Adjustment], str | None]:
    """Negative adjustments are netted against positive ones of the same group; a group that nets
    below zero cannot be posted as sent."""
    if all(a.amount >= 0 for a in adjustments):
        return [a for a in adjustments if a.amount > 0], None
    result = []
    by_group: dict[str, list[Adjustment]] = defaultdict(list)
    for adjustment in adjustments:
        by_group[adjustment.group].append(adjustment)
    for group, items in by_group.items():
        total = sum((a.amount for a in items), ZERO)
        if total < 0:
            return [], (
                f"the {group} adjustments add up to {money(total)}, which cannot be posted as a reduction"
            )
        if any(a.amount < 0 for a in items):
            main = max(items, key=lambda a: a.amount)
            if total > 0:
                result.append(Adjustment(group=group, reason=main.reason, amount=total))
        else:
            result.extend(a for a in items if a.amount > 0)
    return result, None


def _share(amount: Decimal, weights: list[tuple[object, Decimal]]) -> list[tuple[object, Decimal]]:
    """Split ``amount`` by weight, in cents, the rounding remainder on the heaviest; all of it on the
    first item when no weight is positive."""
    if not weights:
        return []
    positive = [(key, max(weight, ZERO)) for key, weight in weights]
    total = sum((w for _k, w in positive), ZERO)
    if total <= 0:
        return [(positive[0][0], amount)]
    parts = [
        (key, (amount * weight / total).quantize(CENT, rounding=ROUND_HALF_UP)) for key, weight in positive
    ]
    remainder = amount - sum((p for _k, p in parts), ZERO)
    if remainder:
        index = max(range(len(parts)), key=lambda i: positive[i][1])
        parts[index] = (parts[index][0], parts[index][1] + remainder)
    return [(key, part) for key, part in parts if part]


def _allocate(amount: Decimal, lines: list[ClaimLine], context: _Context) -> list[tuple[ClaimLine, Decimal]]:
    """Share ``amount`` over lines by their open insurance balance."""
    return _share(amount, [(line, context.balance[line.pk]) for line in lines])


def _expected_allowed(context: _Context, claim: Claim, line: ClaimLine) -> Decimal | None:
    """What the contract says the line should be allowed, priced with the claim's other lines (their ranks
    decide the multiple-procedure reduction), once per claim."""
    if line.pk not in context.expected:
        lines = context.lines[claim.pk]
        prices = context.prices.price_claim(
            [
                LineToPrice(
                    procedure_code=ln.procedure_code,
                    service_date=ln.service_date_from,
                    modifiers=tuple(ln.modifiers),
                    units=ln.units,
                    charge=ln.charge,
                    facility=is_facility(claim.place_of_service),
                )
                for ln in lines
            ]
        )
        context.expected.update(
            (ln.pk, None if p is None else p.amount) for ln, p in zip(lines, prices, strict=True)
        )
    return context.expected[line.pk]


def _underpayment(
    context: _Context, line: ClaimLine, expected: Decimal | None, allowed: Decimal | None
) -> Decimal:
    """The line's shortfall beyond the tolerance of the contract in force on its date of service (the
    contract that priced it), else zero: the same rule as the variances (``variance_kind``)."""
    if expected is None or allowed is None:
        return ZERO
    contract = context.prices.contract_on(line.service_date_from)
    if contract is None:
        return ZERO
    short = expected - allowed
    return short if short > tolerance(contract, expected) else ZERO


def _plan_reversal(plan: Plan, context: _Context) -> None:
    claim = plan.claim
    in_file = [p for p in context.planned_posted[claim.pk] if p.reverses is None]
    if in_file:
        plan.exception = (
            ExceptionKind.UNPOSTABLE,
            f"Claim {claim.patient_control_number}: a reversal of a payment posted from this same file.",
        )
        return
    originals = context.posted[claim.pk]
    if not originals:
        plan.exception = (
            ExceptionKind.REVERSAL_WITHOUT_ORIGINAL,
            f"Claim {claim.patient_control_number}: the payer reverses a payment that was never posted here.",
        )
        return
    original = originals[-1]
    plan.reverses = original
    for txn in context.posted_transactions.get(ref_for(original.pk), []):
        line = next((ln for ln in context.lines[claim.pk] if ln.pk == txn.line_id), None)
        if line is None:
            line = ClaimLine.objects.get(pk=txn.line_id)
        _apply(
            plan,
            context,
            Entry(
                line=line,
                kind=TransactionKind.REVERSAL,
                amount=txn.amount,
                reverses=txn,
                effective_date=context.advice.payment_date,
                note="payer reversal (CLP02 22)",
            ),
        )
        undone = EFFECTS.get((txn.kind, txn.party), {}).get("insurance_balance", 0) * txn.amount
        context.balance[line.pk] = context.balance.get(line.pk, ZERO) - undone
    originals.remove(original)
    current = context.status[claim.pk]
    plan.to_status = ClaimStatus.ACCEPTED if current != ClaimStatus.ACCEPTED else None
    if plan.to_status and not can_transition(current, plan.to_status):
        plan.exception = (
            ExceptionKind.UNPOSTABLE,
            f"Claim {claim.patient_control_number} is {ClaimStatus(current).label.lower()}: "
            "a payer reversal cannot be applied to it.",
        )


@dataclasses.dataclass
class LineItem:
    """One service line of a payment, matched to its claim line, with what is posted on it."""

    service: ServicePayment
    line: ClaimLine
    payment: Decimal  # SVC03, less the line's share of the claim-level adjustments
    adjustments: list[Adjustment]  # the line's CAS netted, then its share of the claim-level CAS
    denies: bool  # the line pays nothing and carries a denial CARC
    remarks: list[str]


@dataclasses.dataclass
class PaymentPosting:
    """What the steps planning one payment share: who pays, at which level, dated when, and what the
    steps found on the way (a denial, a transfer to the patient)."""

    payer_id: int | None
    effective_date: datetime.date | None
    payer_level: int  # 1 primary, 2 secondary, 3 tertiary: PAYER_ORDER of CLP02
    denied_any: bool = False
    transferred: Decimal = ZERO  # moved to patient responsibility (CAS PR)


def _payer_level(plan: Plan) -> int | None:
    """Status: CLP02 1/2/3 (paid), 4 (denied) and 19/20/21 (forwarded) name the payer's level; any other
    code (but 22, planned by ``_plan_reversal``) is not posted automatically: an exception."""
    level = PAYER_ORDER.get(plan.payment.status_code)
    if level is None:
        plan.exception = (
            ExceptionKind.UNPOSTABLE,
            f"Claim {plan.claim.patient_control_number}: claim status code {plan.payment.status_code} "
            "(not a payment, denial or reversal) is not posted automatically.",
        )
    return level


def _reprocessed_after_denial(plan: Plan, earlier: list) -> bool:
    """A claim the payer denied (every earlier payment at this level paid nothing) and that was since
    appealed or sent again as a corrected claim (frequency 7), or that the payer now pays: the payer
    reprocessed it (an appeal decided, a corrected claim adjudicated), so this is not a duplicate."""
    paid_before = [rc.paid if isinstance(rc, RemittanceClaim) else rc.payment.paid for rc in earlier]
    if any(paid != 0 for paid in paid_before):
        return False
    claim = plan.claim
    return (
        plan.payment.paid > 0
        or claim.status == ClaimStatus.APPEALED
        or (claim.frequency_code == "7" and claim.status in (ClaimStatus.SUBMITTED, ClaimStatus.ACCEPTED))
    )


def _check_not_duplicate(plan: Plan, context: _Context, payer_level: int) -> bool:
    """Exceptions: "a second payment of a claim at the same payer level (duplicate)", posted before or
    earlier in the same file, is not posted. False when it is one."""
    claim = plan.claim
    earlier = [rc for rc in context.posted[claim.pk] if PAYER_ORDER.get(rc.status_code) == payer_level] + [
        p
        for p in context.planned_posted[claim.pk]
        if PAYER_ORDER.get(p.payment.status_code) == payer_level and p.reverses is None
    ]
    if earlier and _reprocessed_after_denial(plan, earlier):
        return True
    if earlier:
        plan.exception = (
            ExceptionKind.DUPLICATE,
            f"Claim {claim.patient_control_number} already has a posted payment from this payer "
            "at this level; this one was not posted.",
        )
        return False
    return True


def _match_and_net_lines(plan: Plan, context: _Context) -> list[LineItem] | None:
    """Matching 2 and 3: each service line matched to a claim line (``_match_lines``); a payment with a
    line that matches none is an exception. Posting, "Negative CAS amounts are netted against the same
    group on the line": a group that nets below zero is an exception too. None on an exception."""
    claim = plan.claim
    _match_lines(plan, context.lines[claim.pk])
    unmatched = [service for service, line, _reason in plan.line_matches if line is None]
    if unmatched:
        described = ", ".join(
            f"{s.procedure}{''.join('-' + m for m in s.modifiers)} on "
            f"{f'{s.service_date_from:%m/%d/%Y}' if s.service_date_from else 'an unknown date'}"
            for s in unmatched
        )
        plan.exception = (
            ExceptionKind.UNMATCHED_LINE,
            f"Claim {claim.patient_control_number}: no line of the claim matches {described}.",
        )
        return None
    items = []
    for service, line, _reason in plan.line_matches:
        adjustments, problem = _net(service.adjustments)
        if problem:
            plan.exception = (
                ExceptionKind.UNPOSTABLE,
                f"Claim {claim.patient_control_number}, line {line.line_number}: {problem}.",
            )
            return None
        items.append(
            LineItem(
                service=service,
                line=line,
                payment=service.paid,
                adjustments=adjustments,
                denies=service.paid == 0 and any(is_denial(a.group, a.reason) for a in adjustments),
                remarks=list(service.remarks),
            )
        )
    return items


def _net_claim_adjustments(plan: Plan) -> list[Adjustment] | None:
    """Posting, "Negative CAS amounts are netted against the same group", for the claim-level CAS; a
    group that nets below zero is an exception (None)."""
    adjustments, problem = _net(plan.payment.adjustments)
    if problem:
        plan.exception = (ExceptionKind.UNPOSTABLE, f"Claim {plan.claim.patient_control_number}: {problem}.")
        return None
    return adjustments


def _denial(line: ClaimLine | None, adjustment: Adjustment, remarks: list[str]) -> dict:
    """A denial row for the denials app (``DENIAL_HANDLERS``); ``line`` None for a claim-level one."""
    return dict(
        line=line,
        group_code=adjustment.group,
        reason_code=adjustment.reason,
        remark_codes=remarks,
        amount=adjustment.amount,
    )


def _prior_payer_share_last(adjustment: Adjustment) -> bool:
    """Sort key: OA-23 (the prior payer's share) after the other adjustments, so it sees what they
    left open."""
    return adjustment.reason == "23"


def _spread_claim_adjustments(
    plan: Plan, items: list[LineItem], claim_adjustments: list[Adjustment], posting: PaymentPosting
) -> bool:
    """Posting, "Claim-level CAS on a claim with service lines takes its amount out of the line payments
    (CLP04 = ΣSVC03 − claim CAS), shared by payment, and is posted as that adjustment on the same lines";
    a claim-level denial CARC when no line pays anything is a denial record instead. Adjustments larger
    than the payments they reduce are an exception (False)."""
    claim_remarks = list(plan.payment.remarks)
    for adjustment in claim_adjustments:
        if all(item.payment <= 0 for item in items) and is_denial(adjustment.group, adjustment.reason):
            posting.denied_any = True
            plan.denials.append(_denial(None, adjustment, claim_remarks))
            continue
        for item, part in _share(adjustment.amount, [(item, item.payment) for item in items]):
            item.payment -= part
            item.adjustments.append(Adjustment(group=adjustment.group, reason=adjustment.reason, amount=part))
    if any(item.payment < 0 and item.service.paid >= 0 for item in items):
        plan.exception = (
            ExceptionKind.UNPOSTABLE,
            f"Claim {plan.claim.patient_control_number}: the claim-level adjustments are larger than the "
            "line payments they reduce.",
        )
        return False
    return True


def _post_line_payments(
    plan: Plan, context: _Context, items: list[LineItem], posting: PaymentPosting
) -> None:
    """Posting, "SVC03 is the insurance payment (a negative one is posted as a refund to the payer)": what
    is left of it after the claim-level adjustments."""
    for item in items:
        if item.payment > 0:
            _apply(
                plan,
                context,
                Entry(
                    line=item.line,
                    kind=TransactionKind.INSURANCE_PAYMENT,
                    amount=item.payment,
                    payer_id=posting.payer_id,
                    effective_date=posting.effective_date,
                    remark_codes=item.remarks,
                ),
            )
        elif item.payment < 0:
            _apply(
                plan,
                context,
                Entry(
                    line=item.line,
                    kind=TransactionKind.REFUND,
                    amount=-item.payment,
                    payer_id=posting.payer_id,
                    effective_date=posting.effective_date,
                    note="negative payment on the remittance",
                ),
            )


def _post_line_adjustments(
    plan: Plan, context: _Context, items: list[LineItem], posting: PaymentPosting
) -> None:
    """Posting, "CAS by group" (``_adjustment_entry``): CO contractual, PR a transfer to the patient, OA, PI
    and CR other; a denial CARC on a line that pays nothing posts nothing and becomes a denial record.
    "OA-23 ... is posted only up to what is still open on the insurance side", after the others."""
    for item in items:
        line = item.line
        for adjustment in sorted(item.adjustments, key=_prior_payer_share_last):
            if item.denies and is_denial(adjustment.group, adjustment.reason):
                posting.denied_any = True
                plan.denials.append(_denial(line, adjustment, item.remarks))
                continue
            amount = adjustment.amount
            if adjustment.reason == "23" and adjustment.group == "OA":
                # The prior payer's share: only what is still open here (the primary may be posted already).
                amount = min(amount, max(context.balance[line.pk], ZERO))
                if amount <= 0:
                    continue
            if adjustment.group == "PR":
                posting.transferred += amount
            _apply(
                plan,
                context,
                _adjustment_entry(
                    line, adjustment, amount, posting.payer_id, posting.effective_date, item.remarks
                ),
            )


def _compare_with_contract(
    plan: Plan, context: _Context, items: list[LineItem], posting: PaymentPosting
) -> None:
    """Posting, "Payer allowed per line is AMT*B6 when sent, else paid + patient responsibility. It is
    compared with the contract": a primary's shortfall beyond tolerance adds to the underpaid amount."""
    claim = plan.claim
    for item in items:
        service, line = item.service, item.line
        pr = sum((a.amount for a in service.adjustments if a.group == "PR"), ZERO)
        allowed = service.allowed if service.allowed is not None else service.paid + pr
        expected = _expected_allowed(context, claim, line)
        plan.allowed[id(service)] = (allowed, expected)
        if posting.payer_level == 1 and service.paid > 0:
            plan.underpaid += _underpayment(context, line, expected, allowed)


def _post_claim_without_lines(
    plan: Plan, context: _Context, claim_adjustments: list[Adjustment], posting: PaymentPosting
) -> None:
    """Posting, "A claim without service lines has its payment and adjustments shared over the claim's
    lines by open insurance balance" (``_allocate``; CLP03 − claim CAS = CLP04). A denial CARC when the
    claim pays nothing is a denial record; OA-23 only up to what is still open."""
    payment = plan.payment
    lines = context.lines[plan.claim.pk]
    claim_remarks = list(payment.remarks)
    paid = payment.paid - payment.interest
    if paid > 0:
        for line, part in _allocate(paid, lines, context):
            _apply(
                plan,
                context,
                Entry(
                    line=line,
                    kind=TransactionKind.INSURANCE_PAYMENT,
                    amount=part,
                    payer_id=posting.payer_id,
                    effective_date=posting.effective_date,
                    note="claim-level payment shared over the lines",
                ),
            )
    for adjustment in sorted(claim_adjustments, key=_prior_payer_share_last):
        if paid == 0 and is_denial(adjustment.group, adjustment.reason):
            posting.denied_any = True
            plan.denials.append(_denial(None, adjustment, claim_remarks))
            continue
        amount = adjustment.amount
        if adjustment.reason == "23" and adjustment.group == "OA":
            amount = min(amount, max(sum((context.balance[ln.pk] for ln in lines), ZERO), ZERO))
        if adjustment.group == "PR":
            posting.transferred += amount
        for line, part in _allocate(amount, lines, context):
            _apply(
                plan,
                context,
                _adjustment_entry(
                    line, adjustment, part, posting.payer_id, posting.effective_date, claim_remarks
                ),
            )


def _next_status(plan: Plan, context: _Context, posting: PaymentPosting) -> None:
    """Status: CLP02 4 denied; 19/20/21 forwarded; 1/2/3 paid, or partially paid when some line was denied,
    or denied when nothing was paid. A primary payment that leaves patient responsibility on a patient with
    active secondary coverage moves the claim to forwarded, "secondary pending". A move the claim's state
    machine refuses is an exception."""
    payment, claim = plan.payment, plan.claim
    paid_any = payment.paid - payment.interest > 0
    current = context.status[claim.pk]
    if payment.status_code == "4":
        plan.to_status = ClaimStatus.DENIED
    elif payment.status_code in ("19", "20", "21"):
        plan.to_status = ClaimStatus.FORWARDED
    elif posting.denied_any:
        plan.to_status = ClaimStatus.PARTIALLY_PAID if paid_any else ClaimStatus.DENIED
    else:
        plan.to_status = ClaimStatus.PAID
    if (
        posting.payer_level == 1
        and posting.transferred > 0
        and plan.to_status in (ClaimStatus.PAID, ClaimStatus.PARTIALLY_PAID)
    ):
        # The patient's share goes to the secondary coverage first: the claim moves on to it.
        plan.secondary_pending = any(
            c.is_active_on(claim.service_date) for c in context.secondary[claim.patient_id]
        )
        if plan.secondary_pending:
            plan.to_status = ClaimStatus.FORWARDED
    if plan.to_status == current:
        plan.to_status = None
    elif not can_transition(current, plan.to_status):
        plan.exception = (
            ExceptionKind.UNPOSTABLE,
            f"Claim {claim.patient_control_number} is {ClaimStatus(current).label.lower()}: "
            f"it cannot become {ClaimStatus(plan.to_status).label.lower()} from this remittance.",
        )


def _plan_payment(plan: Plan, context: _Context) -> None:
    """Plan a payment, denial or forward (any CLP02 but 22) of a matched claim, in the order of
    docs/era-posting.md: each step names the rule it implements. The first step that finds the payment
    cannot be posted as sent records the exception and planning stops."""
    payer_level = _payer_level(plan)
    if payer_level is None or not _check_not_duplicate(plan, context, payer_level):
        return
    items = _match_and_net_lines(plan, context)
    if items is None:
        return
    claim_adjustments = _net_claim_adjustments(plan)
    if claim_adjustments is None:
        return
    posting = PaymentPosting(
        payer_id=context.payer.pk if context.payer else None,
        effective_date=context.advice.payment_date or context.advice.production_date,
        payer_level=payer_level,
    )
    if items:
        if not _spread_claim_adjustments(plan, items, claim_adjustments, posting):
            return
        _post_line_payments(plan, context, items, posting)
        _post_line_adjustments(plan, context, items, posting)
        _compare_with_contract(plan, context, items, posting)
    else:
        _post_claim_without_lines(plan, context, claim_adjustments, posting)
    _next_status(plan, context, posting)


def plan_claim(
    payment: ClaimPayment,
    context: _Context,
    *,
    forced_claim: Claim | None = None,
    skip_balance: bool = False,
    skip_duplicate: bool = False,
) -> Plan:
    plan = Plan(payment=payment)
    problems = [] if skip_balance else balance_problems(payment)
    if problems:
        plan.exception = (
            ExceptionKind.UNBALANCED,
            f"Claim {payment.patient_control_number}: " + "; ".join(problems) + ".",
        )
        return plan
    if forced_claim is not None:  # the copy read under lock, so its values are current
        plan.claim = context.claims.get(forced_claim.patient_control_number, forced_claim)
    else:
        plan.claim = context.claims.get(payment.patient_control_number)
    if plan.claim is None:
        plan.exception = (
            ExceptionKind.UNMATCHED,
            f"No claim {payment.patient_control_number} in this practice "
            f"(payer claim number {payment.payer_claim_number or 'none'}, charge {money(payment.charge)}).",
        )
        return plan
    if payment.status_code == "22":
        _plan_reversal(plan, context)
    else:
        if skip_duplicate:
            context.posted[plan.claim.pk] = []
        _plan_payment(plan, context)
    if plan.exception is None:
        context.planned_posted[plan.claim.pk].append(plan)
        if plan.to_status:
            context.status[plan.claim.pk] = plan.to_status
    else:
        plan.entries, plan.denials = [], []
    return plan


def _raw(payment: ClaimPayment) -> dict:
    def convert(value):
        if isinstance(value, Decimal):
            return str(value)
        if isinstance(value, datetime.date):
            return value.isoformat()
        if isinstance(value, list):
            return [convert(v) for v in value]
        if isinstance(value, dict):
            return {k: convert(v) for k, v in value.items()}
        return value

    return convert(dataclasses.asdict(payment))


def _from_raw(raw: dict) -> ClaimPayment:
    def adjustment(a):
        return Adjustment(
            group=a["group"], reason=a["reason"], amount=Decimal(a["amount"]), quantity=a["quantity"]
        )

    def day(value):
        return datetime.date.fromisoformat(value) if value else None

    services = [
        ServicePayment(
            procedure=s["procedure"],
            modifiers=s["modifiers"],
            charge=Decimal(s["charge"]),
            paid=Decimal(s["paid"]),
            units=Decimal(s["units"]),
            original_procedure=s["original_procedure"],
            original_modifiers=s["original_modifiers"],
            service_date_from=day(s["service_date_from"]),
            service_date_to=day(s["service_date_to"]),
            line_control_number=s["line_control_number"],
            allowed=Decimal(s["allowed"]) if s["allowed"] else None,
            adjustments=[adjustment(a) for a in s["adjustments"]],
            remarks=s["remarks"],
            position=s["position"],
        )
        for s in raw["services"]
    ]
    return ClaimPayment(
        patient_control_number=raw["patient_control_number"],
        status_code=raw["status_code"],
        charge=Decimal(raw["charge"]),
        paid=Decimal(raw["paid"]),
        patient_responsibility=Decimal(raw["patient_responsibility"]),
        payer_claim_number=raw["payer_claim_number"],
        frequency_code=raw["frequency_code"],
        patient_name=raw["patient_name"],
        member_id=raw["member_id"],
        interest=Decimal(raw["interest"]),
        statement_from=day(raw["statement_from"]),
        statement_to=day(raw["statement_to"]),
        adjustments=[adjustment(a) for a in raw["adjustments"]],
        services=services,
        remarks=raw["remarks"],
        position=raw["position"],
    )


def _write(plans: list[Plan], remittance: Remittance, user, now, context: "_Context") -> None:
    """Write the planned postings: remittance rows, ledger, statuses, denials, claim flags."""
    records = bulk_insert_with_ids(
        RemittanceClaim,
        [
            RemittanceClaim(
                remittance=remittance,
                claim=plan.claim,
                patient_control_number=plan.payment.patient_control_number[:38],
                status_code=plan.payment.status_code,
                charge=plan.payment.charge,
                paid=plan.payment.paid,
                patient_responsibility=plan.payment.patient_responsibility,
                interest=plan.payment.interest,
                payer_claim_number=plan.payment.payer_claim_number[:50],
                posted=plan.exception is None,
                remarks=plan.payment.remarks,
                position=plan.payment.position,
                raw=_raw(plan.payment)
                if plan.exception is not None
                else {},  # kept to post the exception later
            )
            for plan in plans
        ],
    )
    line_rows, adjustment_rows = [], []
    for plan, record in zip(plans, records, strict=True):
        plan.record = record
        matches = plan.line_matches or [(s, None, "") for s in plan.payment.services]
        for service, line, reason in matches:
            allowed, expected = plan.allowed.get(id(service), (service.allowed, None))
            row = RemittanceLine(
                remittance_claim=record,
                claim_line=line,
                procedure_code=service.procedure[:8],
                modifiers=service.modifiers,
                charge=service.charge,
                paid=service.paid,
                allowed=allowed,
                expected_allowed=expected,
                units=service.units,
                service_date=service.service_date_from,
                match_reason=reason[:120],
                remarks=service.remarks,
            )
            line_rows.append((row, service))
        for adjustment in plan.payment.adjustments:
            adjustment_rows.append(
                {
                    "remittance_claim_id": record.pk,
                    "remittance_line_id": None,
                    "group_code": adjustment.group,
                    "reason_code": adjustment.reason,
                    "amount": adjustment.amount,
                    "quantity": adjustment.quantity[:15],
                }
            )
    bulk_insert_with_ids(RemittanceLine, [row for row, _s in line_rows])
    for row, service in line_rows:
        for adjustment in service.adjustments:
            adjustment_rows.append(
                {
                    "remittance_claim_id": row.remittance_claim_id,
                    "remittance_line_id": row.pk,
                    "group_code": adjustment.group,
                    "reason_code": adjustment.reason,
                    "amount": adjustment.amount,
                    "quantity": adjustment.quantity[:15],
                }
            )
    bulk_insert_rows(RemittanceAdjustment, adjustment_rows)

    posted = [plan for plan in plans if plan.exception is None]
    _apply_plans(
        posted,
        remittance,
        user,
        now,
        context,
        reason=f"ERA {remittance.payer_name} {remittance.trace_number}",
    )


def _apply_plans(
    posted: list[Plan], remittance: Remittance, user, now, context: "_Context", *, reason: str
) -> None:
    """Everything posting the planned claims does besides the remittance rows: the ledger, the reversal
    links, the status moves, the claim flags and the denials. Used by the import and by an exception
    posted by hand."""
    ledger_post_many(
        postings=[(plan.claim, plan.entries, ref_for(plan.record.pk)) for plan in posted],
        user=user,
        source=TransactionSource.REMITTANCE,
        posted_at=now,
        need_ids=False,
        preloaded=(
            {c.pk: c for c in context.claims.values()},
            {line.pk: line for lines in context.lines.values() for line in lines},
        ),
    )
    for plan in posted:
        if plan.reverses is not None:
            RemittanceClaim.objects.filter(pk=plan.reverses.pk).update(reversed_by=plan.record)
    # Status moves in file order: a claim reversed and corrected in one file moves twice, in turn.
    waves: list[dict[str, list[int]]] = []
    moves_so_far: dict[int, int] = defaultdict(int)
    for plan in posted:
        if plan.to_status:
            wave = moves_so_far[plan.claim.pk]
            moves_so_far[plan.claim.pk] += 1
            if wave == len(waves):
                waves.append(defaultdict(list))
            waves[wave][plan.to_status].append(plan.claim.pk)
    for wave in waves:
        for to_status, claim_ids in wave.items():
            claim_transition_many(claim_ids=claim_ids, to_status=to_status, user=user, at=now, reason=reason)
    changed = {}
    for plan in posted:
        claim = plan.claim
        if plan.payment.payer_claim_number and not claim.payer_claim_number:
            claim.payer_claim_number = plan.payment.payer_claim_number[:50]
            changed[claim.pk] = claim
        if plan.secondary_pending:
            claim.secondary_pending = True
            changed[claim.pk] = claim
        if plan.underpaid:
            claim.underpaid_amount += plan.underpaid
            changed[claim.pk] = claim
    # The claims were read under lock at the start of this transaction, so these values are current.
    bulk_update_values(
        Claim, list(changed.values()), ["payer_claim_number", "secondary_pending", "underpaid_amount"]
    )
    # Each posted line's variance against its contract, and the claim's underpayment found or recovered.
    variances_recompute(claim_ids=[plan.claim.pk for plan in posted], now=now, user=user)
    claims_changed([remittance.practice_id])
    denials = [
        dict(
            practice=remittance.practice,
            claim=plan.claim,
            remittance_claim=plan.record,
            created_at=now,
            **denial,
        )
        for plan in posted
        for denial in plan.denials
    ]
    payments = [
        dict(
            claim=plan.claim,
            remittance_claim=plan.record,
            paid=plan.payment.paid,
            paid_by_line={
                line.pk: service.paid for service, line, _reason in plan.line_matches if line is not None
            },
            at=now,
        )
        for plan in posted
        if plan.payment.paid > 0 and plan.payment.status_code != "22"
    ]
    if payments:
        for handler in PAYMENT_HANDLERS:
            handler(payments)
    if denials:
        for handler in DENIAL_HANDLERS:
            handler(denials)


def remittance_post(
    *, practice, advice: RemittanceAdvice, x12_file: X12File, user=None, now=None
) -> Remittance:
    """Post one remittance advice (inside the import's transaction): see the module docstring. ``now``
    (default: the current time) dates what it writes."""
    _check_payee(practice, advice)
    payer_identifier = advice.payer_trace_id or advice.payer_identifier or advice.payer_name
    earlier = (
        Remittance.objects.filter(
            practice=practice, payer_identifier=payer_identifier, trace_number=advice.trace_number
        )
        .select_related("x12_file")
        .first()
    )
    if earlier is not None and earlier.x12_file_id == x12_file.pk:
        raise X12Error(
            f"This file holds payment {advice.trace_number} from {advice.payer_name or payer_identifier} "
            "twice (the same payment trace number, TRN02): a payment is posted once, so the file is refused."
        )
    if earlier is not None:
        raise X12Error(
            f"Payment {advice.trace_number} from {advice.payer_name or payer_identifier} "
            f"was already posted from {earlier.x12_file.file_name} "
            f"on {timezone.localtime(earlier.received_at):%m/%d/%Y}; it is not posted twice."
        )
    payer = _match_payer(practice, advice)
    now = now or timezone.now()
    context = _Context(practice, advice, payer)
    plans = [plan_claim(payment, context) for payment in advice.claims]
    remittance = Remittance.objects.create(
        practice=practice,
        x12_file=x12_file,
        payer=payer,
        payer_name=advice.payer_name[:120],
        payer_identifier=payer_identifier[:50],
        trace_number=advice.trace_number[:50],
        handling_code=advice.handling_code[:2],
        payment_method=advice.payment_method[:3],
        payment_amount=advice.payment_amount,
        payment_date=advice.payment_date or advice.production_date,
        production_date=advice.production_date,
        payee_name=advice.payee_name[:120],
        payee_npi=advice.payee_npi[:10],
        payee_tax_id=advice.payee_tax_id[:20],
        received_at=now,
        claim_count=len(plans),
        interest=sum((p.interest for p in advice.claims), ZERO),
        provider_adjustment_total=sum((p.amount for p in advice.provider_adjustments), ZERO),
    )
    ProviderAdjustment.objects.bulk_create(
        [
            ProviderAdjustment(
                remittance=remittance,
                provider_identifier=p.provider_identifier[:50],
                fiscal_period_date=p.fiscal_period_date,
                reason_code=p.reason[:3],
                reference=p.reference[:50],
                amount=p.amount,
            )
            for p in advice.provider_adjustments
        ]
    )
    _write(plans, remittance, user, now, context)
    exceptions = [
        RemittanceException(
            practice=practice,
            remittance=remittance,
            remittance_claim=plan.record,
            kind=plan.exception[0],
            message=plan.exception[1],
            created_at=now,
        )
        for plan in plans
        if plan.exception is not None
    ]
    check_problem = check_balance_problem(advice)
    if check_problem:
        exceptions.append(
            RemittanceException(
                practice=practice,
                remittance=remittance,
                kind=ExceptionKind.CHECK_UNBALANCED,
                created_at=now,
                message=f"Payment {advice.trace_number}: {check_problem}.",
            )
        )
    RemittanceException.objects.bulk_create(exceptions)
    remittance.posted_payments = sum((p.payment.paid for p in plans if p.exception is None), ZERO)
    remittance.exception_count = len(exceptions)
    remittance.status = RemittanceStatus.EXCEPTIONS if exceptions else RemittanceStatus.POSTED
    remittance.save(update_fields=["posted_payments", "exception_count", "status"])
    return remittance


def _apply_835(*, practice, interchanges, x12_file: X12File, user, now=None) -> dict:
    counts = {"remittances": 0, "claims_posted": 0, "exceptions": 0}
    for interchange in interchanges:
        for ts in interchange.transactions():
            advice = read_835(ts, interchange.delimiters)
            x12_file.warnings = list(x12_file.warnings) + advice.warnings
            remittance = remittance_post(
                practice=practice, advice=advice, x12_file=x12_file, user=user, now=now
            )
            counts["remittances"] += 1
            counts["claims_posted"] += remittance.claim_count - sum(
                1 for _ in remittance.exceptions.exclude(kind=ExceptionKind.CHECK_UNBALANCED)
            )
            counts["exceptions"] += remittance.exception_count
    if x12_file.warnings:
        X12File.objects.filter(pk=x12_file.pk).update(warnings=x12_file.warnings)
    return counts


@transaction.atomic
def exception_resolve(
    *, exception: RemittanceException, action: str, user, note: str = "", claim: Claim | None = None
) -> RemittanceException:
    """Resolve an open exception: ``post`` it (for an unmatched payment, against the claim the biller
    chose; an unbalanced or duplicate one only because the biller says so) or ``dismiss`` it with a reason."""
    exception = RemittanceException.objects.select_for_update().get(pk=exception.pk)
    if exception.status != ExceptionStatus.OPEN:
        raise ValidationError("This exception was already resolved.")
    if action == "dismiss":
        if not note.strip():
            raise ValidationError({"note": "Say why the exception is dismissed."})
        exception.status = ExceptionStatus.DISMISSED
    elif action == "post":
        record = exception.remittance_claim
        if record is None:
            raise ValidationError("A check-level exception has nothing to post; dismiss it with a note.")
        if claim is not None and claim.practice_id != exception.practice_id:
            raise ValidationError({"claim": "The claim belongs to another practice."})
        payment = _from_raw(record.raw)
        remittance = exception.remittance
        advice = RemittanceAdvice(
            control_number="",
            handling_code=remittance.handling_code,
            payment_amount=remittance.payment_amount,
            payment_method=remittance.payment_method,
            payment_date=remittance.payment_date,
            trace_number=remittance.trace_number,
            payer_trace_id=remittance.payer_identifier,
            payer_name=remittance.payer_name,
            claims=[payment],
        )
        if claim is not None and claim.patient_control_number != payment.patient_control_number:
            problems = balance_problems(payment)
            if problems:
                raise ValidationError(
                    f"Claim {payment.patient_control_number}: " + "; ".join(problems) + ". "
                    "The payment does not balance: it can be posted as sent only to the claim it names."
                )
            payment.patient_control_number = claim.patient_control_number
        context = _Context(exception.practice, advice, remittance.payer)
        plan = plan_claim(
            payment,
            context,
            forced_claim=claim,
            skip_balance=exception.kind == ExceptionKind.UNBALANCED,
            skip_duplicate=exception.kind == ExceptionKind.DUPLICATE,
        )
        if plan.exception is not None:
            raise ValidationError(plan.exception[1])
        plan.record = record
        now = timezone.now()
        RemittanceClaim.objects.filter(pk=record.pk).update(claim=plan.claim, posted=True)
        record.claim, record.posted = plan.claim, True
        for service, line, reason in plan.line_matches:
            RemittanceLine.objects.filter(
                remittance_claim=record, procedure_code=service.procedure[:8], claim_line__isnull=True
            ).filter(Q(service_date=service.service_date_from) | Q(service_date__isnull=True)).update(
                claim_line=line, match_reason=reason[:120]
            )
        _apply_plans(
            [plan],
            remittance,
            user,
            now,
            context,
            reason=f"ERA {remittance.payer_name} {remittance.trace_number} (posted by hand)",
        )
        exception.status = ExceptionStatus.POSTED
        Remittance.objects.filter(pk=remittance.pk).update(
            posted_payments=F("posted_payments") + payment.paid
        )
    else:
        raise ValidationError(f"Unknown action {action!r}: post or dismiss.")
    exception.resolved_at, exception.resolved_by = timezone.now(), user
    exception.resolution_note = note.strip()[:255]
    exception.save(update_fields=["status", "resolved_at", "resolved_by", "resolution_note"])
    if not RemittanceException.objects.filter(
        remittance_id=exception.remittance_id, status=ExceptionStatus.OPEN
    ).exists():
        Remittance.objects.filter(pk=exception.remittance_id).update(status=RemittanceStatus.POSTED)
    return exception


@transaction.atomic
def exceptions_dismiss(*, practice, exception_ids, user, note: str) -> list[RemittanceException]:
    """Dismiss several open exceptions of ``practice`` with one reason, all or none: an id that is not an
    exception of the practice, one already resolved, or an empty reason refuses the whole request and
    changes nothing. Remittances left with no open exception count as posted. Returns the dismissed."""
    note = (note or "").strip()
    ids = sorted({int(i) for i in exception_ids})
    if not ids:
        raise ValidationError({"exception_ids": "Choose the exceptions to dismiss."})
    if not note:
        raise ValidationError({"note": "Say why the exceptions are dismissed."})
    found = list(
        RemittanceException.objects.select_for_update().filter(practice=practice, pk__in=ids).order_by("pk")
    )
    missing = sorted(set(ids) - {e.pk for e in found})
    if missing:
        raise ValidationError(
            {
                "exception_ids": f"No exception {', '.join(map(str, missing))} in this practice; "
                "nothing dismissed."
            }
        )
    resolved = [e.pk for e in found if e.status != ExceptionStatus.OPEN]
    if resolved:
        raise ValidationError(
            {
                "exception_ids": f"Exception {', '.join(map(str, resolved))} "
                f"{'was' if len(resolved) == 1 else 'were'} already resolved; nothing dismissed."
            }
        )
    now = timezone.now()
    for exception in found:
        exception.status, exception.resolved_at, exception.resolved_by = ExceptionStatus.DISMISSED, now, user
        exception.resolution_note = note[:255]
    RemittanceException.objects.bulk_update(
        found, ["status", "resolved_at", "resolved_by", "resolution_note"]
    )
    remittance_ids = {e.remittance_id for e in found}
    still_open = set(
        RemittanceException.objects.filter(
            remittance_id__in=remittance_ids, status=ExceptionStatus.OPEN
        ).values_list("remittance_id", flat=True)
    )
    Remittance.objects.filter(pk__in=remittance_ids - still_open).update(status=RemittanceStatus.POSTED)
    return found
