"""Reads of the Payment plans app: the patient account (what the patient owes after insurance, by claim
and line with the reason, payments, credits, refunds, statements and every message sent), and the
practice's collections settings.

``ACCOUNT_MESSAGE_SOURCES`` is the hook through which other parts of the app (payment-plan reminders)
add what they sent to the patient: each source is ``callable(patient) -> list[SentItem]``.
"""

import dataclasses
import datetime
from collections import defaultdict
from decimal import Decimal

from django.db.models import Count, DecimalField, Q, Sum, Value
from django.db.models.functions import Coalesce

from claims.models import (
    Claim,
    ClaimLine,
    ClaimStatus,
    Party,
    PatientResponsibility,
    Transaction,
    TransactionKind,
)
from payment_plans.models import (
    AccountHold,
    AccountNote,
    CollectionsSettings,
    CreditRefund,
    PatientPayment,
    Statement,
    StatementRun,
)

ZERO = Decimal("0.00")


def patient_owed() -> Coalesce:
    """What a patient owes, as an annotation on ``Patient``: the patient balances of their claims that are
    owed (above zero; a credit is not netted against another claim) and not voided."""
    return Coalesce(
        Sum(
            "claims__patient_balance",
            filter=Q(claims__patient_balance__gt=0) & ~Q(claims__status=ClaimStatus.VOIDED),
        ),
        Value(ZERO),
        output_field=DecimalField(max_digits=14, decimal_places=2),
    )


K = TransactionKind

# CARCs that mean "not covered" when the payer leaves them to the patient (PR group).
NON_COVERED_CARCS = frozenset({"49", "50", "96", "119", "149", "167", "170", "204", "242", "B7", "N130"})

REASON_LABELS = {
    "deductible": "Deductible",
    "coinsurance": "Coinsurance",
    "copay": "Copay",
    "non_covered": "Not covered by the plan",
    "other": "Other patient responsibility",
    "self_pay": "Self-pay (no insurance billed)",
}


@dataclasses.dataclass
class SentItem:
    """Something sent to the patient: a statement, a reminder email or text..."""

    at: datetime.datetime
    kind: str
    channel: str
    summary: str
    statement_id: int | None = None


ACCOUNT_MESSAGE_SOURCES: list = []


def collections_settings(practice) -> CollectionsSettings:
    """The practice's statement and collections settings (the defaults until the manager edits them)."""
    found = CollectionsSettings.objects.filter(practice=practice).first()
    return found or CollectionsSettings(practice=practice)


def _reason_key(txn) -> str:
    if txn.kind == K.CHARGE and txn.party == Party.PATIENT:
        return "self_pay"
    if txn.responsibility == PatientResponsibility.OTHER and txn.reason_code in NON_COVERED_CARCS:
        return "non_covered"
    return txn.responsibility or "other"


@dataclasses.dataclass
class LineAccount:
    line: ClaimLine
    reasons: dict  # reason key -> amount the patient was made responsible for
    patient_paid: Decimal
    patient_adjusted: Decimal
    balance: Decimal

    @property
    def reason_words(self) -> list[tuple[str, Decimal]]:
        return [(REASON_LABELS[key], amount) for key, amount in self.reasons.items() if amount]


@dataclasses.dataclass
class ClaimAccount:
    claim: Claim
    lines: list[LineAccount]

    @property
    def balance(self) -> Decimal:
        return self.claim.patient_balance


def patient_claim_accounts(patient, *, only_owed: bool = False) -> list[ClaimAccount]:
    """Each claim of the patient with a patient part, line by line: why the patient owes (deductible,
    coinsurance, copay, non-covered, self-pay), what they paid, and the balance. Three queries."""
    return claim_accounts_of([patient], only_owed=only_owed)[patient.pk]


def claim_accounts_of(patients, *, only_owed: bool = False) -> dict[int, list[ClaimAccount]]:
    """``patient_claim_accounts`` of many patients (a statement run's chunk) in the same three queries."""
    accounts: dict[int, list[ClaimAccount]] = {patient.pk: [] for patient in patients}
    claims = (
        Claim.objects.filter(patient_id__in=list(accounts))
        .exclude(status=ClaimStatus.VOIDED)
        .filter(~Q(patient_balance=0) | ~Q(patient_paid=0) | Q(coverage__isnull=True))
        .select_related("payer")
        .prefetch_related("lines")
        .order_by("service_date", "id")
    )
    if only_owed:
        claims = claims.filter(patient_balance__gt=0)
    claims = list(claims)
    reasons: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    adjusted: dict[int, Decimal] = defaultdict(Decimal)
    # Only the rows that make or unmake a patient's part (a reversal undoes one of them or another row,
    # which the loop ignores); the insurer's payments and adjustments are not read.
    txns = (
        Transaction.objects.filter(claim__in=claims)
        .filter(
            Q(kind__in=[K.REVERSAL, K.TRANSFER_TO_PATIENT])
            | Q(party=Party.PATIENT, kind__in=[K.CHARGE, K.OTHER_ADJUSTMENT, K.WRITE_OFF])
        )
        .select_related("reverses")
    )
    for txn in txns:
        sign, original = 1, txn
        if txn.kind == K.REVERSAL:
            sign, original = -1, txn.reverses
        if original.kind == K.TRANSFER_TO_PATIENT or (
            original.kind == K.CHARGE and original.party == Party.PATIENT
        ):
            reasons[txn.line_id][_reason_key(original)] += sign * txn.amount
        elif original.party == Party.PATIENT and original.kind in (K.OTHER_ADJUSTMENT, K.WRITE_OFF):
            adjusted[txn.line_id] += sign * txn.amount
    for claim in claims:
        lines = [
            LineAccount(
                line=line,
                reasons=dict(reasons.get(line.pk, {})),
                patient_paid=line.patient_paid,
                patient_adjusted=adjusted.get(line.pk, ZERO),
                balance=line.patient_balance,
            )
            for line in claim.lines.all()
            if not line.removed or line.patient_balance
        ]
        accounts[claim.patient_id].append(ClaimAccount(claim=claim, lines=lines))
    return accounts


