"""Writes of the KPIs app: the one service that computes and stores daily snapshots."""

import datetime
from collections import defaultdict
from decimal import ROUND_HALF_UP, Decimal

import numpy as np
import pandas as pd
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage
from django.db import IntegrityError, connection, transaction
from django.db.models import F, Min
from django.db.models.functions import Coalesce
from django.utils import timezone

from claims.models import ZERO, Claim
from kpis.definitions import AGING_BUCKETS, AR_WINDOW_DAYS, BY_SLUG, COMPUTED, FLOW, HIGHER
from kpis.forms import KpiFilterForm
from kpis.measures import (
    CLAIM_MEASURES,
    LEDGER_MEASURES,
    balance_deltas,
    claim_balances,
    dimension_values,
    flow_facts,
    ledger_sums,
)
from kpis.models import (
    Dimension,
    KpiClaimBalance,
    KpiReport,
    KpiSavedView,
    KpiSnapshot,
    KpiTarget,
    RevenueCycleCost,
)
from kpis.report import month_bounds, monthly_report_pdf, report_filename
from kpis.scorecard import payer_scorecards_compute
from kpis.tasks import compute_practice
from rcm.bulk import bulk_insert_rows
from rcm.models import Membership
from rcm.outbox import task_enqueue
from rcm.practice_cache import KPI_FIGURES, practice_changed
from rcm.roles import Role

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
# The age ranges (in days since the date of service) each owed column covers; the youngest bucket also
# takes a service date after the day (entered ahead), as ``aging_bucket`` does.
OWED_AGES = {
    "ar_total": (None, None),
    "over_90": (91, None),
    "over_120": (121, None),
    **{
        slug: (None if index == 0 else first, last)
        for index, (slug, _l, first, last) in enumerate(AGING_BUCKETS)
    },
}


def _balance_intervals(practice, start, end) -> pd.DataFrame:
    """Each claim's balance (in cents) as runs of days over [start, end]: ``first`` and ``stop`` (day
    indexes from ``start``, stop exclusive) and the ``balance`` over them. Balances start from the ledger
    as of the day before ``start`` (one grouped query) and change on the days the ledger moves them (one
    more); zero runs are left out."""
    opening = claim_balances(practice, start - ONE_DAY)
    changes = [(claim_id, 0, _cents(balance)) for claim_id, balance in opening.items()]
    changes += [
        (row["claim_id"], (row["day"] - start).days, _cents(row["delta"]))
        for row in balance_deltas(practice, start, end)
        if row["delta"]
    ]
    span = (end - start).days + 1
    if not changes:
        return pd.DataFrame({"claim": [], "first": [], "stop": [], "balance": []}, dtype=np.int64)
    frame = pd.DataFrame(changes, columns=["claim", "first", "delta"]).groupby(["claim", "first"]).sum()
    frame = frame.reset_index().sort_values(["claim", "first"])
    frame["balance"] = frame.groupby("claim")["delta"].cumsum()
    following = frame.groupby("claim")["first"].shift(-1)
    frame["stop"] = following.fillna(span).astype(np.int64)
    return frame.loc[frame["balance"] != 0, ["claim", "first", "stop", "balance"]]


