"""Every KPI of the practice manager's dashboard, as data: what it means, how it is counted, what is good.

Each definition names its formula in words, its numerator and denominator, its period rule and its
default target band; ``kpis.measures`` holds the one query per KPI that yields both the number and the
claims behind it, and ``docs/kpis.md`` repeats these words. A KPI whose inputs the app does not have yet
carries ``needs`` and is shown as "needs …", never as a number.

Snapshots store a numerator and a denominator per day, so any date range is a sum of days:
- ``flow`` KPIs count events dated on the day (a submission, an adjudication, a ledger entry): the value
  over a range is Σ numerators ÷ Σ denominators.
- ``stock`` KPIs are a state as of the end of the day (open A/R): the value over a range is the one of
  its last day.
- ``monthly`` KPIs divide a figure the manager enters per calendar month (the revenue-cycle cost) by a
  flow of the same months: over a range, every calendar month the range touches counts whole, and the
  snapshots store only the flow (the denominator); the entered figure is read as it stands.
"""

import dataclasses
from decimal import ROUND_HALF_UP, Decimal

FLOW, STOCK, MONTHLY = "flow", "stock", "monthly"
PERCENT, DAYS, MONEY = "percent", "days", "money"
HIGHER, LOWER = "higher", "lower"

AR_WINDOW_DAYS = 90
AGING_BUCKETS: list[tuple[str, str, int, int | None]] = [
    ("ar_0_30", "0–30 days", 0, 30),
    ("ar_31_60", "31–60 days", 31, 60),
    ("ar_61_90", "61–90 days", 61, 90),
    ("ar_91_120", "91–120 days", 91, 120),
    ("ar_over_120", "Over 120 days", 121, None),
]


@dataclasses.dataclass(frozen=True)
class KpiDefinition:
    slug: str
    name: str
    formula: str
    numerator: str
    denominator: str
    period_rule: str
    kind: str  # FLOW, STOCK or MONTHLY
    unit: str  # PERCENT, DAYS or MONEY
    better: str | None = None  # HIGHER, LOWER, or None for a trend without a target
    good: Decimal | None = None  # the default target: at or past it is good
    warn: Decimal | None = None  # between good and warn is a warning; past warn is bad
    headline: bool = False
    needs: str = ""
    # For a rate: ratio × scale is shown (100 for a percent). For a mean or a sum: 1.
    scale: Decimal = Decimal("1")

    @property
    def computed(self) -> bool:
        return not self.needs

    def value(self, numerator: Decimal, denominator: Decimal) -> Decimal | None:
        """The number shown: None when there is nothing to divide by (shown as "—", never as zero)."""
        if self.unit == MONEY:
            return numerator.quantize(CENT, rounding=ROUND_HALF_UP)
        if not denominator:
            return None
        places = Decimal("0.1")
        return (numerator * self.scale / denominator).quantize(places, rounding=ROUND_HALF_UP)

    def band(self, value: Decimal | None, good: Decimal | None = None, warn: Decimal | None = None) -> str:
        """ "ok", "warn", "bad", or "" when the KPI has no target or no value."""
        good = self.good if good is None else good
        warn = self.warn if warn is None else warn
        if value is None or self.better is None or good is None:
            return ""
        if self.better == HIGHER:
            return "ok" if value >= good else "warn" if warn is not None and value >= warn else "bad"
        return "ok" if value <= good else "warn" if warn is not None and value <= warn else "bad"


HUNDRED = Decimal("100")
CENT = Decimal("0.01")
SETTLED = "ledger entries dated in the period, net of reversals and refunds"
PLANS_STARTED = (
    "payment plans created in the period, whatever their status now, except plans cancelled without ever "
    "having defaulted (set up in error, replaced, or settled another way: neither kept nor broken)"
)
MONTHS_TOUCHED = (
    "by calendar month: every month the period touches counts whole (a period from the 16th of one month "
    "to the 15th of the next covers both months, from their first day to their last); no number until the "
    "manager has entered the cost of each of those months; whole practice only (a payer or provider has "
    "no cost of its own)"
)
PLAN_COHORT = (
    "by the day the plan was created (the patient's agreement; its first installment may fall later), "
    "the plan's outcome read as it stands when computed; each plan counts once, on its lowest-numbered "
    "claim, with that claim's payer, provider and place of service"
)

