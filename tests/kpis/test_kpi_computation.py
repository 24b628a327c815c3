"""Every KPI of March 2026 on the hand-worked practice (tests/kpis/dataset.py), worked out by hand."""

import datetime
from decimal import Decimal

import pytest

from kpis.definitions import COMPUTED, DEFINITIONS
from kpis.models import KpiSnapshot
from kpis.selectors import Scope, kpi_values
from kpis.services import kpi_snapshots_compute
from tests.kpis.dataset import MARCH_END, MARCH_START, HandWorked

D = Decimal

# Each value below is worked out from the table in tests/kpis/dataset.py.
EXPECTED_MARCH = {
    # first submitted in March: C1, C2, C3, C4, C7; clean: C1, C2, C7 (C3 edited, C4 rejected) -> 3/5
    "clean_claim_rate": D("60.0"),
    # first adjudicated in March: C1 paid, C2 denied, C3 partly paid with a denial that day, C7 paid -> 2/4
    "initial_denial_rate": D("50.0"),
    # (200 + 300) / (100 + 200 + 300 + 80) = 500 / 680 = 73.53%
    "initial_denial_rate_dollars": D("73.5"),
    # C1 and C7 paid with no denial -> 2/4
    "first_pass_resolution_rate": D("50.0"),
    # C2 appealed -> paid: 1/1
    "appeal_overturn_rate": D("100.0"),
    # entered in March: C1 1 day, C2 3, C3 0, C4 1, C7 0, C8 0 -> 5/6 = 0.83
    "charge_lag": D("0.8"),
    # first insurance payment in March: C1 17 days, C2 23, C3 12, C7 10 -> 62/4
    "days_to_pay": D("15.5"),
    # payments: C1 60+10, C2 150, C3 120, C7 80+20, C8 25, C6 reversal -50 = 415;
    # charges (by date of service) 100+200+300+400+80+50 = 1130; contractual 30+50+80 = 160
    "net_collection_rate": D("42.8"),  # 415 / 970
    "gross_collection_rate": D("36.7"),  # 415 / 1130
    # patient payments 10+20+25 = 55 / (transfer 10 + self-pay charge 50) = 91.67%
    "patient_collection_rate": D("91.7"),
    # write-off 100 on C3 (which has a denial) / 415
    "denial_write_off_pct": D("24.1"),
    # C1's line: expected allowed 75 - allowed 70
    "underpayment_identified": D("5.00"),
    # ...and recovered on 03-29 (see tests/kpis/dataset.py)
    "underpayment_recovered": D("5.00"),
    # balances on 03-31: C4 400 (age 26), C5 400 (age 80), C6 600 (age 150), C7 -20, C8 25 (age 19)
    "ar_total": D("1425.00"),
    "credit_balances": D("20.00"),
    "ar_0_30": D("425.00"),
    "ar_31_60": D("0.00"),
    "ar_61_90": D("400.00"),
    "ar_91_120": D("0.00"),
    "ar_over_120": D("600.00"),
    "ar_over_90_pct": D("42.1"),  # 600 / 1425
    "ar_over_120_pct": D("42.1"),
    # charges dated 01-01..03-31: 1130 + C5 500 = 1630; 1425 x 90 / 1630 = 78.68
    "days_in_ar": D("78.7"),
    # plans created in March: P1 completed, P2 defaulted, P3 active, P5 cancelled after defaulting (a
    # default); P4 cancelled without defaulting is left out; P6 was created in February -> 1/4 and 2/4
    "payment_plan_completion_rate": D("25.0"),
    "payment_plan_default_rate": D("50.0"),
    # March's entered cost 12.45 / March's cash 415 (the collection rates' payments minus refunds) = 3.0%
    "cost_to_collect": D("3.0"),
}


@pytest.fixture
def hand_worked(practice):
    return HandWorked(practice)


def test_every_computed_kpi_is_hand_worked():
    assert sorted(EXPECTED_MARCH) == sorted(d.slug for d in COMPUTED)