def _stocks(cells, practice, start, end, ledger) -> list[dict]:
    """Open A/R, credit balances, aging and days in A/R for each day of [start, end], set-based: each
    claim's balance runs (``_balance_intervals``) are cut where its age crosses a bucket's bounds and
    added into per-day difference arrays, one row per dimension value; a running sum gives every day at
    once (integer cents, so nothing is rounded). Returns each claim's balance on ``end`` (the rows of
    ``KpiClaimBalance``)."""
    span = (end - start).days + 1
    claims = {}
    # The dimension keys are made from the raw values: in a DataFrame a nullable id would become a float.
    for row in Claim.objects.filter(practice=practice).values_list(
        "id",
        "service_date",
        "payer_id",
        Coalesce(F("rendering_provider_id"), F("billing_provider_id")),
        "place_of_service",
    ):
        claims[row[0]] = (row[1], dimension_values(*row[2:]))
    windows = _window_charges(ledger, start, end)
    intervals = _balance_intervals(practice, start, end)

    keys: dict[tuple[str, str], int] = {key: index for index, key in enumerate(windows)}
    claim_keys = []  # per interval: its row in the arrays for each dimension
    service_offsets = []  # per interval: the claim's date of service as a day index from ``start``
    for claim_id in intervals["claim"].tolist():
        service_date, values = claims[claim_id]
        claim_keys.append([keys.setdefault(key, len(keys)) for key in values])
        service_offsets.append((service_date - start).days)
    claim_keys = np.array(claim_keys, dtype=np.int64).reshape(-1, len(Dimension.values))
    service_offsets = np.array(service_offsets, dtype=np.int64)
    first = intervals["first"].to_numpy(dtype=np.int64)
    stop = intervals["stop"].to_numpy(dtype=np.int64)
    balance = intervals["balance"].to_numpy(dtype=np.int64)

    totals = {}
    for column in STOCK_COLUMNS:
        difference = np.zeros((len(keys), span + 1), dtype=np.int64)
        if column == "credit_balances":
            amount, lower, upper = -balance, first, stop
            chosen = balance < 0
        else:
            youngest, oldest = OWED_AGES[column]
            amount = balance
            # age on day index i is i - service_offset: within [youngest, oldest] for these days.
            lower = first if youngest is None else np.maximum(first, service_offsets + youngest)
            upper = stop if oldest is None else np.minimum(stop, service_offsets + oldest + 1)
            chosen = (balance > 0) & (lower < upper)
        for dimension in range(claim_keys.shape[1]):
            rows = claim_keys[chosen, dimension]
            np.add.at(difference, (rows, lower[chosen]), amount[chosen])
            np.add.at(difference, (rows, upper[chosen]), -amount[chosen])
        totals[column] = np.cumsum(difference, axis=1)[:, :span]

    for (dimension, value), row in keys.items():
        charges = windows.get((dimension, value))
        for index in range(span):
            day = start + datetime.timedelta(days=index)
            numbers = {column: int(totals[column][row, index]) for column in STOCK_COLUMNS}
            window = int(charges[index]) if charges is not None else 0
            _stock_cells(cells, day, dimension, value, numbers, window)

    last = intervals.loc[intervals["stop"] == span, ["claim", "balance"]]
    balances = []
    for claim_id, cents in zip(last["claim"].tolist(), last["balance"].tolist(), strict=True):
        service_date, values = claims[claim_id]
        dims = dict(values)
        balances.append(
            {
                "practice_id": practice.pk,
                "day": end,
                "claim_id": claim_id,
                "balance": _money(cents),
                "service_date": service_date,
                "dim_payer": dims[Dimension.PAYER],
                "dim_provider": dims[Dimension.PROVIDER],
                "dim_pos": dims[Dimension.PLACE_OF_SERVICE],
            }
        )
    return balances


def _stock_cells(cells, day, dimension, value, row, window) -> None:
    def put(kpi, numerator_cents, denominator_cents) -> None:
        if numerator_cents or denominator_cents:
            cells[(day, kpi, dimension, value)] = [_money(numerator_cents), _money(denominator_cents)]

    put("ar_total", row["ar_total"], 0)
    put("credit_balances", row["credit_balances"], 0)
    put("ar_over_90_pct", row["over_90"], row["ar_total"])
    put("ar_over_120_pct", row["over_120"], row["ar_total"])
    put("days_in_ar", row["ar_total"], window)
    for slug, *_rest in AGING_BUCKETS:
        put(slug, row[slug], 0)


