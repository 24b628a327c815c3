"""Reads of underpayments: the underpaid claims with their evidence, the overpaid lines, one claim's
evidence, and drift findings. A list costs a fixed number of queries whatever its length: the
underpayments, then their short lines with contract and fee row, then those lines' CAS codes."""

import dataclasses
import datetime
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Count, Max, Min, QuerySet, Sum

from claims.models import (
    ZERO,
    LineVariance,
    RemittanceAdjustment,
    Underpayment,
    UnderpaymentChange,
    UnderpaymentStatus,
    VarianceKind,
)
from rcm.tenancy import get_scoped_or_404, scoped

CENT = Decimal("0.01")
STATUS_VIEWS = [
    (UnderpaymentStatus.OPEN, "Open"),
    (UnderpaymentStatus.APPEALED, "Appealed"),
    (UnderpaymentStatus.ACCEPTED, "Accepted"),
    (UnderpaymentStatus.RECOVERED, "Recovered"),
]
# A drift finding needs this many short lines of one code at one allowed amount, on this many claims.
DRIFT_MIN_LINES = 10
DRIFT_MIN_CLAIMS = 5


def _exact(value) -> Decimal:
    return Decimal(value or 0).quantize(CENT, rounding=ROUND_HALF_UP)


def underpayment_list(practice, *, status: str = UnderpaymentStatus.OPEN) -> QuerySet[Underpayment]:
    """The practice's underpayments in ``status``, the largest shortfall first."""
    return (
        scoped(Underpayment, practice)
        .filter(status=status)
        .select_related("claim", "payer")
        .order_by("-shortfall", "-id")
    )


def underpayment_status_counts(practice) -> dict[str, int]:
    rows = scoped(Underpayment, practice).values("status").annotate(n=Count("id")).order_by()
    return {row["status"]: row["n"] for row in rows}


def _cas_codes(remittance_line_ids) -> dict[int, list[str]]:
    codes: dict[int, list[str]] = defaultdict(list)
    for line_id, group, reason, amount in (
        RemittanceAdjustment.objects.filter(remittance_line_id__in=list(remittance_line_ids))
        .order_by("remittance_line_id", "id")
        .values_list("remittance_line_id", "group_code", "reason_code", "amount")
    ):
        codes[line_id].append(f"{group}-{reason} {amount}")
    return codes


def evidence_lines(claim_ids, *, kinds=(VarianceKind.UNDERPAID,)) -> dict[int, list[LineVariance]]:
    """Per claim: its lines of ``kinds`` with contract, fee row and claim line, each with ``cas`` (the
    remittance line's CAS codes as "CO-45 12.00"). Two queries."""
    lines = list(
        LineVariance.objects.filter(claim_id__in=list(claim_ids), kind__in=kinds)
        .select_related("contract", "fee_row__contract__payer", "claim_line")
        .order_by("claim_id", "claim_line__line_number")
    )
    cas = _cas_codes(line.remittance_line_id for line in lines)
    by_claim: dict[int, list[LineVariance]] = defaultdict(list)
    for line in lines:
        line.cas = cas.get(line.remittance_line_id, [])
        by_claim[line.claim_id].append(line)
    return by_claim


def with_evidence(underpayments) -> list[Underpayment]:
    """The underpayments (a page of them), each with ``evidence``: its short lines."""
    underpayments = list(underpayments)
    lines = evidence_lines([u.claim_id for u in underpayments])
    for underpayment in underpayments:
        underpayment.evidence = lines.get(underpayment.claim_id, [])
    return underpayments


def underpayment_detail(practice, pk: int) -> Underpayment:
    underpayment = get_scoped_or_404(
        Underpayment.objects.select_related("claim", "claim__patient", "payer"), practice, pk=pk
    )
    underpayment.evidence = evidence_lines([underpayment.claim_id], kinds=VarianceKind.values).get(
        underpayment.claim_id, []
    )
    underpayment.history = list(
        UnderpaymentChange.objects.filter(underpayment=underpayment)
        .select_related("user")
        .order_by("at", "id")
    )
    return underpayment


def overpaid_lines(practice) -> QuerySet[LineVariance]:
    """Lines allowed above the contract beyond tolerance: credits to resolve, the largest first."""
    return (
        scoped(LineVariance, practice)
        .filter(kind=VarianceKind.OVERPAID)
        .select_related("claim", "payer", "contract", "fee_row__contract__payer")
        .order_by("variance", "id")
    )


def unknown_expected_count(practice) -> int:
    return scoped(LineVariance, practice).filter(kind=VarianceKind.UNKNOWN).count()


