"""How a payer adjudicates a claim, in one place for the demo (``devdata.demo``) and the benchmark data
(``devdata.bench``): whether it denies the claim or some lines and why (CARC), how long it takes to pay,
what it allows per line (the contract's amount, sometimes shaved: an underpayment), how the allowed
amount splits between the payer and the patient (copay, deductible, coinsurance), what it pays as the
secondary payer, and whether an appeal or a corrected claim wins.

Pure functions and dataclasses: no database, money in integer cents, every chance drawn from the
``random.Random`` the caller passes, in a fixed order. The callers differ only in how they write the
decision down (the demo as 835 files and services, the benchmark as rows), so the draws here are the
draws both make; changing their order changes the demo's data (``tests/claims/test_seed_demo.py``).
"""

import dataclasses
import datetime
import random

from devdata.demo.payers import PayerBook
from devdata.demo.reference import BUNDLE_PRONE, OFFICE_VISITS, PREVENTIVE

# A corrected claim is paid this often; otherwise the payer denies it again for the same reason.
CORRECTED_PAID_RATE = 0.85
# Patient responsibility kinds with their PR CARCs (the values of ``claims.models.PatientResponsibility``).
COPAY, DEDUCTIBLE, COINSURANCE = ("copay", "3"), ("deductible", "1"), ("coinsurance", "2")
TIMELY_FILING_CARC = "29"


def cents(amount) -> int:
    """Whole cents of a Decimal amount with at most two decimals."""
    return int(amount * 100)


def part(amount: int, numerator: int, denominator: int) -> int:
    """cents × numerator / denominator, rounded half up (the ledger's rounding) for non-negative amounts."""
    return (amount * numerator * 2 + denominator) // (denominator * 2)


@dataclasses.dataclass
class PayerTerms:
    """A payer's identity and behaviour in integer cents, per mille and whole days."""

    payer_id: int
    payer_name: str
    edi_id: str
    key: str
    allowed: dict[str, int]  # the contract's allowed amount per unit, by procedure code
    lag_mean: float
    lag_sd: float
    lag_min: int
    denial_rate: float
    denial_causes: list[str]
    denial_weights: list[int]
    bundling_rate: float
    appeal_overturn_rate: float
    underpayment_rate: float
    underpayment_range: tuple[int, int]  # per mille
    timely_filing_days: int
    prior_auth_codes: frozenset[str]
    pays_full_secondary: bool
    plans: list
    plan_weights: list[int]
    # from ``drift_from`` on, ``drift_codes`` are allowed ``drift_per_mille`` under contract on every claim
    drift_codes: frozenset[str] = frozenset()
    drift_per_mille: int = 0
    drift_from: datetime.date | None = None


def payer_terms(book: PayerBook, *, drift_from: datetime.date | None = None) -> PayerTerms:
    """The terms of a created payer (its profile and its contract's allowed amounts); its drift, when its
    profile has one, starts on ``drift_from``."""
    profile = book.profile
    return PayerTerms(
        payer_id=book.payer.pk,
        payer_name=book.payer.name,
        edi_id=book.payer.payer_id,
        key=profile.key,
        allowed={code: cents(amount) for code, amount in book.allowed.items()},
        lag_mean=profile.lag_mean,
        lag_sd=profile.lag_sd,
        lag_min=profile.lag_min,
        denial_rate=profile.denial_rate,
        denial_causes=[c for c, _w in profile.denial_causes],
        denial_weights=[w for _c, w in profile.denial_causes],
        bundling_rate=profile.bundling_rate,
        appeal_overturn_rate=profile.appeal_overturn_rate,
        underpayment_rate=profile.underpayment_rate,
        underpayment_range=(
            round(profile.underpayment_range[0] * 1000),
            round(profile.underpayment_range[1] * 1000),
        ),
        timely_filing_days=profile.timely_filing_days,
        prior_auth_codes=frozenset(profile.prior_auth_codes),
        pays_full_secondary=profile.pays_full_secondary,
        plans=[p for p, _w in profile.plans],
        plan_weights=[w for _p, w in profile.plans],
        drift_codes=frozenset(profile.drift_codes),
        drift_per_mille=profile.drift_per_mille,
        drift_from=drift_from if profile.drift_codes else None,
    )


@dataclasses.dataclass(frozen=True)
class LineFacts:
    """What the payer sees of a claim line: the caller's key for it, code, units and charge (cents)."""

    key: int
    code: str
    units: int
    charge: int


@dataclasses.dataclass
class LinePrice:
    """The payer's decision on a paid line: the contract's amount (``expected``), what it allowed and paid,
    and the patient's share as (responsibility, PR CARC, cents), zero shares left out."""

    key: int
    expected: int
    allowed: int
    paid: int
    shares: list[tuple[str, str, int]]


# --- timing -------------------------------------------------------------------------------------


def payment_lag_days(terms: PayerTerms, rng: random.Random) -> int:
    """Days from submission to the remittance: around the payer's mean, never under its floor."""
    return max(terms.lag_min, round(rng.gauss(terms.lag_mean, terms.lag_sd)))


# --- denials ------------------------------------------------------------------------------------