def test_it_computes_every_kpi_of_march_as_worked_by_hand(hand_worked, practice):
    kpi_snapshots_compute(practice=practice, start=datetime.date(2026, 1, 1), end=MARCH_END)
    values = kpi_values(practice, start=MARCH_START, end=MARCH_END)
    assert {slug: values[slug].value for slug in EXPECTED_MARCH} == EXPECTED_MARCH


def test_every_kpi_is_computed_and_a_month_without_its_cost_has_no_number(hand_worked, practice):
    assert [d.slug for d in DEFINITIONS if d.needs] == []
    kpi_snapshots_compute(practice=practice, start=datetime.date(2026, 2, 1), end=MARCH_END)
    february = kpi_values(practice, start=datetime.date(2026, 2, 1), end=datetime.date(2026, 2, 28))
    cost = february["cost_to_collect"]
    # February's cash: C5 100 + C6 50 (reversed only on 03-02); no cost entered for February
    assert (cost.value, cost.band, cost.denominator) == (None, "", D("150.00"))
    assert cost.missing == "enter the month's cost: Feb 2026"
    # The snapshots hold the cash only: the cost is read as entered.
    stored = KpiSnapshot.objects.filter(kpi="cost_to_collect", dimension="practice")
    assert set(stored.values_list("numerator", flat=True)) == {D("0")}


def test_a_reversal_crossing_the_month_counts_in_the_month_it_is_dated(hand_worked, practice):
    kpi_snapshots_compute(practice=practice, start=datetime.date(2026, 2, 1), end=MARCH_END)
    february = kpi_values(practice, start=datetime.date(2026, 2, 1), end=datetime.date(2026, 2, 28))
    # February: C5 paid 100 and C6 paid 50 (reversed on 03-02); no charges dated in February
    assert february["gross_collection_rate"].numerator == D("150.00")
    assert february["gross_collection_rate"].value is None
    # C6 owed 550 on 02-28 and 600 again on 03-31; C5 owed 400 on both days
    assert february["ar_total"].value == D("950.00")
    march = kpi_values(practice, start=MARCH_START, end=MARCH_END)
    assert march["gross_collection_rate"].numerator == D("415.00")


def test_by_payer_each_payer_counts_its_own_claims(hand_worked, practice):
    kpi_snapshots_compute(practice=practice, start=datetime.date(2026, 1, 1), end=MARCH_END)
    acme = kpi_values(
        practice, start=MARCH_START, end=MARCH_END, scope=Scope("payer", str(hand_worked.acme.pk))
    )
    beta = kpi_values(
        practice, start=MARCH_START, end=MARCH_END, scope=Scope("payer", str(hand_worked.beta.pk))
    )
    self_pay = kpi_values(practice, start=MARCH_START, end=MARCH_END, scope=Scope("payer", "self-pay"))
    # Acme: C1 paid, C2 denied, C7 paid; Beta: C3 partly paid with a denial
    assert (acme["initial_denial_rate"].numerator, acme["initial_denial_rate"].denominator) == (1, 3)
    assert (beta["initial_denial_rate"].numerator, beta["initial_denial_rate"].denominator) == (1, 1)
    # A/R: Acme C5 400 + C6 600 (C7 in credit); Beta C4 400; self-pay C8 25
    assert [acme["ar_total"].value, beta["ar_total"].value, self_pay["ar_total"].value] == [
        D("1000.00"),
        D("400.00"),
        D("25.00"),
    ]
    assert acme["credit_balances"].value == D("20.00")


