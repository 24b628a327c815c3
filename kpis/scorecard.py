"""The payer scorecard: per payer and month, what a manager brings to a negotiation.

Figures per payer and calendar month are precomputed (``payer_scorecards_compute``, run with the KPI
snapshots) into ``PayerScorecardMonth`` as counts and sums; the page, exports, API and PDF read those rows
and divide (``payer_scorecard``, ``payer_trend``): a fixed handful of queries whatever the practice's size.

One implementation per number: claims, clean claims, initial denials, days to pay and appeal overturns are
the facts of ``kpis.measures`` (the same ones the dashboard's snapshots add up), grouped by payer and month;
charges and payments are its ledger sums; the rates divide with ``kpis.definitions``. Underpaid dollars and
the expected amount they are a share of come from the claims app's line variances, recovered dollars from
its underpayments.
"""

import dataclasses
import datetime
import math
from collections import Counter, defaultdict
from decimal import Decimal

from django.db import transaction
from django.db.models import Count, Q, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from claims.models import ZERO, LineVariance, Underpayment, UnderpaymentStatus, VarianceKind
from denials.models import Denial
from kpis.definitions import BY_SLUG
from kpis.measures import exact, flow_facts, ledger_sums, local_days
from kpis.models import PayerScorecardMonth
from rcm.bulk import bulk_insert_rows
from rcm.models import Payer
from rcm.pdf import html_to_pdf
from rcm.tenancy import scoped

TOP_CARCS = 3
TREND_MONTHS = 12
SUMMED = (
    "claims",
    "clean_claims",
    "charges",
    "payments",
    "paid_claims",
    "days_to_pay_total",
    "adjudicated",
    "denied",
    "expected",
    "underpaid",
    "recovered",
    "appeals_decided",
    "appeals_won",
)


