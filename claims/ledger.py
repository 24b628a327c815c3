"""The ledger: the only code that writes ``Transaction`` rows and the cached balances they drive.

Each kind of transaction moves money between a line's buckets (``EFFECTS``); every effect keeps the
identity charge = insurance paid + patient paid + adjustments + write-offs + balance. A reversal
applies the negation of the transaction it cancels. Cached balances on lines and claims are updated
in the same database transaction as the rows, and ``ledger_rebuild`` / ``ledger_check`` recompute
them from the rows.
"""

import dataclasses
import datetime
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from claims.models import ZERO, Balances, Claim, ClaimLine, Party, Transaction, TransactionKind
from rcm.audit import audit_records_bulk
from rcm.bulk import bulk_insert_rows, bulk_update_values
from rcm.formats import money_text
from rcm.practice_cache import claims_changed

K, P = TransactionKind, Party
CENT = Decimal("0.01")

# (kind, party) -> {bucket: sign}
EFFECTS: dict[tuple[str, str], dict[str, int]] = {
    (K.CHARGE, P.INSURANCE): {"charge_total": 1, "insurance_balance": 1},
    (K.CHARGE, P.PATIENT): {"charge_total": 1, "patient_balance": 1},
    (K.INSURANCE_PAYMENT, P.INSURANCE): {"insurance_paid": 1, "insurance_balance": -1},
    (K.PATIENT_PAYMENT, P.PATIENT): {"patient_paid": 1, "patient_balance": -1},
    (K.CONTRACTUAL_ADJUSTMENT, P.INSURANCE): {"adjustments": 1, "insurance_balance": -1},
    (K.OTHER_ADJUSTMENT, P.INSURANCE): {"adjustments": 1, "insurance_balance": -1},
    (K.OTHER_ADJUSTMENT, P.PATIENT): {"adjustments": 1, "patient_balance": -1},
    (K.TRANSFER_TO_PATIENT, P.INSURANCE): {"insurance_balance": -1, "patient_balance": 1},
    (K.WRITE_OFF, P.INSURANCE): {"write_offs": 1, "insurance_balance": -1},
    (K.WRITE_OFF, P.PATIENT): {"write_offs": 1, "patient_balance": -1},
    (K.REFUND, P.INSURANCE): {"insurance_paid": -1, "insurance_balance": 1},
    (K.REFUND, P.PATIENT): {"patient_paid": -1, "patient_balance": 1},
}


def money(value) -> Decimal:
    """A Decimal rounded half-up to cents; refuses floats so they never reach the ledger."""
    if isinstance(value, float):
        raise TypeError("Money must be Decimal or a string, never float.")
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


@dataclasses.dataclass
class Entry:
    """One transaction to post; ``reverses`` is set for reversals only."""

    line: ClaimLine
    kind: str
    amount: Decimal
    party: str = P.INSURANCE
    effective_date: datetime.date | None = None
    reverses: Transaction | None = None
    payer_id: int | None = None
    group_code: str = ""
    reason_code: str = ""
    remark_codes: list = dataclasses.field(default_factory=list)
    responsibility: str = ""
    note: str = ""


def effect_of(kind: str, party: str, reverses: Transaction | None = None) -> dict[str, int]:
    if kind == K.REVERSAL:
        if reverses is None:
            raise ValidationError(
                "A reversal must name the transaction it reverses.", code="reversal_original"
            )
        return {
            bucket: -sign
            for bucket, sign in effect_of(reverses.kind, reverses.party, reverses.reverses).items()
        }
    try:
        return EFFECTS[(kind, party)]
    except KeyError:
        raise ValidationError(
            f"A {TransactionKind(kind).label.lower()} cannot be posted to the {party} side.",
            code="kind_party",
        ) from None


