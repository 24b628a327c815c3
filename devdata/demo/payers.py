"""The demo's payers and how each behaves: contracts, fee schedules, payment lag, denials, underpayment.

A ``PayerProfile`` is data: what the payer is, how its contract is priced and how it treats claims.
``payers_create`` turns a practice's profiles into ``Payer``, ``PayerContract`` and ``FeeScheduleRow``
rows and returns a ``PayerBook`` per payer, which knows each procedure's expected allowed amount
(what the contract promises, priced by ``rcm.pricing`` as ERA posting prices it; the adjudication step
pays from it).
"""

import dataclasses
import datetime
import random
from decimal import Decimal

from claims.ledger import money
from devdata.demo.reference import PROCEDURES
from rcm.models import FeeScheduleRow, Payer, PayerContract, PayerKind, PricingMethod
from rcm.pricing import LineToPrice, PriceBook

D = Decimal


@dataclasses.dataclass(frozen=True)
class PlanDesign:
    """Patient cost sharing under a plan: a copay for office visits, a yearly deductible, then coinsurance."""

    name: str
    copay: Decimal = D("0.00")
    deductible: Decimal = D("0.00")
    coinsurance: Decimal = D("0.00")  # 0.20 = the patient pays 20% of the allowed amount
    # deductibles that change by calendar year (Medicare Part B); other years use ``deductible``
    yearly_deductibles: tuple[tuple[int, Decimal], ...] = ()

    def deductible_in(self, year: int) -> Decimal:
        return dict(self.yearly_deductibles).get(year, self.deductible)


@dataclasses.dataclass(frozen=True)
class PayerProfile:
    """One payer's identity, contract terms and habits. Probabilities are plain floats (they are not
    money)."""

    key: str
    name: str
    payer_id: str
    kind: str
    # pricing: a fee schedule at ``multiplier`` x the Medicare amounts (with a per-code spread), or a
    # percentage of another profile's schedule (``base_key``), as the contract says
    pricing: str = PricingMethod.FEE_SCHEDULE
    multiplier: Decimal = D("1.00")
    spread: Decimal = D("0.00")  # each fee row varies by up to +/- this fraction
    percent: Decimal | None = None
    base_key: str = ""
    timely_filing_days: int = 365
    appeal_limit_days: int = 180
    prior_auth_codes: tuple[str, ...] = ()
    no_response_days: int = 30
    # days from submission to the remittance: mean, spread, floor
    lag_mean: float = 21.0
    lag_sd: float = 6.0
    lag_min: int = 7
    # share of claims denied outright, and the reasons (CARC) with weights
    denial_rate: float = 0.06
    denial_causes: tuple[tuple[str, int], ...] = (("16", 3), ("27", 3), ("50", 2), ("18", 1))
    # chance that a bundle-prone line on a multi-line claim is denied as included in the visit (CARC 97)
    bundling_rate: float = 0.03
    # chance an appeal (or a corrected claim) wins
    appeal_overturn_rate: float = 0.5
    # chance a paid claim has one line paid a few percent under contract, and how far under
    underpayment_rate: float = 0.0
    underpayment_range: tuple[float, float] = (0.02, 0.06)
    # a drift: from ``drift_months`` months before the demo's end on, the payer allows these codes
    # ``drift_per_mille`` under contract on every claim (one finding for the manager, not scattered lines)
    drift_codes: tuple[str, ...] = ()
    drift_per_mille: int = 0
    drift_months: int = 0
    plans: tuple[tuple[PlanDesign, int], ...] = ((PlanDesign("No cost sharing"), 1),)
    # when secondary: pays the patient's share in full (a supplement) or up to its own allowed (Medicaid)
    pays_full_secondary: bool = True


@dataclasses.dataclass
class PayerBook:
    """A created payer with its contract, priced in memory (its rows, or its base payer's contract and rows),
    and the expected allowed amount of one unit per procedure code."""

    profile: PayerProfile
    payer: Payer
    contract: PayerContract
    prices: PriceBook
    allowed: dict[str, Decimal]

    def expected_allowed(
        self, *, procedure_code: str, service_date: datetime.date, units: int = 1
    ) -> Decimal | None:
        """The contract's allowed amount for the code (all units), or None when the contract has no price."""
        line = LineToPrice(procedure_code=procedure_code, service_date=service_date, units=Decimal(units))
        price = self.prices.price(line)
        return None if price is None else price.amount


