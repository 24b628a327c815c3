"""The denial risk model on a hand-built history: exact smoothed scores at every level, the reason in
words, the six-month window, and the backtest's counts."""

import datetime
from decimal import Decimal

import pandas as pd
import pytest

from denials.risk import (
    LineFeatures,
    RiskModel,
    backtest,
    diagnosis_group,
    empty_outcomes,
    modifiers_key,
    window,
)

ACME, BETA = 1, 2
NAMES = {ACME: "Acme Health", BETA: "Beta Care"}
DAY = datetime.date(2026, 6, 1)


def _rows(count, *, payer=ACME, code="97110", modifiers="", dx="M54", denied=0, carc="4", on=DAY):
    return [
        dict(
            payer_id=payer,
            procedure_code=code,
            modifiers=modifiers,
            diagnosis_group=dx,
            adjudicated_on=on,
            denied=i < denied,
            carc=carc if i < denied else "",
        )
        for i in range(count)
    ]


def _history():
    """Acme: 97110 without a modifier 10 lines, 4 denied (3 CARC 4, 1 CARC 50); 97110-GP 10 lines paid;
    99214 20 lines paid. 40 lines, 4 denied: the practice's rate is 10%."""
    rows = _rows(10, denied=3, carc="4")
    rows[3].update(denied=True, carc="50")
    rows += _rows(10, modifiers="GP")
    rows += _rows(20, code="99214", dx="E11")
    return pd.DataFrame(rows)


def _line(code="97110", modifiers="", dx="M54", number=1, payer=ACME):
    return LineFeatures(
        line_number=number, payer_id=payer, procedure_code=code, modifiers=modifiers, diagnosis_group=dx
    )


def _four(value: float) -> Decimal:
    return Decimal(str(value)).quantize(Decimal("0.0001"))


def test_it_smooths_each_level_towards_the_one_above():
    model = RiskModel(_history(), payer_names=NAMES)
    # practice 4/40 = 0.1; payer (4 + 5×0.1)/45 = 0.1; 97110 (4 + 0.5)/25 = 0.18;
    # no modifier (4 + 0.9)/15 = 0.32667; M54 (4 + 1.63333)/15 = 0.37556
    assert _four(model.line_score(_line())) == Decimal("0.3756")
    # GP: (0 + 0.9)/15 = 0.06, then (0 + 0.3)/15 = 0.02
    assert _four(model.line_score(_line(modifiers="GP"))) == Decimal("0.0200")
    # a diagnosis group never seen: stops at the modifier level's 0.32667 pulled by nothing (0 lines)
    assert _four(model.line_score(_line(dx="S93"))) == Decimal("0.3267")
    # an unknown payer: the practice's 10% all the way down
    assert _four(model.line_score(_line(payer=BETA))) == Decimal("0.1000")


def test_it_says_why_with_the_modifier_the_line_lacks():
    model = RiskModel(_history(), payer_names=NAMES)
    assert model.reason(_line()) == (
        "Acme Health denied 40% of 97110 without modifier GP in the last 6 months (4 of 10 lines), "
        "mostly CARC 4 (the modifier does not fit the procedure code, or a needed modifier is missing)."
    )
    assert model.reason(_line(modifiers="GP")) == (
        "Acme Health denied none of the 10 lines of 97110 with modifier GP in the last 6 months."
    )
    assert model.reason(_line(payer=BETA)) == (
        "Little history with Beta Care in the last 6 months: the practice's overall rate (10%) applies."
    )


def test_it_falls_back_to_the_procedure_then_the_payer_when_a_combination_is_rare():
    model = RiskModel(_history(), payer_names=NAMES)
    # 97110-59 never seen: the procedure's 20 lines speak (4 denied), mostly CARC 4
    assert model.reason(_line(modifiers="59")) == (
        "Acme Health denied 20% of 97110 in the last 6 months (4 of 20 lines), mostly CARC 4 "
        "(the modifier does not fit the procedure code, or a needed modifier is missing)."
    )
    assert model.reason(_line(code="20610")) == (
        "Little history for 20610: Acme Health denied 10% of its lines in the last 6 months (4 of 40 lines), "
        "mostly CARC 4 (the modifier does not fit the procedure code, or a needed modifier is missing)."
    )


def test_a_claim_is_denied_when_any_line_is():
    model = RiskModel(_history(), payer_names=NAMES)
    risk = model.claim_risk([_line(modifiers="GP", number=1), _line(number=2)])
    # 1 − (1 − 0.37556)(1 − 0.02) = 0.38804
    assert _four(risk.score) == Decimal("0.3880")
    assert [(line.line_number, _four(line.score)) for line in risk.lines] == [
        (2, Decimal("0.3756")),
        (1, Decimal("0.0200")),
    ]
    assert risk.reason.startswith("Line 2 (97110): Acme Health denied 40% of 97110 without modifier GP")


def test_no_history_scores_zero():
    model = RiskModel(empty_outcomes(), payer_names=NAMES)
    assert model.line_score(_line()) == 0.0
    assert model.reason(_line()) == (
        "Little history with Acme Health in the last 6 months: the practice's overall rate (0%) applies."
    )


def test_the_window_is_the_six_months_before_the_day():
    history = pd.DataFrame(
        _rows(1, on=DAY - datetime.timedelta(days=184), denied=1)  # too old
        + _rows(1, on=DAY - datetime.timedelta(days=183), denied=1)  # first day in
        + _rows(1, on=DAY - datetime.timedelta(days=1))  # last day in
        + _rows(1, on=DAY, denied=1)  # the day itself: not known yet
    )
    known = window(history, before=DAY)
    assert sorted(known["adjudicated_on"]) == [
        DAY - datetime.timedelta(days=183),
        DAY - datetime.timedelta(days=1),
    ]
    assert list(known["denied"]) == [True, False]


def test_the_backtest_trains_only_on_what_was_known_before_each_submission():
    later = DAY + datetime.timedelta(days=10)
    history = pd.concat([_history(), pd.DataFrame(_rows(30, code="11721", denied=30, carc="197", on=later))])
    claims = [
        (DAY + datetime.timedelta(days=1), [_line()], True),  # 0.3756: flagged, denied
        (DAY + datetime.timedelta(days=1), [_line(modifiers="GP")], False),  # 0.02: not flagged
        (DAY + datetime.timedelta(days=1), [_line(code="11721")], True),  # before the 11721 denials: 0.1
        (later + datetime.timedelta(days=1), [_line(code="11721")], True),  # after them: flagged
        (later + datetime.timedelta(days=1), [_line(code="99214", dx="E11")], False),
    ]
    result = backtest(history, claims, payer_names=NAMES, threshold=Decimal("0.30"))
    assert (result.claims, result.denied, result.flagged, result.true_positives) == (5, 3, 2, 2)
    assert result.precision == 1.0
    assert result.recall == pytest.approx(2 / 3)


def test_features_of_a_line():
    assert modifiers_key(["GP", "59", ""]) == "59 GP"
    assert modifiers_key([]) == ""
    assert diagnosis_group(["E11.9", "M54.50"], [2, 1]) == "M54"
    assert diagnosis_group(["E11.9"], [3]) == ""