def _validate(entry: Entry, claim: Claim) -> None:
    if entry.line.claim_id != claim.pk:
        raise ValidationError(f"Line {entry.line.pk} is not on claim {claim.patient_control_number}.")
    if entry.amount <= 0:
        raise ValidationError(
            {
                "amount": (
                    f"Amount must be greater than zero (got {money_text(entry.amount)}); "
                    "the kind gives the direction."
                )
            }
        )
    if entry.kind == K.REVERSAL:
        original = entry.reverses
        if original is None:
            raise ValidationError(
                "A reversal must name the transaction it reverses.", code="reversal_original"
            )
        if original.line_id != entry.line.pk:
            raise ValidationError(
                "A reversal must be posted on the same line as the transaction it reverses."
            )
        if Transaction.objects.filter(reverses=original).exists():
            raise ValidationError(
                f"Transaction {original.pk} has already been reversed.", code="already_reversed"
            )
        if original.amount != entry.amount:
            raise ValidationError("A reversal must be for the full amount of the transaction it reverses.")
    else:
        effect_of(entry.kind, entry.party)


def ledger_post(
    *,
    claim: Claim,
    entries: list[Entry],
    user=None,
    source: str,
    source_reference: str = "",
    posted_at=None,
    preloaded=None,
    need_ids: bool = True,
) -> list[Transaction]:
    """Post ``entries`` on ``claim``'s lines atomically, updating the cached balances of the lines and
    the claim. Either every entry is posted or none is (the first invalid one raises ValidationError)."""
    rows = ledger_post_many(
        postings=[(claim, entries, source_reference)],
        user=user,
        source=source,
        posted_at=posted_at,
        preloaded=preloaded,
        need_ids=need_ids,
    )
    return rows


def ledger_post_many(
    *,
    postings: list[tuple[Claim, list[Entry], str]],
    user=None,
    source: str,
    posted_at=None,
    need_ids: bool = True,
    preloaded=None,
) -> list[Transaction]:
    """Post many claims' entries in one go (ERA posting, data generators): one locked read of the
    claims, one of their lines, one insert of the rows, one update of the lines and of the claims.
    All or nothing, like ``ledger_post``; ``postings`` are (claim, entries, source reference). Without
    ``need_ids`` nothing is returned and a large batch is streamed (COPY). ``preloaded`` is
    (claims by id, lines by id) already read under lock in this transaction by the caller."""
    postings = [(claim, entries, reference) for claim, entries, reference in postings if entries]
    if not postings:
        return []
    posted_at = posted_at or timezone.now()
    today = timezone.localdate(posted_at)
    by = user if user is not None and user.is_authenticated else None
    claim_ids = sorted({claim.pk for claim, _e, _r in postings})
    with transaction.atomic():
        if preloaded is not None:
            locked, lines = preloaded
            locked = {pk: locked[pk] for pk in claim_ids}
        else:
            locked = {
                c.pk: c
                for c in Claim.objects.select_for_update()
                .filter(pk__in=claim_ids)
                .order_by("pk")
                .only("pk", "practice_id", "patient_control_number", *Balances.BUCKETS)
            }
            lines = {
                line.pk: line
                for line in ClaimLine.objects.filter(claim_id__in=claim_ids).only(
                    "pk", "claim_id", *Balances.BUCKETS
                )
            }
        values = []
        deltas: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
        for claim, entries, reference in postings:
            locked_claim = locked[claim.pk]
            for entry in entries:
                lines.setdefault(entry.line.pk, entry.line)  # a removed line can still be reversed
                entry.amount = money(entry.amount)
                _validate(entry, locked_claim)
                if entry.kind == K.REVERSAL:
                    entry.party = entry.reverses.party
                for bucket, sign in effect_of(entry.kind, entry.party, entry.reverses).items():
                    deltas[entry.line.pk][bucket] += sign * entry.amount
                values.append(
                    {
                        "practice_id": locked_claim.practice_id,
                        "claim_id": locked_claim.pk,
                        "line_id": entry.line.pk,
                        "kind": entry.kind,
                        "party": entry.party,
                        "amount": entry.amount,
                        "effective_date": entry.effective_date or today,
                        "posted_at": posted_at,
                        "posted_by_id": by.pk if by else None,
                        "source": source,
                        "source_reference": reference,
                        "payer_id": entry.payer_id,
                        "group_code": entry.group_code,
                        "reason_code": entry.reason_code,
                        "remark_codes": list(entry.remark_codes),
                        "responsibility": entry.responsibility,
                        "note": entry.note[:255],
                        "reverses_id": entry.reverses.pk if entry.reverses else None,
                    }
                )
        if need_ids:
            rows = Transaction.objects.bulk_create(
                [Transaction(**value) for value in values], batch_size=2000
            )
        else:
            rows = []
            bulk_insert_rows(Transaction, values)
        changed_lines = []
        for line_id, bucket_deltas in deltas.items():
            line = lines[line_id]
            owner = locked[line.claim_id]
            for bucket, delta in bucket_deltas.items():
                setattr(line, bucket, getattr(line, bucket) + delta)
                setattr(owner, bucket, getattr(owner, bucket) + delta)
            changed_lines.append(line)
        bulk_update_values(ClaimLine, changed_lines, list(Balances.BUCKETS))
        bulk_update_values(Claim, list(locked.values()), list(Balances.BUCKETS))
        claims_changed({claim.practice_id for claim in locked.values()})
        # Every financial change is in the audit log too: one event per claim posted to.
        per_claim: dict[int, list] = defaultdict(list)
        for value in values:
            per_claim[value["claim_id"]].append(
                [value["kind"], str(value["amount"]), value["line_id"], value["reason_code"]]
            )
        references = {claim.pk: reference for claim, _entries, reference in postings}
        audit_records_bulk(
            [
                {
                    "action": "create",
                    "practice_id": locked[claim_id].practice_id,
                    "object_type": "claims.claim",
                    "object_id": claim_id,
                    "changes": {"ledger": entries, "source": [source, references[claim_id]]},
                }
                for claim_id, entries in per_claim.items()
            ],
            user=by,
        )
    for claim, _entries, _reference in postings:
        for bucket in Balances.BUCKETS:
            setattr(claim, bucket, getattr(locked[claim.pk], bucket))
    return rows