def test_plan_kpis_count_each_plan_on_its_first_claims_payer_and_cohort_day(hand_worked, practice):
    kpi_snapshots_compute(practice=practice, start=datetime.date(2026, 2, 1), end=MARCH_END)

    def plans(scope=None, start=MARCH_START, end=MARCH_END):
        values = kpi_values(practice, start=start, end=end, scope=scope or Scope())
        completion, default = values["payment_plan_completion_rate"], values["payment_plan_default_rate"]
        return (completion.numerator, default.numerator, completion.denominator)

    # Acme: P1 on C1 (completed), P3 on C2 (active), P5 on C7 (defaulted, then cancelled); self-pay: P2 on
    # C8 (defaulted); Beta: only P4 on C3, cancelled without defaulting, left out (P3's C4 is not its first)
    assert plans(Scope("payer", str(hand_worked.acme.pk))) == (1, 1, 3)
    assert plans(Scope("payer", "self-pay")) == (0, 1, 1)
    assert plans(Scope("payer", str(hand_worked.beta.pk))) == (0, 0, 0)
    # by the day each plan was created: P6 in February (completed on 03-01) is February's; March 10-25
    # has P1 and P5 only
    assert plans(start=datetime.date(2026, 2, 1), end=datetime.date(2026, 2, 28)) == (1, 0, 1)
    assert plans(start=datetime.date(2026, 3, 10), end=datetime.date(2026, 3, 25)) == (1, 1, 2)


def test_the_target_band_colours_each_value(hand_worked, practice):
    kpi_snapshots_compute(practice=practice, start=datetime.date(2026, 1, 1), end=MARCH_END)
    values = kpi_values(practice, start=MARCH_START, end=MARCH_END)
    assert {
        slug: values[slug].band for slug in ("clean_claim_rate", "charge_lag", "gross_collection_rate")
    } == {
        "clean_claim_rate": "bad",  # 60 < 90
        "charge_lag": "ok",  # 0.8 <= 2
        "gross_collection_rate": "",  # a trend, no target
    }


def test_a_practice_target_replaces_the_default(hand_worked, practice):
    from kpis.models import KpiTarget

    KpiTarget.objects.create(practice=practice, kpi="clean_claim_rate", good=D("60"), warn=D("50"))
    kpi_snapshots_compute(practice=practice, start=MARCH_START, end=MARCH_END)
    values = kpi_values(practice, start=MARCH_START, end=MARCH_END)
    assert (values["clean_claim_rate"].band, values["clean_claim_rate"].good) == ("ok", D("60"))


def test_a_claim_measures_drill_down_narrowed_in_sql_lists_what_its_facts_say(hand_worked, practice):
    """The drill-down of a claim measure filters its facts in SQL (scope, part): the same claims and
    amounts as reading every fact and matching each in Python, in every scope the data has."""
    from decimal import Decimal

    from kpis.measures import CLAIM_MEASURES, claim_facts_query, dimension_values, flow_facts
    from kpis.selectors import kpi_claims

    start, end = datetime.date(2026, 1, 1), MARCH_END
    scopes, checked = {Scope()}, 0
    for slug in CLAIM_MEASURES:
        for fact in flow_facts(practice, slug, start, end):
            scopes.update(
                Scope(dimension, value)
                for dimension, value in dimension_values(
                    fact["dim_payer"], fact["dim_provider"], fact["dim_pos"]
                )
                if dimension != "practice"
            )
    scopes.add(Scope("payer", "999999"))  # a payer with no claims: nothing listed
    for slug in CLAIM_MEASURES:
        if claim_facts_query(practice, slug, start, end) is None:
            continue
        for scope in scopes:
            for part in ("numerator", "denominator"):
                expected: dict[int, Decimal] = {}
                for fact in flow_facts(practice, slug, start, end):
                    if scope.matches(fact) and fact[part]:
                        expected[fact["claim_id"]] = expected.get(fact["claim_id"], Decimal(0)) + fact[part]
                expected = {claim_id: amount for claim_id, amount in expected.items() if amount}
                drilldown = kpi_claims(practice, slug, start=start, end=end, scope=scope, part=part)
                assert drilldown.amounts == expected, (slug, scope, part)
                checked += bool(expected)
    assert checked >= 20  # the data gives most measures claims in most scopes