def month_start(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def month_end(month: datetime.date) -> datetime.date:
    following = (month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    return following - datetime.timedelta(days=1)


def months_between(start: datetime.date, end: datetime.date) -> list[datetime.date]:
    months, month = [], month_start(start)
    while month <= end:
        months.append(month)
        month = month_end(month) + datetime.timedelta(days=1)
    return months


def percentile_90(values: list[int]) -> int | None:
    """The nearest-rank 90th percentile: the smallest value at least 90% of the values are at or below."""
    if not values:
        return None
    ordered = sorted(values)
    return ordered[math.ceil(0.9 * len(ordered)) - 1]


def _as_month(value) -> datetime.date:
    """A day or a local datetime (``TruncMonth`` of a datetime, in the current time zone) as its month."""
    return month_start(value.date() if isinstance(value, datetime.datetime) else value)


def _month_of(fact: dict) -> datetime.date:
    return _as_month(fact["day"])


def payer_scorecards_compute(
    *, practice, start: datetime.date, end: datetime.date, computed_at: datetime.datetime | None = None
) -> int:
    """Compute every payer's figures for each month touching [start, end] (whole months) and store them.

    Guarantees: the practice's rows of those months are replaced whole in one transaction (twice gives the
    same rows); a payer with nothing in a month has no row. Returns the number of rows written."""
    months = months_between(start, end)
    first, last = months[0], month_end(months[-1])
    computed_at = computed_at or timezone.now()
    cells: dict[tuple[int, datetime.date], dict] = defaultdict(lambda: defaultdict(lambda: ZERO))
    days: dict[tuple[int, datetime.date], list[int]] = defaultdict(list)

    def add(slug: str, numerator_field: str, denominator_field: str) -> None:
        for fact in flow_facts(practice, slug, first, last):
            if fact["dim_payer"]:
                cell = cells[(fact["dim_payer"], _month_of(fact))]
                cell[numerator_field] += fact["numerator"]
                cell[denominator_field] += fact["denominator"]

    add("clean_claim_rate", "clean_claims", "claims")
    add("initial_denial_rate", "denied", "adjudicated")
    add("appeal_overturn_rate", "appeals_won", "appeals_decided")
    for fact in flow_facts(practice, "days_to_pay", first, last):
        if fact["dim_payer"]:
            key = (fact["dim_payer"], _month_of(fact))
            cells[key]["days_to_pay_total"] += fact["numerator"]
            cells[key]["paid_claims"] += fact["denominator"]
            days[key].append(int(fact["numerator"]))
    for row in ledger_sums(practice, first, last):
        if row["dim_payer"]:
            cell = cells[(row["dim_payer"], _month_of(row))]
            cell["charges"] += row["charges"]
            cell["payments"] += row["payments"] - row["refunds"]
    variances = (
        scoped(LineVariance, practice)
        .filter(
            paid_date__gte=first, paid_date__lte=last, payer__isnull=False, expected_allowed__isnull=False
        )
        .annotate(month=TruncMonth("paid_date"))
        .values("payer_id", "month")
        .annotate(
            expected=Sum("expected_allowed"), underpaid=Sum("variance", filter=Q(kind=VarianceKind.UNDERPAID))
        )
        .order_by()
    )
    for row in variances:
        cell = cells[(row["payer_id"], month_start(row["month"]))]
        cell["expected"] += exact(row["expected"])
        cell["underpaid"] += exact(row["underpaid"])
    recovered = (
        scoped(Underpayment, practice)
        .filter(
            status=UnderpaymentStatus.RECOVERED, payer__isnull=False, **local_days("resolved_at", first, last)
        )
        .annotate(month=TruncMonth("resolved_at"))
        .values("payer_id", "month")
        .annotate(total=Sum("recovered_amount"))
        .order_by()
    )
    for row in recovered:
        cells[(row["payer_id"], _as_month(row["month"]))]["recovered"] += exact(row["total"])
    carcs: dict[tuple[int, datetime.date], Counter] = defaultdict(Counter)
    for row in (
        scoped(Denial, practice)
        .filter(claim__payer__isnull=False, **local_days("created_at", first, last))
        .annotate(month=TruncMonth("created_at"))
        .values("claim__payer_id", "month", "reason_code")
        .annotate(n=Count("id"))
        .order_by()
    ):
        carcs[(row["claim__payer_id"], _as_month(row["month"]))][row["reason_code"]] += row["n"]
    rows = []
    for (payer_id, month), cell in cells.items():
        if not any(cell.values()) and not carcs.get((payer_id, month)):
            continue
        top = sorted(carcs.get((payer_id, month), Counter()).items(), key=lambda item: (-item[1], item[0]))
        rows.append(
            {
                "practice_id": practice.pk,
                "payer_id": payer_id,
                "month": month,
                **{
                    name: (
                        exact(cell[name])
                        if name in ("charges", "payments", "expected", "underpaid", "recovered")
                        else int(cell[name])
                    )
                    for name in SUMMED
                },
                "days_to_pay_p90": percentile_90(days.get((payer_id, month), [])),
                "top_carcs": [[code, count] for code, count in top[:TOP_CARCS]],
                "computed_at": computed_at,
            }
        )
    with transaction.atomic():
        stale = PayerScorecardMonth.objects.filter(practice=practice, month__gte=first, month__lte=last)
        stale._raw_delete(stale.db)  # derived rows, nothing points at them (see kpi_snapshots_compute)
        bulk_insert_rows(PayerScorecardMonth, rows)
    return len(rows)


# --- reading ---------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Scorecard:
    """One payer over a range of months: the sums and the rates read from them."""

    payer_id: int
    payer_name: str
    claims: int = 0
    clean_claims: int = 0
    charges: Decimal = ZERO
    payments: Decimal = ZERO
    paid_claims: int = 0
    days_to_pay_total: int = 0
    days_to_pay_p90: int | None = None
    adjudicated: int = 0
    denied: int = 0
    expected: Decimal = ZERO
    underpaid: Decimal = ZERO
    recovered: Decimal = ZERO
    appeals_decided: int = 0
    appeals_won: int = 0
    top_carcs: list = dataclasses.field(default_factory=list)

    @property
    def days_to_pay(self) -> Decimal | None:
        return BY_SLUG["days_to_pay"].value(Decimal(self.days_to_pay_total), Decimal(self.paid_claims))

    @property
    def initial_denial_rate(self) -> Decimal | None:
        return BY_SLUG["initial_denial_rate"].value(Decimal(self.denied), Decimal(self.adjudicated))

    @property
    def clean_claim_rate(self) -> Decimal | None:
        return BY_SLUG["clean_claim_rate"].value(Decimal(self.clean_claims), Decimal(self.claims))

    @property
    def appeal_overturn_rate(self) -> Decimal | None:
        return BY_SLUG["appeal_overturn_rate"].value(Decimal(self.appeals_won), Decimal(self.appeals_decided))

    @property
    def underpaid_percent(self) -> Decimal | None:
        """Underpaid dollars as a % of the expected allowed amount of the lines paid."""
        if not self.expected:
            return None
        return (self.underpaid * 100 / self.expected).quantize(Decimal("0.1"))

    @property
    def top_carcs_text(self) -> str:
        return ", ".join(f"{code} ({count})" for code, count in self.top_carcs) or "none"


def _add(card: Scorecard, row: PayerScorecardMonth, carcs: Counter) -> None:
    for name in SUMMED:
        setattr(card, name, getattr(card, name) + getattr(row, name))
    if row.days_to_pay_p90 is not None:
        # A range's 90th percentile is not the sum of its months': the worst month's is shown.
        card.days_to_pay_p90 = max(card.days_to_pay_p90 or 0, row.days_to_pay_p90)
    for code, count in row.top_carcs:
        carcs[code] += count


def _rows(practice, first: datetime.date, last: datetime.date, payer_id: int | None = None):
    rows = scoped(PayerScorecardMonth, practice).filter(month__gte=month_start(first), month__lte=last)
    if payer_id is not None:
        rows = rows.filter(payer_id=payer_id)
    return rows.select_related("payer").order_by("payer__name", "month")


def payer_scorecard(practice, *, start: datetime.date, end: datetime.date) -> list[Scorecard]:
    """Every payer with figures in the months of [start, end], by name. One query."""
    cards: dict[int, Scorecard] = {}
    carcs: dict[int, Counter] = defaultdict(Counter)
    for row in _rows(practice, start, end):
        card = cards.setdefault(row.payer_id, Scorecard(payer_id=row.payer_id, payer_name=row.payer.name))
        _add(card, row, carcs[row.payer_id])
    for payer_id, card in cards.items():
        card.top_carcs = sorted(carcs[payer_id].items(), key=lambda item: (-item[1], item[0]))[:TOP_CARCS]
    return list(cards.values())


def payer_trend(practice, *, payer: Payer, end: datetime.date, months: int = TREND_MONTHS) -> list[tuple]:
    """The payer's figures month by month, the ``months`` months ending with ``end``'s: (month, Scorecard),
    an empty card for a month with no row. One query."""
    first = month_start(end)
    for _ in range(months - 1):
        first = month_start(first - datetime.timedelta(days=1))
    by_month = {}
    for row in _rows(practice, first, end, payer_id=payer.pk):
        card = Scorecard(payer_id=payer.pk, payer_name=payer.name)
        _add(card, row, Counter(dict(row.top_carcs)))
        card.top_carcs = [tuple(item) for item in row.top_carcs]
        by_month[row.month] = card
    return [
        (month, by_month.get(month, Scorecard(payer_id=payer.pk, payer_name=payer.name)))
        for month in months_between(first, end)
    ]


# Columns of the table, the exports and the PDF: (header, attribute, unit).
COLUMNS = [
    ("Claims", "claims", "count"),
    ("Charges", "charges", "money"),
    ("Payments", "payments", "money"),
    ("Days to pay (mean)", "days_to_pay", "days"),
    ("Days to pay (90th percentile)", "days_to_pay_p90", "days"),
    ("Initial denial rate %", "initial_denial_rate", "percent"),
    ("Top CARCs", "top_carcs_text", "text"),
    ("Clean claim rate %", "clean_claim_rate", "percent"),
    ("Underpaid $", "underpaid", "money"),
    ("Underpaid % of expected", "underpaid_percent", "percent"),
    ("Recovered $", "recovered", "money"),
    ("Appeal overturn rate %", "appeal_overturn_rate", "percent"),
]


def export_rows(cards: list[Scorecard]) -> tuple[list[str], list[list]]:
    header = ["Payer", *(name for name, _attr, _unit in COLUMNS)]
    return header, [[card.payer_name, *(getattr(card, attr) for _n, attr, _u in COLUMNS)] for card in cards]


def payer_scorecard_pdf(context: dict) -> bytes:
    from django.template.loader import render_to_string

    return html_to_pdf(render_to_string("kpis/scorecard_pdf.html", context))