def _snapshot_rows(practice, cells, computed_at) -> list[dict]:
    return [
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


def kpi_claim_balances_vacuum() -> bool:
    """After a computation has committed (PostgreSQL, outside any transaction): vacuum the stored
    balances, which each night replaces whole, so the drill-down's count and total are read from its
    index alone (an index-only scan needs the pages marked all-visible). True when it ran."""
    if connection.vendor != "postgresql" or connection.in_atomic_block:
        return False
    with connection.cursor() as cursor:
        cursor.execute(f"VACUUM (ANALYZE) {KpiClaimBalance._meta.db_table}")
    return True


# Cohort KPIs whose outcome changes long after their day (a plan completes or defaults months after it was
# created): refreshed on every computed day, not only on the days being computed.
PLAN_COHORT_KPIS = ("payment_plan_completion_rate", "payment_plan_default_rate")


def _plan_cohorts_refresh(*, practice, before: datetime.date, computed_at: datetime.datetime) -> int:
    """Replace the plan-cohort KPIs' rows of every computed day before ``before`` with the plans as they
    stand now. All cohorts, not only those whose plans changed: a practice has thousands of plans, so this
    is two small queries and one write, and a night that failed leaves nothing stale. Days never computed
    are left alone (no partial days appear). Returns the number of rows written."""
    first = KpiSnapshot.objects.filter(
        practice=practice, dimension=Dimension.PRACTICE, dimension_value="", day__lt=before
    ).aggregate(first=Min("day"))["first"]
    if first is None:
        return 0
    last = before - ONE_DAY
    cells: dict[Cell, list] = defaultdict(lambda: [ZERO, ZERO])
    for slug in PLAN_COHORT_KPIS:
        for fact in flow_facts(practice, slug, first, last):
            _add(cells, fact["day"], slug, fact, fact["numerator"], fact["denominator"])
    computed_days = set(
        KpiSnapshot.objects.filter(
            practice=practice, dimension=Dimension.PRACTICE, dimension_value="", day__gte=first, day__lte=last
        )
        .values_list("day", flat=True)
        .distinct()
        .order_by()
    )
    cells = {cell: sums for cell, sums in cells.items() if cell[0] in computed_days}
    stale = KpiSnapshot.objects.filter(
        practice=practice, kpi__in=PLAN_COHORT_KPIS, day__gte=first, day__lte=last
    )
    stale._raw_delete(stale.db)
    rows = _snapshot_rows(practice, cells, computed_at)
    bulk_insert_rows(KpiSnapshot, rows)
    return len(rows)


def kpi_snapshots_compute(
    *, practice, start: datetime.date, end: datetime.date, computed_at: datetime.datetime | None = None
) -> int:
    """Compute every computable KPI of ``practice`` for each day of [start, end] and store the snapshots.

    Guarantees: the practice's snapshot rows of those days are replaced whole, in one transaction (running
    it twice leaves the same rows, never duplicates; a reader sees the old days or the new ones). Values
    come from the ledger, the status history, denials and remittances as they are now. When the range
    reaches the practice's latest computed day (the nightly run, a manager's recompute), the payment-plan
    cohorts of every earlier computed day are refreshed too, in the same transaction: a plan that completes
    or defaults today changes its cohort's day, however old. Returns the number of rows written for
    [start, end]."""
    if end < start:
        raise ValueError(f"The range ends ({end}) before it starts ({start}).")
    computed_at = computed_at or timezone.now()
    cells: dict[Cell, list] = defaultdict(lambda: [ZERO, ZERO])
    # Per day and dimensions, not per claim: the snapshots only add these up.
    ledger = ledger_sums(practice, start - datetime.timedelta(days=AR_WINDOW_DAYS - 1), end)
    _flows(cells, practice, start, end, ledger)
    balances = _stocks(cells, practice, start, end, ledger)
    rows = _snapshot_rows(practice, cells, computed_at)
    with transaction.atomic():
        stale = KpiSnapshot.objects.filter(practice=practice, day__gte=start, day__lte=end)
        # One DELETE statement: snapshots are derived data with no audit trail and nothing pointing at
        # them, so Django's collector (which loads every row for the delete signals) is not needed.
        stale._raw_delete(stale.db)
        bulk_insert_rows(KpiSnapshot, rows)
        stored = KpiClaimBalance.objects.filter(practice=practice)
        if not stored.filter(day__gt=end).exists():  # a backfill of older days keeps the latest day's
            stored._raw_delete(stored.db)
            bulk_insert_rows(KpiClaimBalance, balances)
            if connection.vendor == "postgresql":
                # The table is replaced whole each night: fresh statistics keep the drill-down on its index.
                with connection.cursor() as cursor:
                    cursor.execute(f"ANALYZE {KpiClaimBalance._meta.db_table}")
            # The latest day is the nightly run's: plan outcomes come months after their cohort's day.
            _plan_cohorts_refresh(practice=practice, before=start, computed_at=computed_at)
    # The payer scorecard's months (whole months) are kept in step with the snapshots of their days.
    payer_scorecards_compute(practice=practice, start=start, end=end, computed_at=computed_at)
    practice_changed([practice.pk], KPI_FIGURES)  # the dashboard's cached figures are recomputed
    return len(rows)


def kpi_recompute_request(*, practice, today: datetime.date) -> tuple[datetime.date, datetime.date]:
    """Queue a recompute of what the dashboard shows (``RECOMPUTE_DAYS`` up to ``today``) for when the
    caller's transaction commits; returns the range queued."""
    start = today - datetime.timedelta(days=RECOMPUTE_DAYS - 1)
    task_enqueue(compute_practice, practice.pk, start.isoformat(), today.isoformat())
    return start, today


@transaction.atomic
def kpi_report_send(*, practice, month: datetime.date) -> KpiReport | None:
    """Email ``month``'s PDF report (any day of the month) to the practice's active managers, once.

    Guarantees: the ``KpiReport`` row (unique per practice and month) is inserted first, in the transaction
    that sends the email: a second call (a rerun, a retry, a second worker) finds it, or waits on the unique
    index and then finds it, and sends nothing (returns None). If building or sending fails the row is rolled
    back with it, so a retry sends. A practice without a manager's address records the month as done
    with no recipients."""
    first, _last = month_bounds(month)
    try:
        with transaction.atomic():
            report = KpiReport.objects.create(practice=practice, month=first, sent_at=timezone.now())
    except IntegrityError:
        return None
    recipients = sorted(
        set(
            Membership.objects.filter(
                practice=practice, role=Role.MANAGER, is_active=True, user__is_active=True
            )
            .exclude(user__email="")
            .values_list("user__email", flat=True)
        )
    )
    if recipients:
        message = EmailMessage(
            subject=f"{practice.name}: revenue cycle report, {first:%B %Y}",
            body=(
                f"The revenue cycle report of {practice.name} for {first:%B %Y} is attached: the month's "
                "headline KPIs against their targets and the month before, 12-month trends, A/R aging by "
                "payer, denials by reason and the payer comparison.\n\nThe dashboard has the claims behind "
                "every number."
            ),
            to=recipients,
        )
        message.attach(report_filename(first), monthly_report_pdf(practice, month=first), "application/pdf")
        message.send()
    report.recipients = recipients
    report.save(update_fields=["recipients"])
    return report


SAVED_VIEW_NAME_LENGTH = 60


@transaction.atomic
def kpi_saved_view_create(
    *, practice, user, name: str, start: datetime.date, end: datetime.date, scope: str = ""
) -> KpiSavedView:
    """Save the dashboard's filters under ``name`` for ``user`` in ``practice``.

    Guarantees: the filters are checked as the dashboard checks them (a range of at most three years that
    does not end before it starts; the payer or provider belongs to the practice); a blank, too long or
    duplicate name (per user and practice, ignoring case) is refused with a ``ValidationError`` naming the
    problem, and nothing is written."""
    name = " ".join(name.split())
    if not name:
        raise ValidationError({"name": "Give the view a name."})
    if len(name) > SAVED_VIEW_NAME_LENGTH:
        raise ValidationError({"name": f"Keep the name to {SAVED_VIEW_NAME_LENGTH} characters."})
    form = KpiFilterForm(
        {"start": start.isoformat(), "end": end.isoformat(), "scope": scope},
        practice=practice,
        default_end=end,
    )
    if not form.is_valid():
        problems = [message for messages in form.errors.values() for message in messages]
        raise ValidationError({"filters": " ".join(problems)})
    mine = KpiSavedView.objects.filter(practice=practice, user=user)
    if mine.filter(name__iexact=name).exists():
        raise ValidationError({"name": f"You already have a saved view named “{name}”: choose another name."})
    try:
        with transaction.atomic():
            return KpiSavedView.objects.create(
                practice=practice, user=user, name=name, start=start, end=end, scope=scope
            )
    except IntegrityError:  # the same name saved at the same moment from another tab
        raise ValidationError(
            {"name": f"You already have a saved view named “{name}”: choose another name."}
        ) from None


@transaction.atomic
def kpi_saved_view_delete(*, practice, user, view_id: int) -> None:
    """Delete one of ``user``'s saved views in ``practice``; another user's or practice's view is not found
    (``KpiSavedView.DoesNotExist``) and nothing is deleted."""
    KpiSavedView.objects.filter(practice=practice, user=user).get(pk=view_id).delete()


def _target_problem(definition, good: Decimal | None, warn: Decimal | None) -> str:
    if good is None:
        return "Give a target before a warning line." if warn is not None else ""
    limit = Decimal("100") if definition.unit == "percent" else None
    for value in (good, warn):
        if value is not None and (value < 0 or (limit is not None and value > limit)):
            return "A percentage is between 0 and 100." if limit else "Use a number of 0 or more."
    if warn is None:
        return ""
    if definition.better == HIGHER and warn > good:
        return f"Higher is better here: the warning line ({warn}) must be at or below the target ({good})."
    if definition.better != HIGHER and warn < good:
        return f"Lower is better here: the warning line ({warn}) must be at or above the target ({good})."
    return ""


@transaction.atomic
def kpi_targets_set(*, practice, bands: dict[str, tuple[Decimal | None, Decimal | None]]) -> list[str]:
    """Set the practice's target band (good, warning line) of each KPI in ``bands``; a good of None goes
    back to the definition's default (the practice's row is removed).

    Guarantees: every band is checked before anything is written (numbers of 0 or more, percentages up to
    100, the warning line on the far side of the target from the good direction); any problem raises a
    ``ValidationError`` keyed by the KPI and nothing changes. Only changed bands are written, each write
    being an audit event (``KpiTarget`` is audited). Returns the slugs changed."""
    problems = {}
    for slug, (good, warn) in bands.items():
        definition = BY_SLUG.get(slug)
        if definition is None or definition.better is None:
            problems[slug] = "This KPI has no target."
            continue
        problem = _target_problem(definition, good, warn)
        if problem:
            problems[slug] = problem
    if problems:
        raise ValidationError(problems)
    existing = {target.kpi: target for target in KpiTarget.objects.filter(practice=practice, kpi__in=bands)}
    changed = []
    for slug, (good, warn) in bands.items():
        target = existing.get(slug)
        if good is None:
            if target is not None:
                target.delete()
                changed.append(slug)
            continue
        if target is None:
            KpiTarget.objects.create(practice=practice, kpi=slug, good=good, warn=warn)
            changed.append(slug)
        elif (target.good, target.warn) != (good, warn):
            target.good, target.warn = good, warn
            target.save(update_fields=["good", "warn"])
            changed.append(slug)
    if changed:
        practice_changed([practice.pk], KPI_FIGURES)  # the bands are drawn in the cached figures
    return changed


COST_LIMIT = Decimal("9999999999.99")  # RevenueCycleCost.amount: 12 digits, 2 after the point


COST_NOTE_LENGTH = 200


def _cost_problems(month: datetime.date, amount, today: datetime.date, note: str) -> dict[str, str]:
    problems = {}
    if len(note) > COST_NOTE_LENGTH:
        problems["note"] = f"Keep the note to {COST_NOTE_LENGTH} characters."
    if month.replace(day=1) > today.replace(day=1):
        problems["month"] = f"{month:%B %Y} has not started yet: enter the cost of a month that has."
    if isinstance(amount, float) or not isinstance(amount, Decimal) or not amount.is_finite():
        problems["amount"] = "Enter the cost as a number of dollars, such as 1500.00."
    elif amount < 0:
        problems["amount"] = "A cost cannot be negative."
    elif amount != amount.quantize(Decimal("0.01")):
        problems["amount"] = "Enter dollars and cents: at most 2 decimal places."
    elif amount > COST_LIMIT:
        problems["amount"] = "That is more than the app can store: check the amount."
    return problems


@transaction.atomic
def revenue_cycle_cost_set(
    *, practice, month: datetime.date, amount: Decimal, note: str = "", user=None, today: datetime.date
) -> tuple[RevenueCycleCost, bool]:
    """Enter or correct the practice's revenue-cycle cost of ``month`` (any day of it): the numerator of the
    cost to collect.

    Guarantees: the month has started (``today``'s month or earlier) and the amount is a Decimal of 0 or
    more in whole cents, else a ``ValidationError`` keyed by the field says what is wrong and nothing is
    written. One row per practice and month: a correction updates it (the unique key stops a second one,
    and a row locked here stops two managers overwriting each other unseen); the row's creation and each
    change of it are audit events (``RevenueCycleCost`` is audited), and saving the same figures again
    changes nothing. Returns the month's row and whether this call changed it."""
    problems = _cost_problems(month, amount, today, note)
    if problems:
        raise ValidationError(problems)
    first = month.replace(day=1)
    note = " ".join(note.split())
    cost, created = RevenueCycleCost.objects.select_for_update().get_or_create(
        practice=practice,
        month=first,
        defaults={"amount": amount, "note": note, "entered_by": user, "entered_at": timezone.now()},
    )
    if not created and (cost.amount, cost.note) != (amount, note):
        cost.amount, cost.note, cost.entered_by, cost.entered_at = amount, note, user, timezone.now()
        cost.save(update_fields=["amount", "note", "entered_by", "entered_at"])
        created = True
    if created:
        practice_changed([practice.pk], KPI_FIGURES)  # the cost to collect is read with the figures
    return cost, created
