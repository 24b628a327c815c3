"""Writes of the KPIs app: the one service that computes and stores daily snapshots."""

import datetime
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Coalesce
from django.utils import timezone

from claims.models import ZERO, Claim
from kpis.definitions import AGING_BUCKETS, AR_WINDOW_DAYS, COMPUTED, FLOW
from kpis.measures import (
    CLAIM_MEASURES,
    LEDGER_MEASURES,
    balance_deltas,
    claim_balances,
    dimension_values,
    flow_facts,
    ledger_sums,
)
from kpis.models import Dimension, KpiSnapshot
from kpis.tasks import compute_practice
from rcm.bulk import bulk_insert_rows

ONE_DAY = datetime.timedelta(days=1)
# A manager's recompute covers what the dashboard shows: 12 months of trend and the period before.
RECOMPUTE_DAYS = 400
Cell = tuple[datetime.date, str, str, str]  # day, kpi, dimension, dimension value


def _add(cells, day, kpi: str, fact: dict, numerator, denominator) -> None:
    for dimension, value in dimension_values(fact["dim_payer"], fact["dim_provider"], fact["dim_pos"]):
        cell = cells[(day, kpi, dimension, value)]
        cell[0] += numerator
        cell[1] += denominator


def _cents(amount: Decimal) -> int:
    return int((amount * 100).to_integral_value(rounding=ROUND_HALF_UP))


def _money(cents) -> Decimal:
    return Decimal(int(cents)).scaleb(-2)


def _flows(cells, practice, start, end, ledger) -> None:
    for fact in ledger:
        if fact["day"] < start:
            continue  # read only for the A/R window
        for slug, measure in LEDGER_MEASURES.items():
            numerator, denominator = measure(fact)
            _add(cells, fact["day"], slug, fact, numerator, denominator)
    flow_slugs = {d.slug for d in COMPUTED if d.kind == FLOW}
    for slug in CLAIM_MEASURES:
        if slug not in flow_slugs:
            continue
        for fact in flow_facts(practice, slug, start, end):
            _add(cells, fact["day"], slug, fact, fact["numerator"], fact["denominator"])


def _window_charges(ledger, start, end) -> dict[tuple[str, str], np.ndarray]:
    """Per (dimension, value): net charges in the A/R window ending on each day of [start, end], in cents."""
    first = start - datetime.timedelta(days=AR_WINDOW_DAYS - 1)
    span = (end - first).days + 1
    daily: dict[tuple[str, str], np.ndarray] = defaultdict(lambda: np.zeros(span, dtype=np.int64))
    for fact in ledger:
        if not fact["charges"]:
            continue
        index = (fact["day"] - first).days
        for key in dimension_values(fact["dim_payer"], fact["dim_provider"], fact["dim_pos"]):
            daily[key][index] += _cents(fact["charges"])
    windows = {}
    for key, amounts in daily.items():
        running = np.concatenate([[0], np.cumsum(amounts)])
        # window ending at index i (i >= AR_WINDOW_DAYS - 1): running[i + 1] - running[i + 1 - window]
        ends = np.arange(AR_WINDOW_DAYS - 1, span) + 1
        windows[key] = running[ends] - running[ends - AR_WINDOW_DAYS]
    return windows


STOCK_COLUMNS = ["ar_total", "credit_balances", "over_90", "over_120", *(b[0] for b in AGING_BUCKETS)]


