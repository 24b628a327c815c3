"""The payer simulator shared by the demo and the benchmark data: exact decisions for hand-made claims,
with injected draws (a stand-in ``random.Random`` that replays the numbers a case needs)."""

import random

import pytest

from devdata.simulator import (
    LineFacts,
    LinePrice,
    PayerTerms,
    appeal_overturned,
    claim_denial,
    corrected_claim_paid,
    line_denials,
    lines_price,
    payment_lag_days,
    secondary_payment,
)


class Draws(random.Random):
    """Replays ``random()`` values, ``randint`` results and ``choice`` indexes in order; any other draw, or
    one too many, fails the test (so the order of draws is part of what is checked)."""

    def __init__(self, *, randoms=(), ints=(), choices=(), gausses=()):
        super().__init__(0)
        self.randoms, self.ints, self.choice_at = list(randoms), list(ints), list(choices)
        self.gausses = list(gausses)

    def random(self):
        return self.randoms.pop(0)

    def randint(self, a, b):
        value = self.ints.pop(0)
        assert a <= value <= b, (a, value, b)
        return value

    def choice(self, seq):
        return seq[self.choice_at.pop(0)]

    def choices(self, population, weights=None, *, cum_weights=None, k=1):
        return [population[self.choice_at.pop(0)]]

    def gauss(self, mu=0.0, sigma=1.0):
        return self.gausses.pop(0)

    def done(self):
        return not (self.randoms or self.ints or self.choice_at or self.gausses)


def terms(**overrides) -> PayerTerms:
    values = dict(
        payer_id=1,
        payer_name="Summit Health",
        edi_id="SMH01",
        key="summit",
        allowed={"99214": 11000, "36415": 1000, "99396": 15000, "93000": 1900, "20610": 9000},
        lag_mean=21.0,
        lag_sd=6.0,
        lag_min=7,
        denial_rate=0.06,
        denial_causes=["16", "27", "50"],
        denial_weights=[3, 3, 2],
        bundling_rate=0.03,
        appeal_overturn_rate=0.5,
        underpayment_rate=0.1,
        underpayment_range=(20, 60),
        timely_filing_days=90,
        prior_auth_codes=frozenset({"20610"}),
        pays_full_secondary=True,
        plans=[],
        plan_weights=[],
    )
    return PayerTerms(**(values | overrides))


VISIT = LineFacts(key=1, code="99214", units=1, charge=18500)
LAB = LineFacts(key=2, code="36415", units=1, charge=1800)
EKG = LineFacts(key=3, code="93000", units=1, charge=4500)
PHYSICAL = LineFacts(key=4, code="99396", units=1, charge=22000)


# --- denials ------------------------------------------------------------------------------------


def test_a_claim_filed_past_the_payers_limit_is_denied_29_without_a_draw():
    rng = Draws()
    assert claim_denial(
        terms=terms(), lines=[(1, "99214")], days_to_submission=91, missing_auth=set(), rng=rng
    ) == ("29", {})
    assert rng.done()


def test_a_claim_denied_outright_gets_one_of_the_payers_causes():
    rng = Draws(randoms=[0.05], choices=[2])
    assert claim_denial(
        terms=terms(), lines=[(1, "99214")], days_to_submission=90, missing_auth=set(), rng=rng
    ) == ("50", {})
    assert rng.done()


def test_a_line_missing_its_prior_authorization_is_denied_197_and_the_rest_paid():
    rng = Draws(randoms=[0.5])
    assert claim_denial(
        terms=terms(),
        lines=[(1, "99214"), (5, "20610")],
        days_to_submission=3,
        missing_auth={"20610"},
        rng=rng,
    ) == ("", {5: "197"})
    assert rng.done()


def test_a_bundle_prone_line_after_the_first_is_sometimes_denied_97():
    rng = Draws(randoms=[0.02], choices=[1])
    lines = [(1, "99214"), (2, "36415"), (3, "93000")]
    assert line_denials(lines, missing_auth=set(), bundling_rate=0.03, rng=rng) == ("", {3: "97"})
    assert rng.done()
    assert line_denials(lines, missing_auth=set(), bundling_rate=0.03, rng=Draws(randoms=[0.03])) == ("", {})


def test_when_every_line_is_denied_the_whole_claim_is():
    assert line_denials([(5, "20610")], missing_auth={"20610"}, bundling_rate=0.03, rng=Draws()) == (
        "197",
        {},
    )