@dataclasses.dataclass(frozen=True)
class DriftFinding:
    """A payer allowing one code below its contract across many claims, at one amount, since a date."""

    payer_id: int
    payer_name: str
    procedure_code: str
    contract_id: int
    contract_name: str
    allowed_per_unit: Decimal
    expected_per_unit: Decimal
    since: datetime.date
    last: datetime.date
    lines: int
    claims: int
    short: Decimal

    @property
    def sentence(self) -> str:
        return (
            f"{self.payer_name} allows {self.procedure_code} at ${self.allowed_per_unit:,} since "
            f"{self.since:%B %Y}; contract says ${self.expected_per_unit:,}: {self.lines} lines, "
            f"${self.short:,} short"
        )


def drift_findings(
    practice, *, min_lines: int = DRIFT_MIN_LINES, min_claims: int = DRIFT_MIN_CLAIMS
) -> list[DriftFinding]:
    """Codes a payer allows below contract across many claims: short lines (by any amount, within tolerance
    too: a drift of a few percent hides under a per-line tolerance) grouped by payer, contract, code, the
    amount the contract expects per unit and the amount the payer allows per unit. A group of at least
    ``min_lines`` lines, for a payer and code short on at least ``min_claims`` claims, is a finding; for one
    payer and code only the largest group counts. Two grouped queries; the largest shortfall first."""
    rows = (
        scoped(LineVariance, practice)
        .filter(variance__gt=0, contract__isnull=False, units__gt=0)
        .values(
            "payer_id",
            "payer__name",
            "procedure_code",
            "contract_id",
            "contract__name",
            "units",
            "expected_allowed",
            "allowed",
        )
        .annotate(
            lines=Count("id"),
            short=Sum("variance"),
            since=Min("service_date"),
            last=Max("service_date"),
        )
        .order_by()
    )
    # Per unit, so a payer's rate reads the same on a line of one unit and a line of four.
    groups: dict[tuple, dict] = {}
    for row in rows:
        units = Decimal(row["units"])
        key = (
            row["payer_id"],
            row["procedure_code"],
            row["contract_id"],
            _exact(Decimal(row["expected_allowed"]) / units),
            _exact(Decimal(row["allowed"]) / units),
        )
        group = groups.setdefault(
            key, {**row, "lines": 0, "short": ZERO, "since": row["since"], "last": row["last"]}
        )
        group["lines"] += row["lines"]
        group["short"] += _exact(row["short"])
        group["since"], group["last"] = min(group["since"], row["since"]), max(group["last"], row["last"])
    claims = dict(
        ((row["payer_id"], row["procedure_code"]), row["n"])
        for row in scoped(LineVariance, practice)
        .filter(variance__gt=0, contract__isnull=False)
        .values("payer_id", "procedure_code")
        .annotate(n=Count("claim_id", distinct=True))
        .order_by()
    )
    best: dict[tuple[int, str], tuple] = {}
    for key, group in groups.items():
        payer_code = key[:2]
        if group["lines"] < min_lines or claims.get(payer_code, 0) < min_claims:
            continue
        if payer_code not in best or group["lines"] > best[payer_code][1]["lines"]:
            best[payer_code] = (key, group)
    findings = [
        DriftFinding(
            payer_id=group["payer_id"],
            payer_name=group["payer__name"],
            procedure_code=group["procedure_code"],
            contract_id=group["contract_id"],
            contract_name=group["contract__name"],
            allowed_per_unit=key[4],
            expected_per_unit=key[3],
            since=group["since"],
            last=group["last"],
            lines=group["lines"],
            claims=claims[key[:2]],
            short=group["short"],
        )
        for key, group in best.values()
    ]
    findings.sort(key=lambda f: (-f.short, f.payer_name, f.procedure_code))
    return findings


def variance_totals(practice) -> dict[str, Decimal]:
    rows = (
        scoped(LineVariance, practice)
        .values("kind")
        .annotate(total=Sum("variance"), n=Count("id"))
        .order_by()
    )
    return {
        row["kind"]: (row["n"], _exact(row["total"]) if row["total"] is not None else ZERO) for row in rows
    }


def line_variances(
    practice, *, claim_id: int | None = None, kind: str | None = None
) -> QuerySet[LineVariance]:
    """The practice's adjudicated lines against their contract, by claim and line."""
    lines = scoped(LineVariance, practice).select_related("contract", "claim_line")
    if claim_id is not None:
        lines = lines.filter(claim_id=claim_id)
    if kind:
        lines = lines.filter(kind=kind)
    return lines.order_by("claim_id", "claim_line__line_number", "id")


def with_cas(lines) -> list[LineVariance]:
    """``lines`` (a page of them), each with ``cas``: its remittance line's CAS codes. One query."""
    lines = list(lines)
    cas = _cas_codes(line.remittance_line_id for line in lines)
    for line in lines:
        line.cas = cas.get(line.remittance_line_id, [])
    return lines
