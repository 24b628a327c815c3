"""Reads on claims for pages, API, queues and reports. Every function takes the practice first."""

import dataclasses
import datetime
import functools
import itertools
import re
from decimal import Decimal

from django.db.models import (
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from claims.models import ZERO, Claim, ClaimStatus, ClaimStatusChange, Transaction, TransactionKind
from claims.state_machine import CLOSED_STATUSES
from rcm.models import ChargeMasterEntry, Coverage, CoveragePriority, Patient
from rcm.practice_cache import practice_cached
from rcm.pricing import line_expected_allowed
from rcm.tenancy import scoped
from rcm.validators import _icd10, normalize_icd10

MONEY = DecimalField(max_digits=14, decimal_places=2)


def claims_for_practice(practice) -> QuerySet[Claim]:
    return Claim.objects.filter(practice=practice)


def claim_list(
    practice, *, status: str | None = None, payer_id=None, patient_id=None, search: str = ""
) -> QuerySet[Claim]:
    """Claims with what a list needs in one query (patient, payer, providers joined)."""
    queryset = claims_for_practice(practice).select_related(
        "patient", "payer", "rendering_provider", "billing_provider"
    )
    if status:
        queryset = queryset.filter(status=status)
    if payer_id:
        queryset = queryset.filter(payer_id=payer_id)
    if patient_id:
        queryset = queryset.filter(patient_id=patient_id)
    if search:
        queryset = queryset.filter(
            Q(patient_control_number__startswith=search)
            | Q(payer_claim_number=search)
            | Q(patient__last_name__istartswith=search)
            | Q(patient__account_number=search)
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
        .annotate(
            balance_total=ExpressionWrapper(F("insurance_balance") + F("patient_balance"), output_field=MONEY)
        )
        .select_related("patient", "payer")
        .order_by("service_date", "id")
    )


def claim_status_counts(practice) -> list[dict]:
    """Per status: number of claims, their total charge and their open balance, in life-cycle order
    (cached until the practice's claims change: ``rcm.practice_cache``)."""
    return practice_cached(practice, "status-counts", lambda: _claim_status_counts(practice))


def _claim_status_counts(practice) -> list[dict]:
    rows = {
        row["status"]: row
        for row in claims_for_practice(practice)
        .values("status")
        .annotate(
            count=Count("id"),
            charges=Coalesce(Sum("charge_total"), Value(ZERO), output_field=MONEY),
            balance=Coalesce(
                Sum(F("insurance_balance") + F("patient_balance")), Value(ZERO), output_field=MONEY
            ),
        )
    }
    return [
        {"status": status, "label": label, **rows.get(status, {"count": 0, "charges": ZERO, "balance": ZERO})}
        for status, label in ClaimStatus.choices
    ]


def claim_status_counts_filtered(practice, **filters) -> list[dict]:
    """``claim_status_counts`` over the claims the list's other filters keep (``claim_list_filtered``'s
    payer, claim number and aging; the status filter itself is ignored so each chip shows what picking it
    would list). One query, not cached: the filters vary."""
    filters = {key: value for key, value in filters.items() if key not in ("status", "sort")}
    rows = {
        row["status"]: row
        for row in claim_list_filtered(practice, **filters)
        .order_by()
        .values("status")
        .annotate(
            count=Count("id"),
            charges=Coalesce(Sum("charge_total"), Value(ZERO), output_field=MONEY),
            balance=Coalesce(
                Sum(F("insurance_balance") + F("patient_balance")), Value(ZERO), output_field=MONEY
            ),
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
            insurance_balance_total=Coalesce(
                Sum("claims__insurance_balance"), Value(ZERO), output_field=MONEY
            ),
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
    return claim.transactions.select_related("line", "posted_by", "payer", "reverses").order_by(
        "posted_at", "id"
    )


def claim_history(claim) -> QuerySet[ClaimStatusChange]:
    return claim.status_history.select_related("by").order_by("at", "id")


def patient_ledger(patient) -> QuerySet[Transaction]:
    return (
        Transaction.objects.filter(claim__patient=patient)
        .select_related("claim", "line", "posted_by", "payer")
        .order_by("-posted_at", "-id")
    )


# --- Pages: patient list, claim list, landing pages -------------------------------------------

AGING_BUCKETS: tuple[tuple[str, str, int, int | None], ...] = (
    # key (for URLs), label, from day, to day (inclusive; None = no upper bound), by age of the date of
    # service
    ("0-30", "0–30", 0, 30),
    ("31-60", "31–60", 31, 60),
    ("61-90", "61–90", 61, 90),
    ("91-120", "91–120", 91, 120),
    ("120+", "120+", 121, None),
)
AGING_LABELS = {key: label for key, label, _start, _end in AGING_BUCKETS}

CLAIM_SORTS: dict[str, tuple[str, ...]] = {
    # ?sort= value -> ordering; age is the inverse of the date of service
    "dos": ("service_date", "id"),
    "-dos": ("-service_date", "-id"),
    "balance": ("balance_total", "id"),
    "-balance": ("-balance_total", "-id"),
    "age": ("-service_date", "-id"),
    "-age": ("service_date", "id"),
}

# Where a biller's attention goes first: claims the payer bounced or refused, or that sit unanswered.
NEEDS_WORK_STATUSES = (ClaimStatus.REJECTED, ClaimStatus.DENIED, ClaimStatus.SUBMITTED, ClaimStatus.ACCEPTED)


def _parse_dob(term: str) -> datetime.date | None:
    for pattern in ("%Y-%m-%d", "%m/%d/%Y"):
        try:
            return datetime.datetime.strptime(term, pattern).date()  # noqa: DTZ007 - a date, no time zone
        except ValueError:
            continue
    return None


def patient_search_filter(term: str) -> Q:
    """What the patient search box means, as one ``Q``:
    a date (YYYY-MM-DD or MM/DD/YYYY) matches the date of birth; "Last, First" matches a last-name prefix
    and a first-name prefix; "First Last" the same the other way round; one word matches a last-name
    prefix, a first name or an account number."""
    term = " ".join((term or "").split())
    if not term:
        return Q()
    dob = _parse_dob(term)
    if dob is not None:
        return Q(date_of_birth=dob)
    if "," in term:
        last, _, first = (part.strip() for part in term.partition(","))
        query = Q(last_name__istartswith=last)
        return query & Q(first_name__istartswith=first) if first else query
    query = Q(last_name__istartswith=term) | Q(first_name__iexact=term) | Q(account_number__iexact=term)
    if " " in term:
        first, _, last = term.rpartition(" ")
        query |= Q(first_name__istartswith=first, last_name__istartswith=last)
    return query


# The patient list's sorts and filters (keys travel in the query string: they are not PHI).
PATIENT_SORTS = {
    "name": "Name",
    "balance": "Patient balance, largest first",
    "age": "Oldest patient balance first",
}
PATIENT_BALANCE_FILTERS = {
    "": "Any balance",
    "owing": "Owes something",
    "over100": "Owes over $100",
    "over500": "Owes over $500",
    "credit": "Has a credit",
}
PATIENT_AGE_FILTERS = {
    "": "Any age",
    "0-30": "0–30 days",
    "31-60": "31–60 days",
    "61-90": "61–90 days",
    "91+": "Over 90 days",
}


def patient_list(
    practice, *, search: str = "", today=None, sort: str = "name", balance: str = "", age: str = ""
) -> QuerySet[Patient]:
    """Patients of ``practice`` matching ``search`` (see ``patient_search_filter``), each with
    ``primary_payer_name`` (the primary coverage in force today), ``patient_balance_total``,
    ``insurance_balance_total`` and ``oldest_owed`` (the earliest date of service the patient still owes
    on), in one query whatever the number of rows. ``sort``: a ``PATIENT_SORTS`` key; ``balance`` and
    ``age`` (age of the oldest patient balance): ``PATIENT_BALANCE_FILTERS`` / ``PATIENT_AGE_FILTERS``."""
    today = today or timezone.localdate()
    primary = (
        Coverage.objects.filter(
            patient=OuterRef("pk"), priority=CoveragePriority.PRIMARY, effective_date__lte=today
        )
        .filter(Q(end_date__isnull=True) | Q(end_date__gte=today))
        .order_by("-effective_date", "-id")
        .values("payer__name")[:1]
    )

    def claim_sum(bucket):
        return Coalesce(
            Subquery(
                Claim.objects.filter(patient=OuterRef("pk"))
                .values("patient")
                .annotate(total=Sum(bucket))
                .values("total")[:1],
                output_field=MONEY,
            ),
            Value(ZERO),
            output_field=MONEY,
        )

    oldest_owed = Subquery(
        Claim.objects.filter(patient=OuterRef("pk"), patient_balance__gt=0)
        .exclude(status=ClaimStatus.VOIDED)
        .order_by("service_date")
        .values("service_date")[:1]
    )
    queryset = (
        Patient.objects.filter(practice=practice)
        .filter(patient_search_filter(search))
        .annotate(
            primary_payer_name=Subquery(primary),
            patient_balance_total=claim_sum("patient_balance"),
            insurance_balance_total=claim_sum("insurance_balance"),
            oldest_owed=oldest_owed,
        )
    )
    minimum = {"owing": ZERO, "over100": Decimal("100.00"), "over500": Decimal("500.00")}.get(balance)
    if minimum is not None:
        queryset = queryset.filter(patient_balance_total__gt=minimum)
    elif balance == "credit":
        queryset = queryset.filter(patient_balance_total__lt=0)
    if age in PATIENT_AGE_FILTERS and age:
        start, _, end = age.partition("-")
        start = int(start.rstrip("+"))
        queryset = queryset.filter(oldest_owed__lte=today - datetime.timedelta(days=start))
        if end:
            queryset = queryset.filter(oldest_owed__gte=today - datetime.timedelta(days=int(end)))
    if sort == "balance":
        return queryset.order_by(F("patient_balance_total").desc(), "last_name", "first_name", "id")
    if sort == "age":
        return queryset.order_by(F("oldest_owed").asc(nulls_last=True), "last_name", "first_name", "id")
    return queryset.order_by("last_name", "first_name", "id")


def _in_aging_bucket(start: int, end: int | None, today) -> Q:
    query = Q(service_date__lte=today - datetime.timedelta(days=start))
    if end is not None:
        query &= Q(service_date__gte=today - datetime.timedelta(days=end))
    return query


def _open_ar(queryset: QuerySet[Claim]) -> QuerySet[Claim]:
    """Claims that make up A/R: a balance either way, voided claims left out."""
    return queryset.exclude(status=ClaimStatus.VOIDED).filter(~Q(insurance_balance=0) | ~Q(patient_balance=0))


def claim_list_filtered(
    practice,
    *,
    status: str = "",
    payer_id=None,
    claim_number: str = "",
    sort: str = "",
    aging: str = "",
    today=None,
) -> QuerySet[Claim]:
    """The claim list page: filters that are safe in a URL (status, payer, our claim number prefix or the
    payer's claim number, an ``AGING_BUCKETS`` key; never patient names), ``balance_total`` annotated,
    sorted by a ``CLAIM_SORTS`` key (date of service, newest first, when the key is unknown).
    The aging filter keeps the claims ``ar_aging`` counts in that bucket, so its totals drill down here."""
    queryset = claim_list(practice, status=status or None, payer_id=payer_id).annotate(
        balance_total=ExpressionWrapper(F("insurance_balance") + F("patient_balance"), output_field=MONEY)
    )
    claim_number = (claim_number or "").strip()
    if claim_number:
        queryset = queryset.filter(
            Q(patient_control_number__startswith=claim_number) | Q(payer_claim_number=claim_number)
        )
    bucket = next((b for b in AGING_BUCKETS if b[0] == aging), None)
    if bucket is not None:
        _key, _label, start, end = bucket
        queryset = _open_ar(queryset).filter(_in_aging_bucket(start, end, today or timezone.localdate()))
    return queryset.order_by(*CLAIM_SORTS.get(sort, CLAIM_SORTS["-dos"]))


def claims_needing_work(practice, *, limit: int = 15) -> QuerySet[Claim]:
    """Open claims rejected, denied, or submitted and not yet answered, the longest-waiting first
    (by the time they entered their status)."""
    return (
        claim_list(practice)
        .filter(status__in=NEEDS_WORK_STATUSES)
        .annotate(
            balance_total=ExpressionWrapper(F("insurance_balance") + F("patient_balance"), output_field=MONEY)
        )
        .order_by("status_changed_at", "id")[:limit]
    )


def ar_aging(practice, *, today=None) -> dict:
    """Open A/R by age of the date of service, in one aggregate query.

    Returns ``{"buckets": [{"key", "label", "count", "insurance", "patient", "total", "percent"}...],
    "insurance", "patient", "total", "count"}``; ``percent`` is the bucket's share of the total A/R
    (Decimal, one place). Voided claims are left out."""
    today = today or timezone.localdate()
    return practice_cached(practice, f"ar-aging:{today.isoformat()}", lambda: _ar_aging(practice, today))


def _ar_aging(practice, today) -> dict:
    aggregates = {}
    for index, (_key, _label, start, end) in enumerate(AGING_BUCKETS):
        in_bucket = _in_aging_bucket(start, end, today)
        aggregates[f"count_{index}"] = Count("id", filter=in_bucket)
        for bucket in ("insurance_balance", "patient_balance"):
            aggregates[f"{bucket}_{index}"] = Coalesce(
                Sum(bucket, filter=in_bucket), Value(ZERO), output_field=MONEY
            )
    row = _open_ar(claims_for_practice(practice)).aggregate(**aggregates)
    buckets = []
    for index, (key, label, start, end) in enumerate(AGING_BUCKETS):
        insurance, patient = row[f"insurance_balance_{index}"], row[f"patient_balance_{index}"]
        buckets.append(
            {
                "key": key,
                "label": label,
                "from_day": start,
                "to_day": end,
                "count": row[f"count_{index}"],
                "insurance": insurance,
                "patient": patient,
                "total": insurance + patient,
            }
        )
    total = sum((b["total"] for b in buckets), ZERO)
    for bucket in buckets:
        bucket["percent"] = (
            (bucket["total"] * 100 / total).quantize(Decimal("0.1")) if total else Decimal("0.0")
        )
    return {
        "buckets": buckets,
        "insurance": sum((b["insurance"] for b in buckets), ZERO),
        "patient": sum((b["patient"] for b in buckets), ZERO),
        "total": total,
        "count": sum(b["count"] for b in buckets),
    }


def ledger_totals(practice, *, since, until=None) -> dict[str, Decimal]:
    """Money moved by the ledger with an effective date in [since, until], net of reversals and refunds,
    in one aggregate query: ``charges``, ``insurance_payments``, ``patient_payments``, ``payments``,
    ``adjustments``, ``write_offs`` (cached until the practice's ledger changes: ``rcm.practice_cache``)."""
    until = until or timezone.localdate()
    return practice_cached(
        practice,
        f"ledger-totals:{since.isoformat()}:{until.isoformat()}",
        lambda: _ledger_totals(practice, since, until),
    )


def _ledger_totals(practice, since, until) -> dict[str, Decimal]:
    K = TransactionKind

    def total(*kinds, party=None):
        direct = Q(kind__in=kinds)
        reversed_ = Q(kind=K.REVERSAL, reverses__kind__in=kinds)
        if party:
            direct &= Q(party=party)
            reversed_ &= Q(reverses__party=party)
        return Coalesce(Sum("amount", filter=direct), Value(ZERO), output_field=MONEY) - Coalesce(
            Sum("amount", filter=reversed_), Value(ZERO), output_field=MONEY
        )

    row = Transaction.objects.filter(
        practice=practice, effective_date__gte=since, effective_date__lte=until
    ).aggregate(
        charges=total(K.CHARGE),
        insurance_payments=total(K.INSURANCE_PAYMENT),
        patient_payments=total(K.PATIENT_PAYMENT),
        insurance_refunds=total(K.REFUND, party="insurance"),
        patient_refunds=total(K.REFUND, party="patient"),
        adjustments=total(K.CONTRACTUAL_ADJUSTMENT, K.OTHER_ADJUSTMENT),
        write_offs=total(K.WRITE_OFF),
    )
    row["insurance_payments"] -= row.pop("insurance_refunds")
    row["patient_payments"] -= row.pop("patient_refunds")
    row["payments"] = row["insurance_payments"] + row["patient_payments"]
    return row


def patient_ar_totals(practice) -> dict:
    """Patient A/R in one aggregate query: what patients owe (``owed``), credit balances (``credits``,
    negative or zero), the number of patients and of claims with a balance owed."""
    return practice_cached(practice, "patient-ar", lambda: _patient_ar_totals(practice))


def _patient_ar_totals(practice) -> dict:
    return (
        claims_for_practice(practice)
        .exclude(status=ClaimStatus.VOIDED)
        .aggregate(
            owed=Coalesce(
                Sum("patient_balance", filter=Q(patient_balance__gt=0)), Value(ZERO), output_field=MONEY
            ),
            credits=Coalesce(
                Sum("patient_balance", filter=Q(patient_balance__lt=0)), Value(ZERO), output_field=MONEY
            ),
            patients=Count("patient", distinct=True, filter=Q(patient_balance__gt=0)),
            claims=Count("id", filter=Q(patient_balance__gt=0)),
        )
    )


# --- Charge entry, work queues, batches and X12 files (pages) ---------------------------------

ICD10_SEARCH_LIMIT = 30
_ICD10_CODE_RE = re.compile(r"^[A-Z][0-9][0-9A-Z]?\.?[0-9A-Z]*$")


@dataclasses.dataclass(frozen=True)
class Icd10Entry:
    code: str
    description: str
    billable: bool
    folded: str  # lower-case description, for word search


@functools.lru_cache(maxsize=1)
def icd10_index() -> tuple[Icd10Entry, ...]:
    """Every ICD-10-CM category and code (chapters and blocks left out), in the tables' order; built once
    per process (about 100,000 entries, a fraction of a second)."""
    cm = _icd10()
    entries = []
    for code in cm.get_all_codes(with_dots=True):
        if cm.is_chapter(code) or cm.is_block(code):
            continue
        description = cm.get_description(code)
        entries.append(Icd10Entry(code, description, cm.is_leaf(code), description.lower()))
    return tuple(entries)


def icd10_search(term: str, *, limit: int = ICD10_SEARCH_LIMIT) -> tuple[list[Icd10Entry], bool]:
    """ICD-10-CM codes for what a biller types: a code prefix ("E11.6", "e116") gives that code and the
    codes under it, in the tables' order; words ("diabetes foot") give the codes whose description holds
    every word. Returns (entries, truncated). Header (non-billable) codes are included, marked by
    ``billable`` False."""
    term = " ".join((term or "").split())[:60]
    if not term:
        return [], False
    upper = term.upper().replace(" ", "")
    if _ICD10_CODE_RE.match(upper):
        prefix = normalize_icd10(upper)
        matches = (entry for entry in icd10_index() if entry.code.startswith(prefix))
    else:
        words = [word for word in term.lower().split() if word]
        if sum(len(word) for word in words) < 3:
            return [], False
        matches = (entry for entry in icd10_index() if all(word in entry.folded for word in words))
    found = list(itertools.islice(matches, limit + 1))
    return found[:limit], len(found) > limit


def charge_master_charge(practice, procedure_code: str, modifier: str = "") -> Decimal | None:
    """The practice's standard charge for a code with its first modifier (falling back to the code's
    charge without modifier), or None when the charge master has neither."""
    procedure_code = (procedure_code or "").strip().upper()
    modifier = (modifier or "").strip().upper()
    if not procedure_code:
        return None
    rows = dict(
        ChargeMasterEntry.objects.filter(
            practice=practice, procedure_code=procedure_code, modifier__in={modifier, ""}, is_active=True
        ).values_list("modifier", "charge")
    )
    return rows.get(modifier, rows.get(""))


def coverage_expected_allowed(
    practice,
    *,
    coverage_id,
    procedure_code: str,
    modifier: str = "",
    charge: Decimal | None = None,
    service_date=None,
    facility: bool = False,
) -> Decimal | None:
    """What the coverage's payer allows for one unit of the code under the contract in force on
    ``service_date`` (today by default), priced by ``rcm.pricing``; None when unknown. ``charge`` is the
    unit's charge, for a % of charges contract."""
    if not coverage_id or not procedure_code:
        return None
    coverage = Coverage.objects.filter(practice=practice, pk=coverage_id).select_related("payer").first()
    if coverage is None:
        return None
    price = line_expected_allowed(
        practice=practice,
        payer=coverage.payer,
        procedure_code=procedure_code,
        service_date=service_date or timezone.localdate(),
        modifiers=(modifier,) if modifier else (),
        charge=charge,
        facility=facility,
    )
    return None if price is None else price.amount


def patient_picker_matches(practice, term: str, *, limit: int = 15) -> list[Patient]:
    """Patients for the charge entry picker: account number or name (see ``patient_search_filter``)."""
    if not (term or "").strip():
        return []
    return list(
        Patient.objects.filter(practice=practice)
        .filter(patient_search_filter(term))
        .only("id", "account_number", "first_name", "middle_name", "last_name", "date_of_birth")
        .order_by("last_name", "first_name", "id")[:limit]
    )


def coverages_for_entry(practice, patient, *, today=None) -> list[Coverage]:
    """The patient's coverages for the charge entry select: those in force today first (by priority),
    then the others, latest first; each with ``active`` set."""
    today = today or timezone.localdate()
    coverages = list(Coverage.objects.filter(practice=practice, patient=patient).select_related("payer"))
    for coverage in coverages:
        coverage.active = coverage.is_active_on(today)
    return sorted(coverages, key=lambda c: (not c.active, c.priority, -c.effective_date.toordinal(), c.pk))


def claim_acknowledgments(claim) -> QuerySet:
    return claim.acknowledgments.select_related("x12_file", "batch").order_by("-at", "-id")


def claim_batches(claim) -> QuerySet:
    return claim.batch_claims.select_related("batch", "batch__payer").order_by(
        "-batch__created_at", "-batch_id"
    )


def claim_by_number(practice, number: str):
    """The practice's claim with this patient control number (our claim number, CLP01), or None."""
    number = (number or "").strip()
    if not number:
        return None
    return (
        scoped(Claim, practice)
        .select_related("patient", "payer")
        .filter(patient_control_number=number)
        .first()
    )
