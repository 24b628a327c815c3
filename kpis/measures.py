"""The one query per KPI: the facts behind each number, used both to compute snapshots and to list the
claims behind a number (drill-down), so a number and its claims can never disagree.

A *fact* is one row per claim (or per claim and day) with the day it counts on, its share of the
numerator and denominator, and the claim's dimensions (payer, provider, place of service). Flow KPIs are
sums of facts over a range of days (``flow_facts``); payment-plan KPIs have one fact per plan, on its
first claim (``_plan_facts``); stock KPIs come from each claim's ledger balance
as of a day (``claim_balances``). The words for each KPI are in ``kpis.definitions``.
"""

import datetime
from collections.abc import Iterator
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import (
    Case,
    DecimalField,
    Exists,
    F,
    IntegerField,
    Min,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from claims.models import (
    ZERO,
    Claim,
    ClaimStatus,
    ClaimStatusChange,
    FrequencyCode,
    Party,
    RemittanceLine,
    Transaction,
    TransactionKind,
    Underpayment,
    UnderpaymentStatus,
)
from denials.models import Denial
from kpis.definitions import AGING_BUCKETS
from payment_plans.models import PaymentPlan, PlanStatus, PlanStatusChange

K, S = TransactionKind, ClaimStatus
MONEY = DecimalField(max_digits=16, decimal_places=2)
ONE, NONE = Value(1, output_field=IntegerField()), Value(0, output_field=IntegerField())
SELF_PAY = "self-pay"
CENT = Decimal("0.01")
LEDGER_SUMS = (
    "charges",
    "contractual",
    "payments",
    "refunds",
    "patient_payments",
    "patient_refunds",
    "patient_responsibility",
    "denial_write_offs",
)


def exact(value) -> Decimal:
    """A sum of money back to whole cents: SQLite sums decimal columns as floating point (PostgreSQL is
    exact), so a sum of cents can come back as 539.9699999999; every amount is whole cents, so rounding
    to the cent restores the exact value."""
    return Decimal(value or 0).quantize(CENT, rounding=ROUND_HALF_UP)


# Kinds that raise a claim's balance (charge, refund) and kinds that lower it; a transfer to the
# patient moves money between the two balances and leaves the claim's total unchanged.
RAISES_BALANCE = (K.CHARGE, K.REFUND)
LOWERS_BALANCE = (
    K.INSURANCE_PAYMENT,
    K.PATIENT_PAYMENT,
    K.CONTRACTUAL_ADJUSTMENT,
    K.OTHER_ADJUSTMENT,
    K.WRITE_OFF,
)
APPEAL_WON = (S.PAID, S.PARTIALLY_PAID)
APPEAL_DECIDED = (S.PAID, S.PARTIALLY_PAID, S.DENIED, S.WRITTEN_OFF)
RESOLVED_FIRST_PASS = (S.PAID, S.FORWARDED)


def _dimensions(prefix: str = "") -> dict:
    """The claim's dimensions, under names that clash with no model field."""
    return {
        "dim_payer": F(f"{prefix}payer_id"),
        "dim_provider": Coalesce(F(f"{prefix}rendering_provider_id"), F(f"{prefix}billing_provider_id")),
        "dim_pos": F(f"{prefix}place_of_service"),
    }


def local_days(field: str, start: datetime.date, end: datetime.date) -> dict:
    """``field`` (a datetime) on a local day of [start, end], as a range on the column itself: the same rows
    as ``field__date__gte/lte``, but an index on the column serves it (no time-zone conversion per row)."""
    zone = timezone.get_current_timezone()
    return {
        f"{field}__gte": datetime.datetime.combine(start, datetime.time(), zone),
        f"{field}__lt": datetime.datetime.combine(end + datetime.timedelta(days=1), datetime.time(), zone),
    }


def dimension_values(payer_id, provider_id, place_of_service) -> list[tuple[str, str]]:
    """The snapshot rows one fact counts in: the whole practice and each of its dimensions."""
    return [
        ("practice", ""),
        ("payer", str(payer_id) if payer_id else SELF_PAY),
        ("provider", str(provider_id) if provider_id else ""),
        ("place_of_service", place_of_service or ""),
    ]


def _net(kinds, *, party: str | None = None, also: Q | None = None) -> Sum:
    """Σ amount of ``kinds`` minus Σ amount of the reversals of ``kinds`` (a reversal counts on its own
    effective date, so a reversal crossing a period boundary lowers the later period)."""
    direct = Q(kind__in=kinds)
    reversed_ = Q(kind=K.REVERSAL, reverses__kind__in=kinds)
    if party is not None:
        direct &= Q(party=party)
        reversed_ &= Q(reverses__party=party)
    if also is not None:
        direct &= also
        reversed_ &= also
    return Sum(
        Case(
            When(direct, then=F("amount")),
            When(reversed_, then=-F("amount")),
            default=Value(ZERO),
            output_field=MONEY,
        )
    )


# --- ledger facts: one grouped query gives every cash-basis KPI ----------------------------------------


def ledger_facts(practice, start: datetime.date, end: datetime.date) -> list[dict]:
    """Per claim and effective date in [start, end]: the ledger sums the cash-basis KPIs divide."""
    return _ledger_rows(practice, start, end, "claim_id")


def ledger_sums(practice, start: datetime.date, end: datetime.date) -> list[dict]:
    """The same sums per effective date and dimensions (payer, provider, place of service), without the
    claim: what the snapshots add up, in far fewer rows than ``ledger_facts``."""
    return _ledger_rows(practice, start, end)


def _ledger_rows(practice, start, end, *per) -> list[dict]:
    has_denial = Q(claim_id__in=Denial.objects.filter(practice=practice).values("claim_id"))
    rows = list(
        Transaction.objects.filter(practice=practice, effective_date__gte=start, effective_date__lte=end)
        .values(*per, day=F("effective_date"), **_dimensions("claim__"))
        .annotate(
            charges=_net([K.CHARGE]),
            contractual=_net([K.CONTRACTUAL_ADJUSTMENT]),
            payments=_net([K.INSURANCE_PAYMENT, K.PATIENT_PAYMENT]),
            refunds=_net([K.REFUND]),
            patient_payments=_net([K.PATIENT_PAYMENT]),
            patient_refunds=_net([K.REFUND], party=Party.PATIENT),
            patient_responsibility=_net([K.TRANSFER_TO_PATIENT]) + _net([K.CHARGE], party=Party.PATIENT),
            denial_write_offs=_net([K.WRITE_OFF], party=Party.INSURANCE, also=has_denial),
        )
        .order_by()
    )
    for row in rows:
        for name in LEDGER_SUMS:
            row[name] = exact(row[name])
    return rows


def cash(fact: dict) -> Decimal:
    """The cash collected in a ledger fact: insurance and patient payments minus refunds (each net of its
    reversals). The one definition of cash: the collection rates, the denial write-off % and the cost to
    collect all divide by it or into it."""
    return fact["payments"] - fact["refunds"]


# (numerator, denominator) of each cash-basis KPI, from one ledger fact. The cost to collect's numerator
# is entered per month (``RevenueCycleCost``), not in the ledger: its facts carry only the cash.
LEDGER_MEASURES = {
    "net_collection_rate": lambda f: (cash(f), f["charges"] - f["contractual"]),
    "gross_collection_rate": lambda f: (cash(f), f["charges"]),
    "patient_collection_rate": lambda f: (
        f["patient_payments"] - f["patient_refunds"],
        f["patient_responsibility"],
    ),
    "denial_write_off_pct": lambda f: (f["denial_write_offs"], cash(f)),
    "cost_to_collect": lambda f: (ZERO, cash(f)),
}


# --- claim facts: one query per KPI ---------------------------------------------------------------------


def _clean_claim_rate(practice, start, end):
    rejected = ClaimStatusChange.objects.filter(claim=OuterRef("pk"), to_status=S.REJECTED)
    clean = Q(edited_after_scrub=False) & ~Exists(rejected)
    return (
        Claim.objects.filter(practice=practice, **local_days("first_submitted_at", start, end))
        .exclude(frequency_code=FrequencyCode.VOID)
        .values(
            claim_id=F("pk"),
            day=TruncDate("first_submitted_at"),
            numerator=Case(When(clean, then=ONE), default=NONE),
            denominator=ONE,
            **_dimensions(),
        )
    )


def _first_adjudications(practice, start, end):
    """The claims first adjudicated in [start, end] (``Claim.first_adjudicated_at``, kept by the state
    machine), each with its ``day`` and whether that first adjudication ``denied`` it: denied outright, or a
    denial recorded the same day (a line denied on a claim partly paid)."""
    # The same range on the denials (a denial of that day is in it): PostgreSQL hashes the range's denials
    # once instead of the practice's every denial.
    denial_that_day = Denial.objects.filter(
        practice=practice,
        **local_days("created_at", start, end),
        claim=OuterRef("pk"),
        created_at__date=OuterRef("day"),
    )
    return (
        Claim.objects.filter(practice=practice, **local_days("first_adjudicated_at", start, end))
        .annotate(day=TruncDate("first_adjudicated_at"))
        .annotate(denial_that_day=Exists(denial_that_day))
        .annotate(
            denied=Case(
                When(Q(first_adjudication_status=S.DENIED) | Q(denial_that_day=True), then=ONE),
                default=NONE,
            )
        )
    )


def _initial_denial_rate(practice, start, end):
    return _first_adjudications(practice, start, end).values(
        "day", claim_id=F("pk"), numerator=F("denied"), denominator=ONE, **_dimensions()
    )


def _initial_denial_rate_dollars(practice, start, end):
    return _first_adjudications(practice, start, end).values(
        "day",
        claim_id=F("pk"),
        numerator=Case(When(denied=1, then=F("charge_total")), default=Value(ZERO), output_field=MONEY),
        denominator=F("charge_total"),
        **_dimensions(),
    )


def _first_pass_resolution_rate(practice, start, end):
    resolved = Q(first_adjudication_status__in=RESOLVED_FIRST_PASS, denial_that_day=False)
    return _first_adjudications(practice, start, end).values(
        "day",
        claim_id=F("pk"),
        numerator=Case(When(resolved, then=ONE), default=NONE),
        denominator=ONE,
        **_dimensions(),
    )


def _appeal_overturn_rate(practice, start, end):
    return ClaimStatusChange.objects.filter(
        practice=practice,
        from_status=S.APPEALED,
        to_status__in=APPEAL_DECIDED,
        **local_days("at", start, end),
    ).values(
        "claim_id",
        day=TruncDate("at"),
        numerator=Case(When(to_status__in=APPEAL_WON, then=ONE), default=NONE),
        denominator=ONE,
        **_dimensions("claim__"),
    )


def _charge_lag(practice, start, end):
    rows = Claim.objects.filter(practice=practice, **local_days("created_at", start, end)).values(
        "service_date", claim_id=F("pk"), day=TruncDate("created_at"), **_dimensions()
    )
    # Date differences in days are computed here: SQLite and PostgreSQL subtract dates differently.
    for row in rows:
        row["numerator"] = Decimal((row["day"] - row.pop("service_date")).days)
        row["denominator"] = 1
        yield row


def _days_to_pay(practice, start, end):
    # One grouped pass over the practice's insurance payments (the first one per claim), not a subquery per
    # claim: at 500,000 claims the correlated form took seconds.
    rows = (
        Transaction.objects.filter(
            practice=practice, kind=K.INSURANCE_PAYMENT, claim__first_submitted_at__isnull=False
        )
        .values("claim_id", first_submitted_at=F("claim__first_submitted_at"), **_dimensions("claim__"))
        .annotate(day=Min("effective_date"))
        .filter(day__gte=start, day__lte=end)
        .order_by()
    )
    for row in rows:
        submitted = timezone.localdate(row.pop("first_submitted_at"))
        row["numerator"] = Decimal((row["day"] - submitted).days)
        row["denominator"] = 1
        yield row


def _underpayment_identified(practice, start, end):
    day = Coalesce(
        F("remittance_claim__remittance__payment_date"),
        TruncDate("remittance_claim__remittance__received_at"),
    )
    return (
        RemittanceLine.objects.filter(
            remittance_claim__remittance__practice=practice,
            claim_line__isnull=False,
            expected_allowed__gt=F("allowed"),
        )
        .annotate(day=day)
        .filter(day__gte=start, day__lte=end)
        .values(
            "day",
            claim_id=F("claim_line__claim_id"),
            numerator=F("expected_allowed") - F("allowed"),
            denominator=Value(ZERO, output_field=MONEY),
            **_dimensions("claim_line__claim__"),
        )
    )


def _underpayment_recovered(practice, start, end):
    return Underpayment.objects.filter(
        practice=practice, status=UnderpaymentStatus.RECOVERED, **local_days("resolved_at", start, end)
    ).values(
        "claim_id",
        day=TruncDate("resolved_at"),
        numerator=F("recovered_amount"),
        denominator=Value(ZERO, output_field=MONEY),
        **_dimensions("claim__"),
    )


def _plan_facts(practice, start, end, counted: Q):
    """One fact per payment plan created on a day of [start, end] (``counted`` says which plans make the
    numerator). A plan covers several claims: it counts once, on its lowest-numbered claim (``claim_id``),
    with that claim's dimensions, so the drill-down lists one claim per plan and adds up to the number. A
    plan cancelled without ever having defaulted is left out; every plan covers at least one claim
    (``plan_create`` refuses a plan with no balance)."""
    PlanClaim = PaymentPlan.claims.through
    first_claim = PlanClaim.objects.filter(paymentplan_id=OuterRef("paymentplan_id")).order_by("claim_id")
    defaulted_once = PlanStatusChange.objects.filter(
        plan_id=OuterRef("paymentplan_id"), to_status=PlanStatus.DEFAULTED
    )
    return (
        PlanClaim.objects.filter(
            paymentplan__practice=practice,
            **local_days("paymentplan__created_at", start, end),
            claim_id=Subquery(first_claim.values("claim_id")[:1]),
        )
        .annotate(defaulted_once=Exists(defaulted_once))
        .exclude(paymentplan__status=PlanStatus.CANCELLED, defaulted_once=False)
        .values(
            "claim_id",
            day=TruncDate("paymentplan__created_at"),
            numerator=Case(When(counted, then=ONE), default=NONE),
            denominator=ONE,
            **_dimensions("claim__"),
        )
    )


def _payment_plan_completion_rate(practice, start, end):
    return _plan_facts(practice, start, end, Q(paymentplan__status=PlanStatus.COMPLETED))


def _payment_plan_default_rate(practice, start, end):
    defaulted = Q(paymentplan__status=PlanStatus.DEFAULTED) | Q(
        paymentplan__status=PlanStatus.CANCELLED, defaulted_once=True
    )
    return _plan_facts(practice, start, end, defaulted)


CLAIM_MEASURES = {
    "clean_claim_rate": _clean_claim_rate,
    "initial_denial_rate": _initial_denial_rate,
    "initial_denial_rate_dollars": _initial_denial_rate_dollars,
    "first_pass_resolution_rate": _first_pass_resolution_rate,
    "appeal_overturn_rate": _appeal_overturn_rate,
    "charge_lag": _charge_lag,
    "days_to_pay": _days_to_pay,
    "underpayment_identified": _underpayment_identified,
    "underpayment_recovered": _underpayment_recovered,
    "payment_plan_completion_rate": _payment_plan_completion_rate,
    "payment_plan_default_rate": _payment_plan_default_rate,
}


def flow_facts(practice, slug: str, start: datetime.date, end: datetime.date) -> Iterator[dict]:
    """The facts of one flow KPI in [start, end]: dicts with claim_id, day, numerator, denominator and
    the claim's dimensions (dim_payer, dim_provider, dim_pos)."""
    if slug in LEDGER_MEASURES:
        measure = LEDGER_MEASURES[slug]
        for fact in ledger_facts(practice, start, end):
            numerator, denominator = measure(fact)
            yield {**fact, "numerator": numerator, "denominator": denominator}
    else:
        for fact in CLAIM_MEASURES[slug](practice, start, end):
            yield {**fact, "numerator": exact(fact["numerator"]), "denominator": exact(fact["denominator"])}


def claim_facts_query(practice, slug: str, start: datetime.date, end: datetime.date) -> QuerySet | None:
    """A claim measure's facts as the query they come from (rows as ``flow_facts`` gives them, before
    its rounding), so a drill-down can narrow them in SQL; None for measures computed in Python (charge
    lag, days to pay) and for the ledger's."""
    measure = CLAIM_MEASURES.get(slug)
    facts = measure(practice, start, end) if measure else None
    return facts if isinstance(facts, QuerySet) else None


def facts_in_dimension(dimension: str, value: str) -> Q:
    """The facts (of ``claim_facts_query``) counted in one dimension value: ``dimension_values`` in SQL."""
    if dimension == "payer":
        return Q(dim_payer__isnull=True) if value == SELF_PAY else Q(dim_payer=_id_or_none(value))
    if dimension == "provider":
        return Q(dim_provider__isnull=True) if value == "" else Q(dim_provider=_id_or_none(value))
    if dimension == "place_of_service":
        return Q(dim_pos=value)
    return Q()


def _id_or_none(value: str) -> int:
    return int(value) if value.isdigit() else 0  # 0 matches no row


# --- stock facts: each claim's ledger balance as of a day ------------------------------------------------


def balance_delta() -> Sum:
    """What the ledger rows do to a claim's total balance (insurance + patient)."""
    return Sum(
        Case(
            When(kind__in=RAISES_BALANCE, then=F("amount")),
            When(kind__in=LOWERS_BALANCE, then=-F("amount")),
            When(kind=K.REVERSAL, reverses__kind__in=RAISES_BALANCE, then=-F("amount")),
            When(kind=K.REVERSAL, reverses__kind__in=LOWERS_BALANCE, then=F("amount")),
            default=Value(ZERO),
            output_field=MONEY,
        )
    )


def claim_balances(practice, day: datetime.date) -> dict[int, Decimal]:
    """Each claim's balance from the ledger rows dated up to ``day`` (claims at zero left out).

    Read as the claim's balance now less what the rows dated after ``day`` did: ``claims.ledger`` keeps a
    claim's balances equal to the sum of all its ledger rows (``ledger_check`` verifies it), so this is the
    same number without adding up the practice's whole ledger; for a recent day only a few days of rows
    are read."""
    balances = {
        claim_id: exact(balance)
        for claim_id, balance in Claim.objects.filter(practice=practice)
        .annotate(total=F("insurance_balance") + F("patient_balance"))
        .exclude(total=0)
        .values_list("pk", "total")
    }
    later = (
        Transaction.objects.filter(practice=practice, effective_date__gt=day)
        .values("claim_id")
        .annotate(delta=balance_delta())
        .order_by()
    )
    for row in later:
        balances[row["claim_id"]] = balances.get(row["claim_id"], ZERO) - exact(row["delta"])
    return {claim_id: balance for claim_id, balance in balances.items() if balance}


def balance_deltas(practice, start: datetime.date, end: datetime.date) -> list[dict]:
    """Per claim and effective date in [start, end]: the change of the claim's balance."""
    rows = list(
        Transaction.objects.filter(practice=practice, effective_date__gte=start, effective_date__lte=end)
        .values("claim_id", day=F("effective_date"))
        .annotate(delta=balance_delta())
        .order_by()
    )
    for row in rows:
        row["delta"] = exact(row["delta"])
    return rows


def aging_bucket(age_days: int) -> str:
    for slug, _label, first, last in AGING_BUCKETS:
        if age_days >= first and (last is None or age_days <= last):
            return slug
    return AGING_BUCKETS[0][0]  # a service date after the day (entered ahead): the youngest bucket


def stock_claims(practice, slug: str, day: datetime.date) -> dict[int, Decimal]:
    """The claims behind a stock KPI on ``day`` with the amount each contributes (drill-down)."""
    balances = claim_balances(practice, day)
    if slug == "credit_balances":
        return {claim_id: -balance for claim_id, balance in balances.items() if balance < 0}
    owed = {claim_id: balance for claim_id, balance in balances.items() if balance > 0}
    if slug in ("ar_total", "days_in_ar"):
        return owed
    service_dates = dict(Claim.objects.filter(pk__in=list(owed)).values_list("pk", "service_date"))
    if slug in ("ar_over_90_pct", "ar_over_120_pct"):
        older_than = 90 if slug == "ar_over_90_pct" else 120
        return {c: b for c, b in owed.items() if (day - service_dates[c]).days > older_than}
    return {c: b for c, b in owed.items() if aging_bucket((day - service_dates[c]).days) == slug}