def transaction_reverse(
    *,
    original: Transaction,
    user=None,
    note: str = "",
    source: str = "user",
    source_reference: str = "",
    effective_date=None,
) -> Transaction:
    """Cancel ``original`` with a reversal row; the line's balances return to what they were without it."""
    line = ClaimLine.objects.get(pk=original.line_id)
    (row,) = ledger_post(
        claim=Claim.objects.get(pk=original.claim_id),
        entries=[
            Entry(
                line=line,
                kind=K.REVERSAL,
                amount=original.amount,
                reverses=original,
                note=note,
                effective_date=effective_date,
            )
        ],
        user=user,
        source=source,
        source_reference=source_reference,
    )
    return row


def derived_balances(transactions) -> dict[str, Decimal]:
    """Buckets computed from transaction rows alone (kind, party, amount, reverses)."""
    totals = dict.fromkeys(Balances.BUCKETS, ZERO)
    by_id = {t.pk: t for t in transactions}
    for txn in transactions:
        original = by_id.get(txn.reverses_id) if txn.reverses_id else None
        if txn.kind == K.REVERSAL and original is None:
            original = txn.reverses
        for bucket, sign in effect_of(txn.kind, txn.party, original).items():
            totals[bucket] += sign * txn.amount
    return totals


def _derived_by_line(line_ids=None, practice=None) -> dict[int, dict[str, Decimal]]:
    """Set-based: buckets per line from grouped sums of the ledger (no per-row Python)."""
    queryset = Transaction.objects.all()
    if practice is not None:
        queryset = queryset.filter(practice=practice)
    if line_ids is not None:
        queryset = queryset.filter(line_id__in=line_ids)
    sums = queryset.values("line_id", "kind", "party", "reverses__kind", "reverses__party").annotate(
        total=Sum("amount")
    )
    result: dict[int, dict[str, Decimal]] = defaultdict(lambda: dict.fromkeys(Balances.BUCKETS, ZERO))
    for row in sums:
        if row["kind"] == K.REVERSAL:
            effect = {b: -s for b, s in EFFECTS[(row["reverses__kind"], row["reverses__party"])].items()}
        else:
            effect = EFFECTS[(row["kind"], row["party"])]
        for bucket, sign in effect.items():
            result[row["line_id"]][bucket] += sign * row["total"]
    return result