def _stocks(cells, practice, start, end, ledger) -> None:
    """Open A/R, credit balances, aging and days in A/R for each day of [start, end]: the balances as of
    the day before ``start`` (one grouped query), then each day's changes applied in order (pandas, in
    integer cents so nothing is rounded)."""
    records = []
    dimensions = list(Dimension.values)  # once: the enum builds the list anew on every access
    # The dimension keys are made from the raw values: in a DataFrame a nullable id would become a float.
    for row in Claim.objects.filter(practice=practice).values_list(
        "id",
        "service_date",
        "payer_id",
        Coalesce(F("rendering_provider_id"), F("billing_provider_id")),
        "place_of_service",
    ):
        keys = dict(dimension_values(*row[2:]))
        records.append((row[0], row[1], *(keys[dimension] for dimension in dimensions)))
    claims = pd.DataFrame.from_records(records, columns=["id", "service_date", *dimensions], index="id")
    opening = claim_balances(practice, start - ONE_DAY)
    balances = pd.Series({claim_id: _cents(b) for claim_id, b in opening.items()}, dtype=np.int64)
    changes = defaultdict(dict)
    for row in balance_deltas(practice, start, end):
        if row["delta"]:
            changes[row["day"]][row["claim_id"]] = _cents(row["delta"])
    windows = _window_charges(ledger, start, end)

    day = start
    while day <= end:
        if changes[day]:
            balances = balances.add(pd.Series(changes[day], dtype=np.int64), fill_value=0).astype(np.int64)
            balances = balances[balances != 0]
        open_claims = claims.loc[balances.index]
        owed = balances.clip(lower=0)
        ages = np.array([(day - d).days for d in open_claims.service_date], dtype=np.int64)
        frame = pd.DataFrame(
            {
                "ar_total": owed.values,
                "credit_balances": (-balances).clip(lower=0).values,
                "over_90": np.where(ages > 90, owed.values, 0),
                "over_120": np.where(ages > 120, owed.values, 0),
            },
            index=open_claims.index,
        )
        for index, (slug, _label, first, last) in enumerate(AGING_BUCKETS):
            # The youngest bucket also takes a service date after the day (entered ahead), as aging_bucket.
            in_bucket = (ages >= first) if index else np.ones(len(ages), dtype=bool)
            if last is not None:
                in_bucket &= ages <= last
            frame[slug] = np.where(in_bucket, owed.values, 0)
        for dimension in dimensions:
            frame["value"] = open_claims[dimension].values
            totals = frame.groupby("value")[STOCK_COLUMNS].sum() if len(frame) else None
            seen = set()
            if totals is not None:
                for value, row in totals.iterrows():
                    seen.add(value)
                    _stock_cells(cells, day, dimension, value, row, windows, start)
            for (window_dimension, value), _amounts in windows.items():
                if window_dimension == dimension and value not in seen:
                    _stock_cells(cells, day, dimension, value, None, windows, start)
        day += ONE_DAY


def _stock_cells(cells, day, dimension, value, row, windows, start) -> None:
    def put(kpi, numerator_cents, denominator_cents) -> None:
        if numerator_cents or denominator_cents:
            cells[(day, kpi, dimension, value)] = [_money(numerator_cents), _money(denominator_cents)]

    charges = windows.get((dimension, value))
    window = int(charges[(day - start).days]) if charges is not None else 0
    if row is None:
        put("days_in_ar", 0, window)
        return
    put("ar_total", row["ar_total"], 0)
    put("credit_balances", row["credit_balances"], 0)
    put("ar_over_90_pct", row["over_90"], row["ar_total"])
    put("ar_over_120_pct", row["over_120"], row["ar_total"])
    put("days_in_ar", row["ar_total"], window)
    for slug, *_rest in AGING_BUCKETS:
        put(slug, row[slug], 0)


def kpi_snapshots_compute(
    *, practice, start: datetime.date, end: datetime.date, computed_at: datetime.datetime | None = None
) -> int:
    """Compute every computable KPI of ``practice`` for each day of [start, end] and store the snapshots.

    Guarantees: the practice's snapshot rows of those days are replaced whole, in one transaction (running
    it twice leaves the same rows, never duplicates; a reader sees the old days or the new ones). Values
    come from the ledger, the status history, denials and remittances as they are now. Returns the number
    of rows written."""
    if end < start:
        raise ValueError(f"The range ends ({end}) before it starts ({start}).")
    computed_at = computed_at or timezone.now()
    cells: dict[Cell, list] = defaultdict(lambda: [ZERO, ZERO])
    # Per day and dimensions, not per claim: the snapshots only add these up.
    ledger = ledger_sums(practice, start - datetime.timedelta(days=AR_WINDOW_DAYS - 1), end)
    _flows(cells, practice, start, end, ledger)
    _stocks(cells, practice, start, end, ledger)
    rows = [
        {
            "practice_id": practice.pk,
            "day": day,
            "kpi": kpi,
            "dimension": dimension,
            "dimension_value": value,
            "numerator": Decimal(numerator),
            "denominator": Decimal(denominator),
            "computed_at": computed_at,
        }
        for (day, kpi, dimension, value), (numerator, denominator) in cells.items()
        if numerator or denominator
    ]
    with transaction.atomic():
        stale = KpiSnapshot.objects.filter(practice=practice, day__gte=start, day__lte=end)
        # One DELETE statement: snapshots are derived data with no audit trail and nothing pointing at
        # them, so Django's collector (which loads every row for the delete signals) is not needed.
        stale._raw_delete(stale.db)
        bulk_insert_rows(KpiSnapshot, rows)
    return len(rows)


def kpi_recompute_request(*, practice, today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """Queue a recompute of what the dashboard shows (``RECOMPUTE_DAYS`` up to ``today``) for when the
    caller's transaction commits; returns the range queued."""
    start = today - datetime.timedelta(days=RECOMPUTE_DAYS - 1)
    transaction.on_commit(lambda: compute_practice.delay(practice.pk, start.isoformat(), today.isoformat()))
    return start, today