def line_denials(
    lines: list[tuple[int, str]], *, missing_auth, bundling_rate: float, rng: random.Random
) -> tuple[str, dict]:
    """How a payer's edits deny lines of a claim it otherwise pays: CARC 197 on each line whose code needed a
    prior authorization the claim lacks, else sometimes CARC 97 on one bundle-prone line after the first.
    ``lines`` are (line id, procedure code) in line order. Returns (claim-level CARC, {line id: CARC}): when
    every line is denied the whole claim is."""
    denied = {line_id: "197" for line_id, code in lines if code in missing_auth}
    prone = [line_id for line_id, code in lines[1:] if code in BUNDLE_PRONE]
    if not denied and prone and rng.random() < bundling_rate:
        denied = {rng.choice(prone): "97"}
    if denied and len(denied) == len(lines):
        return next(iter(denied.values())), {}
    return "", denied


def denial_cause(terms: PayerTerms, rng: random.Random) -> str:
    """One of the payer's usual causes of a whole-claim denial (its CARC), drawn by their weights."""
    return rng.choices(terms.denial_causes, weights=terms.denial_weights)[0]


def claim_denial(
    *,
    terms: PayerTerms,
    lines: list[tuple[int, str]],
    days_to_submission: int,
    missing_auth,
    rng: random.Random,
) -> tuple[str, dict]:
    """The payer's first decision on a claim: denied whole (CARC 29 when filed past the payer's limit, or
    one of its usual causes at its denial rate), else its line edits (``line_denials``). Returns
    (claim-level CARC or "", {line id: CARC} of the lines denied on a claim otherwise paid)."""
    if days_to_submission > terms.timely_filing_days:
        return TIMELY_FILING_CARC, {}
    if rng.random() < terms.denial_rate:
        return denial_cause(terms, rng), {}
    return line_denials(lines, missing_auth=missing_auth, bundling_rate=terms.bundling_rate, rng=rng)


def corrected_claim_paid(rng: random.Random) -> bool:
    """Whether the payer pays a claim corrected after a denial (else it denies it again, same reason)."""
    return rng.random() < CORRECTED_PAID_RATE


def appeal_overturned(terms: PayerTerms, rng: random.Random) -> bool:
    """Whether the payer overturns an appeal."""
    return rng.random() < terms.appeal_overturn_rate


# --- payment ------------------------------------------------------------------------------------


def lines_price(
    lines: list[LineFacts],
    *,
    terms: PayerTerms,
    copay: int,
    deductible_left: int,
    coinsurance: int,
    underpay: bool,
    rng: random.Random,
    service_date: datetime.date | None = None,
) -> tuple[list[LinePrice], int]:
    """The payer's allowed amounts (the contract's, capped at the charge; at the payer's underpayment
    rate one line of $20 or more is shaved by a per-mille fraction of its range) and the patient's share:
    the visit copay (on office visits, up to ``copay``), then what is left of the yearly deductible, then
    ``coinsurance`` per mille of the rest; preventive care has none. A drifting payer (its ``drift_from``
    on or before ``service_date``) allows its drift codes under contract on every line not shaved. No draw
    depends on the drift. Returns the lines' prices and the deductible left after them."""
    shaved = None
    if underpay and rng.random() < terms.underpayment_rate:
        candidates = [line for line in lines if terms.allowed[line.code] >= 2000]
        if candidates:
            fraction = rng.randint(*terms.underpayment_range)
            shaved = (rng.choice(candidates).key, fraction)
    drifting = terms.drift_from is not None and service_date is not None and service_date >= terms.drift_from
    prices = []
    copay_left = copay
    for line in lines:
        expected = min(terms.allowed[line.code] * line.units, line.charge)
        allowed = expected
        if shaved and shaved[0] == line.key:
            allowed = part(allowed, 1000 - shaved[1], 1000)
        elif drifting and line.code in terms.drift_codes:
            allowed = part(allowed, 1000 - terms.drift_per_mille, 1000)
        shares, remaining = [], allowed
        if line.code not in PREVENTIVE:
            if copay_left and line.code in OFFICE_VISITS:
                paid_copay = min(copay_left, remaining)
                copay_left -= paid_copay
                remaining -= paid_copay
                shares.append((*COPAY, paid_copay))
            else:
                deductible = min(deductible_left, remaining)
                deductible_left -= deductible
                remaining -= deductible
                shares.append((*DEDUCTIBLE, deductible))
                shares.append((*COINSURANCE, part(remaining, coinsurance, 1000)))
        shares = [share for share in shares if share[2] > 0]
        prices.append(LinePrice(line.key, expected, allowed, allowed - sum(s[2] for s in shares), shares))
    return prices, deductible_left


def secondary_payment(
    shares: list[tuple[str, str, int]], *, terms: PayerTerms, line: LineFacts, primary_paid: int
) -> tuple[int, int, int]:
    """What the secondary pays of the patient's share the primary left on a line: a supplement pays it all
    but the deductible (which stays with the patient); Medicaid pays up to its own allowed amount less what
    the primary paid, and the rest is contractual (a dual-eligible patient cannot be billed).
    Returns (paid, deductible left to the patient, contractual adjustment)."""
    owed = sum(amount for _r, _c, amount in shares)
    if terms.pays_full_secondary:
        deductible = sum(amount for responsibility, _c, amount in shares if responsibility == DEDUCTIBLE[0])
        return owed - deductible, deductible, 0
    own = terms.allowed.get(line.code, 0) * line.units
    paid = min(owed, max(0, own - primary_paid))
    return paid, 0, owed - paid