def ledger_check(*, practice=None, claim_ids=None) -> list[str]:
    """Compare cached balances with the ledger; return one plain message per mismatch (empty = all good)."""
    lines = ClaimLine.objects.all()
    if practice is not None:
        lines = lines.filter(practice=practice)
    if claim_ids is not None:
        lines = lines.filter(claim_id__in=claim_ids)
    problems = []
    line_values = list(lines.values("pk", "claim_id", *Balances.BUCKETS))
    derived = _derived_by_line(
        [row["pk"] for row in line_values] if claim_ids is not None else None, practice
    )
    claim_totals: dict[int, dict[str, Decimal]] = defaultdict(lambda: dict.fromkeys(Balances.BUCKETS, ZERO))
    for row in line_values:
        expected = derived.get(row["pk"], dict.fromkeys(Balances.BUCKETS, ZERO))
        for bucket in Balances.BUCKETS:
            claim_totals[row["claim_id"]][bucket] += expected[bucket]
            if row[bucket] != expected[bucket]:
                problems.append(
                    f"line {row['pk']}: {bucket} is {row[bucket]}, ledger says {expected[bucket]}"
                )
        paid = (
            expected["insurance_paid"]
            + expected["patient_paid"]
            + expected["adjustments"]
            + expected["write_offs"]
        )
        if expected["charge_total"] != paid + expected["insurance_balance"] + expected["patient_balance"]:
            problems.append(f"line {row['pk']}: charge does not equal payments + adjustments + balance")
    claims = Claim.objects.filter(pk__in=list(claim_totals)).values("pk", *Balances.BUCKETS)
    for row in claims:
        for bucket in Balances.BUCKETS:
            if row[bucket] != claim_totals[row["pk"]][bucket]:
                problems.append(
                    f"claim {row['pk']}: {bucket} is {row[bucket]}, "
                    f"ledger says {claim_totals[row['pk']][bucket]}"
                )
    return problems


@transaction.atomic
def ledger_rebuild(*, practice=None, claim_ids=None) -> int:
    """Recompute every cached balance from the ledger; returns the number of lines rewritten."""
    lines = ClaimLine.objects.all()
    if practice is not None:
        lines = lines.filter(practice=practice)
    if claim_ids is not None:
        lines = lines.filter(claim_id__in=claim_ids)
    lines = list(lines.only("pk", "claim_id", *Balances.BUCKETS))
    derived = _derived_by_line([line.pk for line in lines] if claim_ids is not None else None, practice)
    claim_totals: dict[int, dict[str, Decimal]] = defaultdict(lambda: dict.fromkeys(Balances.BUCKETS, ZERO))
    for line in lines:
        expected = derived.get(line.pk, dict.fromkeys(Balances.BUCKETS, ZERO))
        for bucket in Balances.BUCKETS:
            setattr(line, bucket, expected[bucket])
            claim_totals[line.claim_id][bucket] += expected[bucket]
    bulk_update_values(ClaimLine, lines, list(Balances.BUCKETS))
    claims = list(
        Claim.objects.filter(pk__in=list(claim_totals)).only("pk", "practice_id", *Balances.BUCKETS)
    )
    for claim in claims:
        for bucket in Balances.BUCKETS:
            setattr(claim, bucket, claim_totals[claim.pk][bucket])
    bulk_update_values(Claim, claims, list(Balances.BUCKETS))
    claims_changed({claim.practice_id for claim in claims})
    return len(lines)