def patient_account_totals(patient) -> dict[str, Decimal]:
    """Owed (positive patient balances), credit (negative ones, as a positive amount), and the net."""
    return account_totals_of([patient])[patient.pk]


def account_totals_of(patients) -> dict[int, dict[str, Decimal]]:
    """``patient_account_totals`` of many patients in one query."""
    owed = {patient.pk: ZERO for patient in patients}
    credit = dict(owed)
    for patient_id, balance in (
        ClaimLine.objects.filter(claim__patient_id__in=list(owed))
        .exclude(claim__status=ClaimStatus.VOIDED)
        .exclude(patient_balance=0)
        .values_list("claim__patient_id", "patient_balance")
    ):
        if balance > 0:
            owed[patient_id] += balance
        else:
            credit[patient_id] -= balance
    return {pk: {"owed": owed[pk], "credit": credit[pk], "net": owed[pk] - credit[pk]} for pk in owed}


def patient_payments(patient):
    return (
        PatientPayment.objects.filter(patient=patient)
        .select_related("recorded_by")
        .prefetch_related("allocations__claim", "allocations__line")
        .order_by("-received_on", "-id")
    )


def patient_refunds(patient):
    return (
        CreditRefund.objects.filter(patient=patient)
        .select_related("recorded_by")
        .order_by("-refunded_on", "-id")
    )


def patient_statements(patient):
    return Statement.objects.filter(patient=patient).defer("pdf").order_by("-statement_date", "-id")


def patient_notes(patient):
    return AccountNote.objects.filter(patient=patient).select_related("by").order_by("-at", "-id")


def patient_open_holds(patient):
    return AccountHold.objects.filter(patient=patient, released_at__isnull=True).order_by("-created_at")


def patient_sent_items(patient) -> list[SentItem]:
    """Everything sent to the patient, newest first: statements, and what registered sources add."""
    items = [
        SentItem(
            at=statement.sent_at,
            kind=statement.get_kind_display(),
            channel="Mail (PDF)",
            summary=f"Balance {statement.balance}",
            statement_id=statement.pk,
        )
        for statement in patient_statements(patient)
    ]
    for source in ACCOUNT_MESSAGE_SOURCES:
        items += list(source(patient))
    return sorted(items, key=lambda item: item.at, reverse=True)


def patient_account(patient) -> dict:
    """Everything the patient account page and API show."""
    return {
        "totals": patient_account_totals(patient),
        "claims": patient_claim_accounts(patient),
        "payments": list(patient_payments(patient)),
        "refunds": list(patient_refunds(patient)),
        "statements": list(patient_statements(patient)),
        "sent": patient_sent_items(patient),
        "notes": list(patient_notes(patient)[:50]),
        "holds": list(patient_open_holds(patient)),
    }


def statement_runs_with_progress(practice):
    """The practice's statement runs, newest first, each with what its chunks did so far: ``sent``,
    ``not_sent``, ``failed``, ``chunk_count`` and ``chunks_done`` (one query for any number of runs)."""
    return (
        StatementRun.objects.filter(practice=practice)
        .select_related("started_by")
        .annotate(
            sent=Coalesce(Sum("chunks__sent"), 0),
            not_sent=Coalesce(Sum("chunks__not_sent"), 0),
            failed=Coalesce(Sum("chunks__failed"), 0),
            chunk_count=Count("chunks"),
            chunks_done=Count("chunks", filter=Q(chunks__done_at__isnull=False)),
        )
        .order_by("-started_at", "-id")
    )


def statement_run_statements(record):
    """The statements a run sent, in the order it sent them (the PDFs left out)."""
    return (
        Statement.objects.filter(practice=record.practice, run=record.run)
        .select_related("patient")
        .defer("pdf")
        .order_by("sent_at", "id")
    )