MEDICARE_PLAN = PlanDesign(
    "Original Medicare Part B",
    deductible=D("283.00"),
    coinsurance=D("0.20"),
    yearly_deductibles=((2024, D("240.00")), (2025, D("257.00")), (2026, D("283.00"))),
)

MEDICARE = PayerProfile(
    key="medicare",
    name="Medicare Part B (CGS, J15)",
    payer_id="15202",
    kind=PayerKind.MEDICARE,
    multiplier=D("1.00"),
    timely_filing_days=365,
    appeal_limit_days=120,
    no_response_days=30,
    # Medicare pays clean claims no sooner than 14 days after receipt, and rarely much later.
    lag_mean=15.0,
    lag_sd=2.0,
    lag_min=14,
    denial_rate=0.045,
    denial_causes=(("16", 3), ("50", 3), ("18", 2), ("27", 1)),
    bundling_rate=0.03,
    appeal_overturn_rate=0.55,
    plans=((MEDICARE_PLAN, 1),),
)
MEDICAID = PayerProfile(
    key="medicaid",
    name="Ohio Department of Medicaid",
    payer_id="OHMCD",
    kind=PayerKind.MEDICAID,
    multiplier=D("0.72"),
    timely_filing_days=180,
    appeal_limit_days=90,
    no_response_days=45,
    lag_mean=24.0,
    lag_sd=8.0,
    lag_min=10,
    # Eligibility churn is Medicaid's signature denial.
    denial_rate=0.11,
    denial_causes=(("27", 5), ("16", 3), ("18", 1), ("50", 1)),
    bundling_rate=0.04,
    appeal_overturn_rate=0.45,
    plans=((PlanDesign("Medicaid (no cost sharing)"), 1),),
    pays_full_secondary=False,
)
SUMMIT = PayerProfile(
    key="summit",
    name="Summit Health Plan",
    payer_id="SHP01",
    kind=PayerKind.COMMERCIAL,
    pricing=PricingMethod.PERCENT_OF_BASE,
    percent=D("125.00"),
    base_key="medicare",
    timely_filing_days=180,
    appeal_limit_days=180,
    no_response_days=30,
    # A fast, clean payer: the one the practice likes.
    lag_mean=16.0,
    lag_sd=5.0,
    lag_min=7,
    denial_rate=0.05,
    denial_causes=(("16", 3), ("27", 3), ("50", 1), ("18", 1)),
    bundling_rate=0.02,
    appeal_overturn_rate=0.6,
    plans=(
        (PlanDesign("Summit PPO 25", copay=D("25.00"), deductible=D("500.00"), coinsurance=D("0.20")), 5),
        (PlanDesign("Summit PPO 40", copay=D("40.00"), deductible=D("1500.00"), coinsurance=D("0.20")), 3),
        (PlanDesign("Summit HSA 2500", deductible=D("2500.00"), coinsurance=D("0.10")), 1),
    ),
)
KEYSTONE = PayerProfile(
    key="keystone",
    name="Keystone Mutual Insurance",
    payer_id="KSM22",
    kind=PayerKind.COMMERCIAL,
    multiplier=D("1.18"),
    spread=D("0.10"),
    timely_filing_days=90,
    appeal_limit_days=60,
    no_response_days=45,
    prior_auth_codes=("20610", "11102"),
    # Slow, strict on authorizations and medical necessity, and it shaves some lines under contract.
    lag_mean=34.0,
    lag_sd=12.0,
    lag_min=12,
    denial_rate=0.12,
    denial_causes=(("50", 4), ("16", 3), ("27", 2), ("18", 1)),
    bundling_rate=0.06,
    appeal_overturn_rate=0.45,
    underpayment_rate=0.3,
    underpayment_range=(0.02, 0.06),
    # ... and for the last five months it has allowed the two commonest visits 3% under contract.
    drift_codes=("99213", "99214"),
    drift_per_mille=30,
    drift_months=5,
    plans=(
        (
            PlanDesign(
                "Keystone Choice 30", copay=D("30.00"), deductible=D("1000.00"), coinsurance=D("0.20")
            ),
            6,
        ),
        (PlanDesign("Keystone HDHP", deductible=D("2500.00"), coinsurance=D("0.20")), 3),
    ),
)
CRESTLINE = PayerProfile(
    key="crestline",
    name="Crestline Health",
    payer_id="CRS47",
    kind=PayerKind.COMMERCIAL,
    pricing=PricingMethod.PERCENT_OF_BASE,
    percent=D("110.00"),
    base_key="medicare",
    timely_filing_days=120,
    appeal_limit_days=180,
    no_response_days=30,
    prior_auth_codes=("20610",),
    lag_mean=26.0,
    lag_sd=9.0,
    lag_min=10,
    # Bundling edits everywhere, and coordination-of-benefits questions.
    denial_rate=0.08,
    denial_causes=(("27", 3), ("16", 2), ("18", 2), ("50", 1)),
    bundling_rate=0.12,
    appeal_overturn_rate=0.55,
    plans=(
        (
            PlanDesign(
                "Crestline Select 20", copay=D("20.00"), deductible=D("750.00"), coinsurance=D("0.20")
            ),
            7,
        ),
        (PlanDesign("Crestline Bronze", deductible=D("3500.00"), coinsurance=D("0.25")), 2),
    ),
)

