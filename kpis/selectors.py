"""Reads of the KPIs app: the dashboard and the API read precomputed snapshots (a fixed number of queries
whatever the practice's size); drill-downs run the KPI's own query from ``kpis.measures`` for the range.
"""

import dataclasses
import datetime
from decimal import Decimal
from urllib.parse import urlencode

from django.db.models import Count, Max, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth

from claims.models import ZERO, Claim
from denials.models import Denial
from kpis.definitions import AGING_BUCKETS, BY_SLUG, DEFINITIONS, FLOW, MONTHLY, STOCK, KpiDefinition
from kpis.measures import (
    SELF_PAY,
    claim_facts_query,
    dimension_values,
    exact,
    facts_in_dimension,
    flow_facts,
    local_days,
    stock_claims,
)
from kpis.models import Dimension, KpiClaimBalance, KpiSavedView, KpiSnapshot, KpiTarget, RevenueCycleCost
from kpis.scorecard import month_end, months_between
from rcm.bulk import ids_in
from rcm.models import Payer, Provider
from rcm.practice_cache import KPI_FIGURES, practice_cached
from rcm.tenancy import scoped

TREND_MONTHS = 12
PARETO_CODES = 10


@dataclasses.dataclass(frozen=True)
class Scope:
    """Whose numbers: the whole practice, or one payer, provider or place of service."""

    dimension: str = Dimension.PRACTICE
    value: str = ""

    def facts_q(self) -> Q:
        """``matches`` in SQL, on the facts of ``claim_facts_query``."""
        if self.dimension == Dimension.PRACTICE:
            return Q()
        return facts_in_dimension(self.dimension, self.value)

    def matches(self, fact: dict) -> bool:
        if self.dimension == Dimension.PRACTICE:
            return True
        keys = dict(dimension_values(fact["dim_payer"], fact["dim_provider"], fact["dim_pos"]))
        return keys[self.dimension] == self.value


@dataclasses.dataclass
class KpiValue:
    definition: KpiDefinition
    numerator: Decimal = ZERO
    denominator: Decimal = ZERO
    value: Decimal | None = None
    previous: Decimal | None = None
    band: str = ""
    good: Decimal | None = None
    warn: Decimal | None = None
    missing: str = ""  # why a computed KPI has no number for this period (a month's cost not entered)

    @property
    def change(self) -> Decimal | None:
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous


def _snapshots(practice, scope: Scope):
    return scoped(KpiSnapshot, practice).filter(dimension=scope.dimension, dimension_value=scope.value)


