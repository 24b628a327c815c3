"""Reads on claims for pages, API, queues and reports. Every function takes the practice first."""

from decimal import Decimal

from django.db.models import Count, DecimalField, ExpressionWrapper, F, Q, QuerySet, Sum, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from claims.models import ZERO, Claim, ClaimStatus, ClaimStatusChange, Transaction
from claims.state_machine import CLOSED_STATUSES
from rcm.models import Patient

MONEY = DecimalField(max_digits=14, decimal_places=2)


def claims_for_practice(practice) -> QuerySet[Claim]:
    return Claim.objects.filter(practice=practice)


def claim_list(practice, *, status: str | None = None, payer_id=None, patient_id=None, search: str = "") -> QuerySet[Claim]:
    """Claims with what a list needs in one query (patient, payer, providers joined)."""
    queryset = claims_for_practice(practice).select_related("patient", "payer", "rendering_provider", "billing_provider")
    if status:
        queryset = queryset.filter(status=status)
    if payer_id:
        queryset = queryset.filter(payer_id=payer_id)
    if patient_id:
        queryset = queryset.filter(patient_id=patient_id)
    if search:
        queryset = queryset.filter(
            Q(patient_control_number__startswith=search) | Q(payer_claim_number=search)
            | Q(patient__last_name__istartswith=search) | Q(patient__account_number=search)
        )
    return queryset


def open_claims(practice, *, today=None) -> QuerySet[Claim]:
    """Claims not closed (paid, written off, voided) or with money still owed, annotated with
    ``age_days`` (days since the date of service) and ``balance_total``."""
    today = today or timezone.localdate()
    return (
        claims_for_practice(practice)
        .filter(~Q(status__in=CLOSED_STATUSES) | ~Q(insurance_balance=0) | ~Q(patient_balance=0))
        .exclude(status=ClaimStatus.VOIDED)
        .annotate(balance_total=ExpressionWrapper(F("insurance_balance") + F("patient_balance"), output_field=MONEY))
        .select_related("patient", "payer")
        .order_by("service_date", "id")
    )


def claim_age_days(claim: Claim, today=None) -> int:
    return ((today or timezone.localdate()) - claim.service_date).days


def claim_status_counts(practice) -> list[dict]:
    """Per status: number of claims, their total charge and their open balance, in life-cycle order."""
    rows = {
        row["status"]: row
        for row in claims_for_practice(practice)
        .values("status")
        .annotate(
            count=Count("id"),
            charges=Coalesce(Sum("charge_total"), Value(ZERO), output_field=MONEY),
            balance=Coalesce(Sum(F("insurance_balance") + F("patient_balance")), Value(ZERO), output_field=MONEY),
        )
    }
    return [
        {"status": status, "label": label, **rows.get(status, {"count": 0, "charges": ZERO, "balance": ZERO})}
        for status, label in ClaimStatus.choices
    ]


def patient_balances(practice, *, minimum: Decimal = Decimal("0.01")) -> QuerySet[Patient]:
    """Patients who owe money after insurance, largest first, with ``patient_balance_total``,
    ``insurance_balance_total`` and ``open_claims`` annotated."""
    return (
        Patient.objects.filter(practice=practice)
        .annotate(
            patient_balance_total=Coalesce(Sum("claims__patient_balance"), Value(ZERO), output_field=MONEY),
            insurance_balance_total=Coalesce(Sum("claims__insurance_balance"), Value(ZERO), output_field=MONEY),
            open_claims=Count("claims", filter=~Q(claims__patient_balance=0)),
        )
        .filter(patient_balance_total__gte=minimum)
        .order_by("-patient_balance_total", "id")
    )


def patient_balance_summary(patient) -> dict[str, Decimal]:
    totals = Claim.objects.filter(patient=patient).aggregate(
        charges=Coalesce(Sum("charge_total"), Value(ZERO), output_field=MONEY),
        insurance_paid=Coalesce(Sum("insurance_paid"), Value(ZERO), output_field=MONEY),
        patient_paid=Coalesce(Sum("patient_paid"), Value(ZERO), output_field=MONEY),
        adjustments=Coalesce(Sum("adjustments"), Value(ZERO), output_field=MONEY),
        write_offs=Coalesce(Sum("write_offs"), Value(ZERO), output_field=MONEY),
        insurance_balance=Coalesce(Sum("insurance_balance"), Value(ZERO), output_field=MONEY),
        patient_balance=Coalesce(Sum("patient_balance"), Value(ZERO), output_field=MONEY),
    )
    totals["balance"] = totals["insurance_balance"] + totals["patient_balance"]
    return totals


def claim_ledger(claim) -> QuerySet[Transaction]:
    return claim.transactions.select_related("line", "posted_by", "payer", "reverses").order_by("posted_at", "id")


def claim_history(claim) -> QuerySet[ClaimStatusChange]:
    return claim.status_history.select_related("by").order_by("at", "id")


def patient_ledger(patient) -> QuerySet[Transaction]:
    return (
        Transaction.objects.filter(claim__patient=patient)
        .select_related("claim", "line", "posted_by", "payer")
        .order_by("-posted_at", "-id")
    )