# A pediatric practice has no Medicare base schedule of its own: its commercial contracts are fee schedules.
LAKEVIEW_SUMMIT = dataclasses.replace(
    SUMMIT, pricing=PricingMethod.FEE_SCHEDULE, multiplier=D("1.25"), percent=None, base_key=""
)

RIVERSIDE_PAYERS: tuple[PayerProfile, ...] = (MEDICARE, MEDICAID, SUMMIT, KEYSTONE, CRESTLINE)
LAKEVIEW_PAYERS: tuple[PayerProfile, ...] = (MEDICAID, LAKEVIEW_SUMMIT, KEYSTONE)


def _fee_schedule(*, profile: PayerProfile, rng: random.Random) -> dict[str, Decimal]:
    """The profile's allowed amount per code: the Medicare amount x multiplier, each row nudged by the spread
    (real negotiated schedules are not a flat percentage)."""
    schedule = {}
    for code, (medicare, _charge, _description) in PROCEDURES.items():
        factor = profile.multiplier
        if profile.spread:
            factor *= 1 + D(rng.randint(-100, 100)) / 100 * profile.spread
        schedule[code] = money(medicare * factor)
    return schedule


def payers_create(
    *, practice, profiles: tuple[PayerProfile, ...], rng: random.Random, contracts_from: datetime.date
) -> dict[str, PayerBook]:
    """Create the practice's payers, one in-network contract each and the fee schedule rows.

    Guarantees: a % of base contract names the base profile's payer (listed before it) and has no
    rows of its own; every other contract has one non-facility row per procedure in ``PROCEDURES``; the
    returned books' expected amounts equal what the contract rows (or base rows x percent) say."""
    books: dict[str, PayerBook] = {}
    rows: list[FeeScheduleRow] = []
    for profile in profiles:
        payer = Payer(
            practice=practice,
            name=profile.name,
            payer_id=profile.payer_id,
            kind=profile.kind,
            no_response_days=profile.no_response_days,
        )
        payer.full_clean(validate_unique=False, validate_constraints=False, exclude=["practice"])
        payer.save()
        contract = PayerContract(
            practice=practice,
            payer=payer,
            name=f"{profile.name} participating agreement",
            effective_date=contracts_from,
            timely_filing_days=profile.timely_filing_days,
            appeal_limit_days=profile.appeal_limit_days,
            prior_auth_codes=list(profile.prior_auth_codes),
            pricing_method=profile.pricing,
        )
        if profile.pricing == PricingMethod.PERCENT_OF_BASE:
            base = books[profile.base_key]
            contract.base_payer, contract.percent = base.payer, profile.percent
        contract.full_clean(exclude=["practice", "payer", "base_payer"])
        contract.save()
        if profile.pricing == PricingMethod.FEE_SCHEDULE:
            own_rows = [
                FeeScheduleRow(
                    practice=practice, contract=contract, procedure_code=code, allowed_amount=amount
                )
                for code, amount in _fee_schedule(profile=profile, rng=rng).items()
            ]
            rows.extend(own_rows)
            prices = PriceBook([contract], own_rows)
        else:
            base = books[profile.base_key]
            prices = PriceBook([contract], base.prices.rows.values(), base_contracts=[base.contract])
        allowed = {}
        for code in PROCEDURES:
            price = prices.price(LineToPrice(procedure_code=code, service_date=contracts_from))
            if price is not None:
                allowed[code] = price.amount
        books[profile.key] = PayerBook(
            profile=profile, payer=payer, contract=contract, prices=prices, allowed=allowed
        )
    for row in rows[:5]:
        # The rows are uniform: checking a few proves the shape; the rest go in one insert.
        row.full_clean(exclude=["practice", "contract"], validate_unique=False, validate_constraints=False)
    FeeScheduleRow.objects.bulk_create(rows, batch_size=500)
    return books