def months_touched(start: datetime.date, end: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The first day of ``start``'s month and the last day of ``end``'s: what a monthly KPI covers."""
    return start.replace(day=1), month_end(end)


def _sums(practice, scope, start, end) -> dict[str, tuple[Decimal, Decimal]]:
    """Flow KPIs over [start, end], stock KPIs on the last computed day of it and monthly KPIs over the
    whole months it touches, in one query (plus one for the last day)."""
    rows = _snapshots(practice, scope)
    last_day = rows.filter(day__gte=start, day__lte=end).aggregate(last=Max("day"))["last"]
    flows = [d.slug for d in DEFINITIONS if d.kind == FLOW and d.computed]
    monthly = [d.slug for d in DEFINITIONS if d.kind == MONTHLY and d.computed]
    first, last = months_touched(start, end)
    in_range = Q(day__gte=start, day__lte=end) & (Q(kpi__in=flows) | Q(day=last_day))
    result = {
        row["kpi"]: (exact(row["n"]), exact(row["d"]))
        for row in rows.filter(day__gte=first, day__lte=last)
        .filter(in_range | Q(kpi__in=monthly))
        .values("kpi")
        .annotate(n=Sum("numerator"), d=Sum("denominator"))
        .order_by()
    }
    return result


def month_costs(practice, first: datetime.date, last: datetime.date) -> dict[datetime.date, Decimal]:
    """The revenue-cycle cost entered for each month of [first, last] (months without one left out)."""
    return dict(
        scoped(RevenueCycleCost, practice)
        .filter(month__gte=first.replace(day=1), month__lte=last)
        .values_list("month", "amount")
    )


def _with_costs(item: KpiValue, sums, costs, scope, start, end) -> None:
    """A monthly KPI's numerator from the entered costs of the months [start, end] touches; no number when
    one of them has none (the words say which) or under a payer or provider's scope."""
    if scope.dimension != Dimension.PRACTICE:
        item.missing = "whole practice only"
        return
    first, last = months_touched(start, end)
    months = months_between(first, last)
    absent = [month for month in months if month not in costs]
    item.denominator = sums.get(item.definition.slug, (ZERO, ZERO))[1]
    if absent:
        item.missing = "enter the month's cost: " + ", ".join(f"{month:%b %Y}" for month in absent)
        return
    item.numerator = sum((costs[month] for month in months), ZERO)
    item.value = item.definition.value(item.numerator, item.denominator)


def kpi_targets(practice) -> dict[str, tuple[Decimal, Decimal | None]]:
    return {t.kpi: (t.good, t.warn) for t in scoped(KpiTarget, practice)}


def kpi_values(practice, *, start: datetime.date, end: datetime.date, scope: Scope = Scope()) -> dict:
    """Every KPI over [start, end] with its value on the period of the same length just before, its
    target band (the practice's own, else the definition's) and its colour."""
    length = (end - start).days + 1
    previous_end = start - datetime.timedelta(days=1)
    previous_start = previous_end - datetime.timedelta(days=length - 1)
    current = _sums(practice, scope, start, end)
    previous = _sums(practice, scope, previous_start, previous_end)
    targets = kpi_targets(practice)
    # The entered monthly costs (the cost to collect's numerator) count for the whole practice only.
    costs = month_costs(practice, previous_start, month_end(end)) if scope == Scope() else {}
    values = {}
    for definition in DEFINITIONS:
        good, warn = targets.get(definition.slug, (definition.good, definition.warn))
        item = KpiValue(definition=definition, good=good, warn=warn)
        if definition.kind == MONTHLY:
            _with_costs(item, current, costs, scope, start, end)
            before = KpiValue(definition=definition)
            _with_costs(before, previous, costs, scope, previous_start, previous_end)
            item.previous = before.value
            item.band = definition.band(item.value, good, warn)
        elif definition.computed:
            item.numerator, item.denominator = current.get(definition.slug, (ZERO, ZERO))
            item.value = definition.value(item.numerator, item.denominator)
            if definition.slug in previous:
                item.previous = definition.value(*previous[definition.slug])
            item.band = definition.band(item.value, good, warn)
        values[definition.slug] = item
    return values


def snapshot_status(practice) -> dict:
    """When the numbers were computed and which days they cover. Read from the whole-practice rows only
    (every fact counts in them, so a day with any row has whole-practice rows): a few thousand rows on
    the ``kpi_snapshot_read`` index instead of every dimension's."""
    row = _snapshots(practice, Scope()).aggregate(
        computed_at=Max("computed_at"), last_day=Max("day"), days=Count("day", distinct=True)
    )
    return row


def _last_day(practice, end: datetime.date) -> datetime.date | None:
    """The last computed day up to ``end`` (from the whole-practice rows: one backward index step)."""
    return _snapshots(practice, Scope()).filter(day__lte=end).aggregate(last=Max("day"))["last"]


def _month_starts(end: datetime.date, months: int) -> list[datetime.date]:
    first = end.replace(day=1)
    starts = []
    for _ in range(months):
        starts.append(first)
        first = (first - datetime.timedelta(days=1)).replace(day=1)
    return starts[::-1]


def kpi_series(
    practice, *, slugs: list[str], end: datetime.date, scope: Scope = Scope(), months=TREND_MONTHS
):
    """Monthly values of ``slugs`` for the ``months`` months ending with ``end``'s month (the last one to
    ``end``): flows summed over the month, stocks as of the month's last computed day, a monthly KPI as the
    month's entered cost over its cash (no number without a cost). Two queries, three with a monthly KPI."""
    starts = _month_starts(end, months)
    rows = _snapshots(practice, scope).filter(kpi__in=slugs, day__gte=starts[0], day__lte=end)
    flow_slugs = [s for s in slugs if BY_SLUG[s].kind in (FLOW, MONTHLY)]
    stock_slugs = [s for s in slugs if BY_SLUG[s].kind == STOCK]
    sums: dict[tuple[str, datetime.date], tuple] = {}
    for row in (
        rows.filter(kpi__in=flow_slugs)
        .annotate(month=TruncMonth("day"))
        .values("kpi", "month")
        .annotate(n=Sum("numerator"), d=Sum("denominator"))
        .order_by()
    ):
        sums[(row["kpi"], row["month"])] = (exact(row["n"]), exact(row["d"]))
    last_days: dict[datetime.date, datetime.date] = {}
    stock_rows = list(rows.filter(kpi__in=stock_slugs).values("kpi", "day", "numerator", "denominator"))
    for row in stock_rows:
        month = row["day"].replace(day=1)
        last_days[month] = max(last_days.get(month, row["day"]), row["day"])
    for row in stock_rows:
        month = row["day"].replace(day=1)
        if row["day"] == last_days[month]:
            sums[(row["kpi"], month)] = (row["numerator"], row["denominator"])
    # order_by(): the model's default ordering would join the practice and make DISTINCT return every row.
    computed_months = {
        row["month"] for row in rows.annotate(month=TruncMonth("day")).values("month").order_by().distinct()
    }
    # A monthly KPI's numerator is entered per month (one more query, only when one is asked for).
    monthly = any(BY_SLUG[slug].kind == MONTHLY for slug in slugs)
    costs = month_costs(practice, starts[0], end) if monthly and scope == Scope() else {}
    series = {}
    for slug in slugs:
        definition = BY_SLUG[slug]
        points = []
        for month in starts:
            numerator, denominator = sums.get((slug, month), (ZERO, ZERO))
            computed = month in computed_months
            if definition.kind == MONTHLY:  # no number for a month whose cost is not entered
                numerator = costs.get(month)
            value = None if not computed or numerator is None else definition.value(numerator, denominator)
            points.append({"month": month, "computed": computed, "value": value})
        series[slug] = points
    return series


def aging_by_payer(practice, *, end: datetime.date) -> dict:
    """Open A/R by age bucket for each payer, as of the last computed day up to ``end``."""
    rows = scoped(KpiSnapshot, practice).filter(dimension=Dimension.PAYER)
    last_day = _last_day(practice, end)
    slugs = [slug for slug, *_rest in AGING_BUCKETS]
    table: dict[str, dict[str, Decimal]] = {}
    for row in rows.filter(day=last_day, kpi__in=slugs).values("dimension_value", "kpi", "numerator"):
        table.setdefault(row["dimension_value"], dict.fromkeys(slugs, ZERO))[row["kpi"]] = row["numerator"]
    names = payer_names(practice)
    payers = [
        {
            "value": value,
            "name": names.get(value, "Self-pay" if value == SELF_PAY else value),
            "buckets": [buckets[slug] for slug in slugs],
            "total": sum(buckets.values(), ZERO),
        }
        for value, buckets in table.items()
    ]
    payers.sort(key=lambda p: -p["total"])
    return {"day": last_day, "buckets": AGING_BUCKETS, "payers": payers}


def payer_names(practice) -> dict[str, str]:
    return {str(pk): name for pk, name in scoped(Payer, practice).values_list("pk", "name")}


def provider_names(practice) -> dict[str, str]:
    return {
        str(p.pk): str(p)
        for p in scoped(Provider, practice).only(
            "pk", "first_name", "last_name", "credentials", "is_organization"
        )
    }


PAYER_COMPARISON = ["initial_denial_rate", "first_pass_resolution_rate", "net_collection_rate", "days_to_pay"]


def payer_comparison(practice, *, start: datetime.date, end: datetime.date) -> list[dict]:
    """Per payer: the flow KPIs of ``PAYER_COMPARISON`` over [start, end], and open A/R on ``end``. One
    query for the flows, one for the A/R, one for the names."""
    rows = scoped(KpiSnapshot, practice).filter(dimension=Dimension.PAYER)
    sums: dict[str, dict[str, tuple]] = {}
    for row in (
        rows.filter(kpi__in=PAYER_COMPARISON, day__gte=start, day__lte=end)
        .values("dimension_value", "kpi")
        .annotate(n=Sum("numerator"), d=Sum("denominator"))
        .order_by()
    ):
        sums.setdefault(row["dimension_value"], {})[row["kpi"]] = (exact(row["n"]), exact(row["d"]))
    last_day = _last_day(practice, end)
    for row in rows.filter(kpi="ar_total", day=last_day).values("dimension_value", "numerator"):
        sums.setdefault(row["dimension_value"], {})["ar_total"] = (row["numerator"], ZERO)
    names = payer_names(practice)
    result = []
    for value, kpis in sums.items():
        item = {"value": value, "name": names.get(value, "Self-pay" if value == SELF_PAY else value)}
        for slug in [*PAYER_COMPARISON, "ar_total"]:
            item[slug] = BY_SLUG[slug].value(*kpis[slug]) if slug in kpis else None
        result.append(item)
    result.sort(key=lambda item: -(item["ar_total"] or ZERO))
    return result


def denial_pareto(
    practice, *, start: datetime.date, end: datetime.date, scope: Scope = Scope()
) -> list[dict]:
    """Denials recorded in [start, end] by CARC, most frequent first, with their cumulative share."""
    denials = scoped(Denial, practice).filter(**local_days("created_at", start, end))
    denials = denials.filter(_claim_scope(scope, prefix="claim__"))
    rows = list(
        denials.values("group_code", "reason_code")
        .annotate(count=Count("id"), amount=Sum("amount"))
        .order_by("-count", "-amount", "reason_code")[:PARETO_CODES]
    )
    total = denials.count()
    running = 0
    for row in rows:
        row["amount"] = exact(row["amount"])
        running += row["count"]
        row["cumulative"] = (Decimal(running * 100) / total).quantize(Decimal("0.1")) if total else None
    return rows


def _claim_scope(scope: Scope, prefix: str = "") -> Q:
    """The scope as a filter on claims (``prefix`` reaches the claim from another model)."""
    if scope.dimension == Dimension.PAYER:
        if scope.value == SELF_PAY:
            return Q(**{f"{prefix}payer__isnull": True})
        return Q(**{f"{prefix}payer_id": scope.value})
    if scope.dimension == Dimension.PROVIDER:
        return Q(**{f"{prefix}rendering_provider_id": scope.value}) | Q(
            **{f"{prefix}rendering_provider__isnull": True, f"{prefix}billing_provider_id": scope.value}
        )
    if scope.dimension == Dimension.PLACE_OF_SERVICE:
        return Q(**{f"{prefix}place_of_service": scope.value})
    return Q()


@dataclasses.dataclass
class Drilldown:
    """The claims behind one number, newest date of service first: ``count`` of them adding up to
    ``total``. ``claims`` is a query of claims with what each adds in ``amounts`` (from the KPI's facts), or
    of stored balances (``KpiClaimBalance``, claim joined); page it or iterate it, then ``label`` gives the
    claims, each with ``counts_for``."""

    claims: QuerySet
    count: int
    total: Decimal
    amounts: dict[int, Decimal] | None = None
    negate: bool = False  # stored balances: the amount counts negated (a credit balance)

    def label(self, rows):
        """The claims of ``rows`` (a page or all of ``claims``), each with ``counts_for``."""
        for row in rows:
            if isinstance(row, KpiClaimBalance):
                claim = row.claim
                claim.counts_for = -row.balance if self.negate else row.balance
                yield claim
            else:
                row.counts_for = self.amounts.get(row.pk)
                yield row


def _from_amounts(practice, amounts: dict[int, Decimal]) -> Drilldown:
    # Patients and payers fetched for the page's claims only: joined, they were read for every claim
    # listed before the sort picked the page.
    claims = scoped(Claim, practice).filter(pk__in=ids_in(amounts)).prefetch_related("patient", "payer")
    return Drilldown(
        claims=claims.order_by("-service_date", "-id"),
        count=len(amounts),
        total=sum(amounts.values(), ZERO),
        amounts=amounts,
    )


def _stored_stock(practice, slug: str, day: datetime.date, scope: Scope) -> Drilldown | None:
    """A stock KPI's claims on ``day`` from the balances stored with that day's snapshots (the practice's
    latest computed day), paged in SQL; None when ``day`` is not the stored one."""
    rows = KpiClaimBalance.objects.filter(practice=practice, day=day)
    if not rows.exists():
        return None
    sign = 1
    if slug == "credit_balances":
        rows, sign = rows.filter(balance__lt=0), -1
    else:
        rows = rows.filter(balance__gt=0)
        if slug in ("ar_over_90_pct", "ar_over_120_pct"):
            older_than = 90 if slug == "ar_over_90_pct" else 120
            rows = rows.filter(service_date__lt=day - datetime.timedelta(days=older_than))
        elif slug not in ("ar_total", "days_in_ar"):
            for index, (bucket, _label, first, last) in enumerate(AGING_BUCKETS):
                if bucket != slug:
                    continue
                if index:  # the youngest bucket also takes a service date after the day
                    rows = rows.filter(service_date__lte=day - datetime.timedelta(days=first))
                if last is not None:
                    rows = rows.filter(service_date__gte=day - datetime.timedelta(days=last))
    if scope.dimension != Dimension.PRACTICE:
        column = {
            Dimension.PAYER: "dim_payer",
            Dimension.PROVIDER: "dim_provider",
            Dimension.PLACE_OF_SERVICE: "dim_pos",
        }[scope.dimension]
        rows = rows.filter(**{column: scope.value})
    # The index alone answers, but over every open claim of the day: the stored balances change only
    # with a computation, which renews the practice's KPI figures.
    summary = practice_cached(
        practice,
        f"kpi-stock:{slug}:{day.isoformat()}:{scope.dimension}:{scope.value}",
        lambda: rows.aggregate(count=Count("claim"), total=Sum("balance")),
        topic=KPI_FIGURES,
    )
    # Paged on the stored rows, newest date of service first (the read index's order): only the page's
    # claims are joined.
    claims = rows.select_related("claim", "claim__patient", "claim__payer").order_by(
        "-service_date", "-claim_id"
    )
    return Drilldown(
        claims=claims, count=summary["count"], total=exact(summary["total"]) * sign, negate=sign < 0
    )


def kpi_claims(
    practice,
    slug: str,
    *,
    start: datetime.date,
    end: datetime.date,
    scope: Scope = Scope(),
    part="denominator",
) -> Drilldown:
    """The claims behind a KPI over [start, end] (a stock KPI: on ``end``), from the KPI's own query, with
    what each claim contributes to ``part`` ("numerator" or "denominator"). Claims contributing zero to
    ``part`` are left out. A stock KPI on the latest computed day reads the balances stored with its
    snapshots; on another day, the ledger."""
    definition = BY_SLUG[slug]
    if definition.kind == STOCK:
        stored = _stored_stock(practice, slug, end, scope)
        if stored is not None:
            return stored
        stock = stock_claims(practice, slug, end)
        in_scope = scoped(Claim, practice).filter(_claim_scope(scope), pk__in=ids_in(stock))
        return _from_amounts(
            practice, {claim_id: stock[claim_id] for claim_id in in_scope.values_list("pk", flat=True)}
        )
    if definition.kind == MONTHLY:
        # The cash of the whole months behind the number; the entered cost has no claims.
        start, end = months_touched(start, end)
        part = "denominator"
    # Read from the claims as they are now, so cached only until the practice's claims change: paging
    # through the list, or going back to it, does not read the facts again.
    amounts = practice_cached(
        practice,
        f"kpi-claims:{slug}:{part}:{start.isoformat()}:{end.isoformat()}:{scope.dimension}:{scope.value}",
        lambda: _flow_amounts(practice, slug, start, end, scope, part),
    )
    return _from_amounts(practice, amounts)


def _flow_amounts(practice, slug, start, end, scope: Scope, part: str) -> dict[int, Decimal]:
    """What each claim adds to ``part`` of a flow KPI over [start, end] in ``scope`` (claims adding zero
    left out)."""
    amounts: dict[int, Decimal] = {}
    query = claim_facts_query(practice, slug, start, end)
    if query is not None:
        # Narrowed in SQL to the claims that count (in scope, contributing to ``part``): the claims behind
        # a month of initial denials are a fifth of those adjudicated.
        in_scope = query.filter(scope.facts_q()).exclude(**{part: 0}).order_by()
        for claim_id, share in in_scope.values_list("claim_id", part):
            if share:
                amounts[claim_id] = amounts.get(claim_id, ZERO) + exact(share)
    else:
        for fact in flow_facts(practice, slug, start, end):
            if not scope.matches(fact):
                continue
            share = fact[part]
            if share:
                amounts[fact["claim_id"]] = amounts.get(fact["claim_id"], ZERO) + Decimal(share)
    return {claim_id: amount for claim_id, amount in amounts.items() if amount}


def denial_claims(
    practice, *, reason_code: str, start: datetime.date, end: datetime.date, scope: Scope = Scope()
) -> Drilldown:
    """The claims with a denial of ``reason_code`` recorded in [start, end] (the Pareto's drill-down)."""
    denials = scoped(Denial, practice).filter(reason_code=reason_code, **local_days("created_at", start, end))
    amounts: dict[int, Decimal] = {}
    for claim_id, amount in denials.filter(_claim_scope(scope, prefix="claim__")).values_list(
        "claim_id", "amount"
    ):
        amounts[claim_id] = amounts.get(claim_id, ZERO) + amount
    return _from_amounts(practice, amounts)


def saved_views(practice, *, user) -> list[KpiSavedView]:
    """``user``'s saved dashboard filters in ``practice``, by name, each with its dashboard query string."""
    views = list(scoped(KpiSavedView, practice).filter(user=user).order_by("name"))
    for view in views:
        view.query = urlencode(
            {"start": view.start.isoformat(), "end": view.end.isoformat(), "scope": view.scope}
        )
    return views


COST_MONTHS = 24


@dataclasses.dataclass
class CostMonth:
    """One month of the cost-to-collect page: the cost entered (None: not yet), the cash collected in the
    month (as last computed) and the resulting percentage (None without a cost or without cash)."""

    month: datetime.date
    cost: RevenueCycleCost | None
    cash: Decimal
    percent: Decimal | None


def revenue_cycle_costs(practice, *, end_month: datetime.date, months: int = COST_MONTHS) -> list[CostMonth]:
    """The ``months`` months ending with ``end_month``'s, newest first, each with its entered cost, cash
    and cost to collect. Two queries whatever the number of months."""
    definition = BY_SLUG["cost_to_collect"]
    starts = _month_starts(end_month, months)
    first, last = starts[0], month_end(starts[-1])
    costs = {
        cost.month: cost
        for cost in scoped(RevenueCycleCost, practice)
        .filter(month__gte=first, month__lte=last)
        .select_related("entered_by")
    }
    cash = {
        row["month"]: exact(row["cash"])
        for row in _snapshots(practice, Scope())
        .filter(kpi=definition.slug, day__gte=first, day__lte=last)
        .annotate(month=TruncMonth("day"))
        .values("month")
        .annotate(cash=Sum("denominator"))
        .order_by()
    }
    rows = []
    for month in reversed(starts):
        cost, collected = costs.get(month), cash.get(month, ZERO)
        percent = definition.value(cost.amount, collected) if cost is not None else None
        rows.append(CostMonth(month=month, cost=cost, cash=collected, percent=percent))
    return rows