DEFINITIONS: list[KpiDefinition] = [
    KpiDefinition(
        slug="clean_claim_rate",
        name="Clean claim rate",
        formula="claims first submitted in the period that nobody edited after the scrubber found errors "
        "and that were never rejected (999/277CA) ÷ claims first submitted in the period",
        numerator="claims first submitted in the period, not edited after scrubbing, never rejected",
        denominator="claims first submitted in the period (voids, frequency 8, left out)",
        period_rule="by the date of the claim's first submission",
        kind=FLOW,
        unit=PERCENT,
        better=HIGHER,
        good=Decimal("95"),
        warn=Decimal("90"),
        headline=True,
        scale=HUNDRED,
    ),
    KpiDefinition(
        slug="initial_denial_rate",
        name="Initial denial rate",
        formula="claims denied, fully or partly, on their first adjudication ÷ claims adjudicated for the "
        "first time in the period",
        numerator="claims whose first adjudication made them denied, or that got a denial recorded on "
        "the day of their first adjudication",
        denominator="claims adjudicated (paid, partially paid, denied or forwarded) for the first time",
        period_rule="by the date of the claim's first adjudication",
        kind=FLOW,
        unit=PERCENT,
        better=LOWER,
        good=Decimal("5"),
        warn=Decimal("10"),
        headline=True,
        scale=HUNDRED,
    ),
    KpiDefinition(
        slug="initial_denial_rate_dollars",
        name="Initial denial rate ($)",
        formula="charges of the claims denied on first adjudication ÷ charges of the claims adjudicated for "
        "the first time in the period",
        numerator="claim charges (current total) of the denied claims of the initial denial rate",
        denominator="claim charges of every claim in the initial denial rate's denominator",
        period_rule="by the date of the claim's first adjudication",
        kind=FLOW,
        unit=PERCENT,
        better=LOWER,
        good=Decimal("5"),
        warn=Decimal("10"),
        scale=HUNDRED,
    ),
    KpiDefinition(
        slug="first_pass_resolution_rate",
        name="First-pass resolution rate",
        formula="claims paid (or forwarded, the rest moved on to the patient or the secondary) on their "
        "first adjudication, with no denial ÷ claims adjudicated for the first time in the period",
        numerator="claims whose first adjudication made them paid or forwarded, with no denial that day",
        denominator="claims adjudicated for the first time in the period",
        period_rule="by the date of the claim's first adjudication",
        kind=FLOW,
        unit=PERCENT,
        better=HIGHER,
        good=Decimal("90"),
        warn=Decimal("85"),
        headline=True,
        scale=HUNDRED,
    ),
    KpiDefinition(
        slug="days_in_ar",
        name="Days in A/R",
        formula=f"open A/R at the end of the day (credit balances left out) ÷ average daily gross charges "
        f"over the {AR_WINDOW_DAYS} days ending that day",
        numerator="Σ of the positive claim balances (insurance + patient) from ledger entries dated up to "
        "the day; a claim in credit counts zero, its credit is reported apart",
        denominator=f"net charges dated in the {AR_WINDOW_DAYS} days ending on the day (the value is "
        f"numerator × {AR_WINDOW_DAYS} ÷ denominator)",
        period_rule="as of the last day of the period",
        kind=STOCK,
        unit=DAYS,
        better=LOWER,
        good=Decimal("35"),
        warn=Decimal("45"),
        headline=True,
        scale=Decimal(AR_WINDOW_DAYS),
    ),
    KpiDefinition(
        slug="ar_total",
        name="Open A/R",
        formula="Σ of the positive claim balances, from ledger entries dated up to the day",
        numerator="open balances (insurance + patient) of claims with a balance above zero",
        denominator="—",
        period_rule="as of the last day of the period",
        kind=STOCK,
        unit=MONEY,
    ),
    KpiDefinition(
        slug="credit_balances",
        name="Credit balances",
        formula="Σ of the claim balances below zero (money owed back), from ledger entries dated up to the "
        "day, shown as a positive amount",
        numerator="minus the balances of claims whose balance is below zero",
        denominator="—",
        period_rule="as of the last day of the period",
        kind=STOCK,
        unit=MONEY,
    ),
    KpiDefinition(
        slug="ar_over_90_pct",
        name="A/R over 90 days",
        formula="open A/R of claims whose date of service is more than 90 days before the day ÷ open A/R",
        numerator="positive balances of claims with service date more than 90 days old",
        denominator="open A/R",
        period_rule="as of the last day of the period; age = day − date of service",
        kind=STOCK,
        unit=PERCENT,
        better=LOWER,
        good=Decimal("20"),
        warn=Decimal("25"),
        scale=HUNDRED,
    ),
    KpiDefinition(
        slug="ar_over_120_pct",
        name="A/R over 120 days",
        formula="open A/R of claims whose date of service is more than 120 days before the day ÷ open A/R",
        numerator="positive balances of claims with service date more than 120 days old",
        denominator="open A/R",
        period_rule="as of the last day of the period; age = day − date of service",
        kind=STOCK,
        unit=PERCENT,
        better=LOWER,
        good=Decimal("12"),
        warn=Decimal("15"),
        headline=True,
        scale=HUNDRED,
    ),
    *[
        KpiDefinition(
            slug=slug,
            name=f"A/R {label}",
            formula=f"open A/R of claims whose date of service is {label.lower()} before the day",
            numerator="positive claim balances in the age bucket",
            denominator="—",
            period_rule="as of the last day of the period; age = day − date of service",
            kind=STOCK,
            unit=MONEY,
        )
        for slug, label, _start, _end in AGING_BUCKETS
    ],
    KpiDefinition(
        slug="net_collection_rate",
        name="Net collection rate",
        formula="payments ÷ (charges − contractual adjustments), cash basis: " + SETTLED,
        numerator="insurance and patient payments minus refunds",
        denominator="charges minus contractual adjustments",
        period_rule="by the effective date of each ledger entry (a reversal counts on its own date)",
        kind=FLOW,
        unit=PERCENT,
        better=HIGHER,
        good=Decimal("95"),
        warn=Decimal("90"),
        headline=True,
        scale=HUNDRED,
    ),
    KpiDefinition(
        slug="gross_collection_rate",
        name="Gross collection rate",
        formula="payments ÷ charges, cash basis: " + SETTLED + " (a trend, no target)",
        numerator="insurance and patient payments minus refunds",
        denominator="charges",
        period_rule="by the effective date of each ledger entry",
        kind=FLOW,
        unit=PERCENT,
        scale=HUNDRED,
    ),
    KpiDefinition(
        slug="days_to_pay",
        name="Days to pay",
        formula="mean of (date of the claim's first insurance payment − date of its first submission)",
        numerator="Σ days from first submission to first insurance payment",
        denominator="claims whose first insurance payment is dated in the period",
        period_rule="by the effective date of the first insurance payment",
        kind=FLOW,
        unit=DAYS,
    ),
    KpiDefinition(
        slug="denial_write_off_pct",
        name="Denial write-offs",
        formula="insurance write-offs on claims with a denial ÷ net revenue (payments minus refunds), "
        "cash basis: " + SETTLED,
        numerator="insurance-side write-offs on claims that have at least one denial",
        denominator="insurance and patient payments minus refunds",
        period_rule="by the effective date of each ledger entry",
        kind=FLOW,
        unit=PERCENT,
        better=LOWER,
        good=Decimal("2"),
        warn=Decimal("5"),
        scale=HUNDRED,
    ),
    KpiDefinition(
        slug="appeal_overturn_rate",
        name="Appeal overturn rate",
        formula="appeals won (fully or partly) ÷ appeals decided",
        numerator="claims moved from appealed to paid or partially paid",
        denominator="claims moved from appealed to paid, partially paid, denied or written off",
        period_rule="by the date of the decision (the status change out of appealed)",
        kind=FLOW,
        unit=PERCENT,
        better=HIGHER,
        good=Decimal("40"),
        warn=Decimal("25"),
        scale=HUNDRED,
    ),
    KpiDefinition(
        slug="charge_lag",
        name="Charge lag",
        formula="mean of (date the claim was entered − its date of service)",
        numerator="Σ days from date of service to charge entry",
        denominator="claims entered in the period",
        period_rule="by the date of charge entry",
        kind=FLOW,
        unit=DAYS,
        better=LOWER,
        good=Decimal("2"),
        warn=Decimal("5"),
        headline=True,
    ),
    KpiDefinition(
        slug="patient_collection_rate",
        name="Patient collection rate",
        formula="patient payments ÷ patient responsibility, cash basis: " + SETTLED,
        numerator="patient payments minus patient refunds",
        denominator="transfers to patient responsibility plus charges billed to the patient (self-pay)",
        period_rule="by the effective date of each ledger entry",
        kind=FLOW,
        unit=PERCENT,
        scale=HUNDRED,
    ),
    KpiDefinition(
        slug="underpayment_identified",
        name="Underpayment found",
        formula="Σ (contract's expected allowed − payer's allowed) over remittance lines paid short",
        numerator=(
            "expected allowed − allowed, on each ERA line where the payer allowed less than the contract"
        ),
        denominator="—",
        period_rule="by the remittance's payment date (the date it was received when the ERA has none)",
        kind=FLOW,
        unit=MONEY,
    ),
    KpiDefinition(
        slug="underpayment_recovered",
        name="Underpayment recovered",
        formula="Σ money recovered on underpayments marked recovered (by a later remittance or by hand)",
        numerator="the amount recovered on each underpayment that reached recovered",
        denominator="—",
        period_rule="by the day the underpayment was marked recovered",
        kind=FLOW,
        unit=MONEY,
    ),
    KpiDefinition(
        slug="payment_plan_completion_rate",
        name="Payment plan completion",
        formula="plans completed ÷ plans started, by the day each plan was created, as the plans stand now",
        numerator="plans of the cohort whose status is now completed",
        denominator=PLANS_STARTED,
        period_rule=PLAN_COHORT,
        kind=FLOW,
        unit=PERCENT,
        scale=HUNDRED,
    ),
    KpiDefinition(
        slug="payment_plan_default_rate",
        name="Payment plan default",
        formula="plans defaulted ÷ plans started, by the day each plan was created, as the plans stand now",
        numerator="plans of the cohort whose status is now defaulted, or cancelled after having defaulted "
        "(a broken plan closed out still counts as a default)",
        denominator=PLANS_STARTED,
        period_rule=PLAN_COHORT,
        kind=FLOW,
        unit=PERCENT,
        scale=HUNDRED,
    ),
    KpiDefinition(
        slug="cost_to_collect",
        name="Cost to collect",
        formula="revenue-cycle cost of the calendar months ÷ cash collected in those months, cash basis: "
        + SETTLED,
        numerator="the revenue-cycle cost the manager entered for each month (billing staff, billing "
        "service, clearinghouse, software)",
        denominator="insurance and patient payments minus refunds dated in those months (the cash of the "
        "collection rates)",
        period_rule=MONTHS_TOUCHED,
        kind=MONTHLY,
        unit=PERCENT,
        better=LOWER,
        good=Decimal("4"),
        scale=HUNDRED,
    ),
]

BY_SLUG: dict[str, KpiDefinition] = {d.slug: d for d in DEFINITIONS}
HEADLINE: list[KpiDefinition] = [d for d in DEFINITIONS if d.headline]
COMPUTED: list[KpiDefinition] = [d for d in DEFINITIONS if d.computed]