def test_corrected_claims_and_appeals_win_at_their_rates():
    assert corrected_claim_paid(Draws(randoms=[0.849])) is True
    assert corrected_claim_paid(Draws(randoms=[0.85])) is False
    assert appeal_overturned(terms(appeal_overturn_rate=0.55), Draws(randoms=[0.54])) is True
    assert appeal_overturned(terms(appeal_overturn_rate=0.55), Draws(randoms=[0.55])) is False


def test_payment_lag_rounds_the_draw_and_keeps_the_payers_floor():
    assert payment_lag_days(terms(), Draws(gausses=[20.5])) == 20
    assert payment_lag_days(terms(), Draws(gausses=[3.2])) == 7


# --- pricing ------------------------------------------------------------------------------------


def test_copay_then_deductible_then_coinsurance():
    rng = Draws()  # no underpayment asked for: no draw
    prices, deductible_left = lines_price(
        [VISIT, LAB, EKG],
        terms=terms(),
        copay=2500,
        deductible_left=1500,
        coinsurance=200,
        underpay=False,
        rng=rng,
    )
    assert prices == [
        LinePrice(1, 11000, 11000, 8500, [("copay", "3", 2500)]),
        LinePrice(2, 1000, 1000, 0, [("deductible", "1", 1000)]),
        # $19.00 allowed: the last $5.00 of the deductible, then 20% of $14.00.
        LinePrice(3, 1900, 1900, 1120, [("deductible", "1", 500), ("coinsurance", "2", 280)]),
    ]
    assert deductible_left == 0
    assert rng.done()


def test_preventive_care_has_no_cost_sharing_and_the_allowed_is_capped_at_the_charge():
    cheap = LineFacts(key=9, code="99214", units=2, charge=20000)
    prices, deductible_left = lines_price(
        [PHYSICAL, cheap],
        terms=terms(),
        copay=0,
        deductible_left=0,
        coinsurance=100,
        underpay=False,
        rng=Draws(),
    )
    assert prices == [
        LinePrice(4, 15000, 15000, 15000, []),
        LinePrice(9, 20000, 20000, 18000, [("coinsurance", "2", 2000)]),
    ]
    assert deductible_left == 0


def test_an_underpayment_shaves_one_line_of_twenty_dollars_or_more_rounding_half_up():
    # the chance (0.05 < 0.1), then the fraction (33 per mille), then which candidate (the visit).
    rng = Draws(randoms=[0.05], ints=[33], choices=[0])
    prices, _left = lines_price(
        [VISIT, LAB, EKG], terms=terms(), copay=0, deductible_left=0, coinsurance=0, underpay=True, rng=rng
    )
    # $110.00 x 0.967 = $106.37; the lab ($10) and the EKG ($19) are under $20 and never shaved.
    assert [(p.key, p.expected, p.allowed, p.paid) for p in prices] == [
        (1, 11000, 10637, 10637),
        (2, 1000, 1000, 1000),
        (3, 1900, 1900, 1900),
    ]
    assert rng.done()


def test_no_underpayment_when_the_chance_fails():
    rng = Draws(randoms=[0.1])
    prices, _left = lines_price(
        [VISIT], terms=terms(), copay=0, deductible_left=0, coinsurance=0, underpay=True, rng=rng
    )
    assert prices[0].allowed == 11000
    assert rng.done()


def test_the_same_seed_prices_the_same():
    def run(seed):
        return lines_price(
            [VISIT, LAB, EKG],
            terms=terms(underpayment_rate=1.0),
            copay=0,
            deductible_left=0,
            coinsurance=0,
            underpay=True,
            rng=random.Random(seed),  # noqa: S311 - test data
        )

    assert run(7) == run(7)
    assert [p.allowed for p in run(7)[0]] == [10681, 1000, 1900]


# --- the secondary payer --------------------------------------------------------------------------


SHARES = [("deductible", "1", 3000), ("coinsurance", "2", 1600)]


def test_a_supplement_pays_the_coinsurance_and_leaves_the_deductible_to_the_patient():
    assert secondary_payment(SHARES, terms=terms(), line=VISIT, primary_paid=6400) == (1600, 3000, 0)


@pytest.mark.parametrize(
    ("primary_paid", "expected"),
    [
        (6400, (4600, 0, 0)),  # its own allowed ($110) less the primary's payment covers all $46 owed
        (8000, (3000, 0, 1600)),  # $30 left under its allowed: the other $16 is contractual
        (12000, (0, 0, 4600)),  # the primary paid more than it would allow
    ],
)
def test_medicaid_as_secondary_pays_up_to_its_own_allowed(primary_paid, expected):
    medicaid = terms(pays_full_secondary=False)
    assert secondary_payment(SHARES, terms=medicaid, line=VISIT, primary_paid=primary_paid) == expected
