"""The CARC/RARC reference: exact words, unknown codes flagged (never dropped), deactivated codes still known,
the denial rule, and the root-cause map of the design document."""

import datetime

import pytest

from denials.reference import (
    CARC,
    NOT_DENIAL,
    ROOT_CAUSES,
    adjustment_words,
    carc_words,
    group_words,
    is_denial,
    rarc_words,
    root_cause,
)


@pytest.mark.parametrize(
    ("code", "words"),
    [
        ("1", "deductible"),
        ("2", "coinsurance"),
        ("3", "copay"),
        ("45", "charge exceeds the fee schedule or contracted amount"),
        ("50", "the payer does not consider the service medically necessary"),
        ("97", "included in the payment for another service (bundled)"),
        ("197", "prior authorization or notification required and not on file"),
    ],
)
def test_it_gives_our_words_for_a_carc(code, words):
    assert carc_words(code) == words


def test_it_gives_our_words_for_a_rarc():
    assert rarc_words("N130") == "consult plan benefit documents or guidelines for coverage information"
    assert rarc_words("N54") == "the claim does not match the services that were authorized"


def test_an_adjustment_reads_group_reason_words_and_group_words():
    assert adjustment_words("CO", "45") == (
        "CO-45: charge exceeds the fee schedule or contracted amount "
        "(contractual obligation (the practice absorbs it))"
    )
    assert adjustment_words("PR", "2") == "PR-2: coinsurance (patient responsibility)"
    assert (
        adjustment_words("OA", "23")
        == "OA-23: reduced by what an earlier payer already decided (other adjustment)"
    )


@pytest.mark.parametrize(
    ("group", "words"),
    [
        ("CO", "contractual obligation (the practice absorbs it)"),
        ("PR", "patient responsibility"),
        ("OA", "other adjustment"),
        ("PI", "payer-initiated reduction"),
        ("CR", "correction or reversal"),
        ("ZZ", "group code ZZ (not in our reference)"),
    ],
)
def test_group_codes_in_words(group, words):
    assert group_words(group) == words


def test_an_unknown_code_is_flagged_not_dropped():
    assert "999" not in CARC
    assert carc_words("999") == "CARC 999 (not in our reference)"
    assert rarc_words("N9999") == "RARC N9999 (not in our reference)"
    assert adjustment_words("CO", "999") == (
        "CO-999: not in our reference (contractual obligation (the practice absorbs it))"
    )
    assert (
        adjustment_words("ZZ", "999") == "ZZ-999: not in our reference (group code ZZ (not in our reference))"
    )


def test_a_deactivated_code_stays_known_with_its_stop_date():
    assert (CARC["42"].deactivated, CARC["42"].deactivated_on) == (True, datetime.date(2007, 6, 1))
    assert carc_words("42") == (
        "charges above the fee schedule or maximum allowed (replaced by 45) (code deactivated 06/01/2007)"
    )
    assert carc_words("A2") == "contractual adjustment (replaced by 45) (code deactivated 01/01/2008)"
    assert adjustment_words("CO", "A2") == (
        "CO-A2: contractual adjustment (replaced by 45) (code deactivated 01/01/2008) "
        "(contractual obligation (the practice absorbs it))"
    )


def test_a_deactivated_code_without_a_known_stop_date_says_so():
    assert (CARC["B5"].deactivated, CARC["B5"].deactivated_on) == (True, None)
    assert (
        carc_words("B5") == "the plan's coverage guidelines were not met or were exceeded (deactivated code)"
    )


def test_active_codes_are_not_marked_deactivated():
    deactivated = sorted(code for code, entry in CARC.items() if entry.deactivated)
    assert deactivated == ["42", "52", "57", "62", "A2", "B5"]
    assert all(entry.deactivated_on is None for entry in CARC.values() if not entry.deactivated)


@pytest.mark.parametrize(
    ("group", "reason", "denial"),
    [
        ("CO", "45", False),  # contractual reduction
        ("CO", "253", False),  # sequestration
        ("CO", "42", False),  # the deactivated contractual code still reads as contractual
        ("CO", "A2", False),
        ("CO", "50", True),  # not medically necessary
        ("CO", "197", True),  # no prior authorization
        ("CO", "97", True),  # bundled
        ("PI", "50", True),
        ("OA", "18", True),  # duplicate
        ("OA", "23", False),  # an earlier payer's decision
        ("PR", "1", False),  # deductible: the patient owes it
        ("PR", "2", False),
        ("PR", "3", False),
        ("PR", "50", False),  # shifted to the patient, not refused by the payer
        ("CR", "50", False),  # a correction
        ("CO", "999", True),  # an unknown CO reason is worked as a denial, not silently absorbed
    ],
)
def test_is_denial(group, reason, denial):
    assert is_denial(group, reason) is denial


def test_every_contractual_code_of_the_map_is_not_a_denial():
    contractual = next(cause for cause in ROOT_CAUSES if cause.key == "contractual")
    assert contractual.codes == {"45", "253"}
    assert contractual.codes <= NOT_DENIAL


def test_the_root_cause_map_is_the_design_table():
    expected = {
        "eligibility": {"26", "27", "31", "32", "33", "140", "177", "200"},
        "authorization": {"39", "197", "198", "243", "284"},
        "coding": {"4", "5", "6", "7", "8", "9", "10", "11", "12", "146", "181", "182", "189"},
        "medical_necessity": {"50", "55", "56", "96", "119", "151", "167", "204"},
        "documentation": {"16", "163", "226", "227", "250", "251", "252"},
        "timely_filing": {"29"},
        "duplicate": {"18"},
        "bundling": {"97", "231", "234", "236"},
        "coordination_of_benefits": {"19", "20", "21", "22", "23", "109", "276"},
        "enrollment": {"170", "183", "184", "185", "206", "207", "208", "242"},
        "contractual": {"45", "253"},
    }
    assert {cause.key: set(cause.codes) for cause in ROOT_CAUSES} == expected


def test_each_code_of_the_map_is_in_the_reference_with_its_category():
    for cause in ROOT_CAUSES:
        for code in cause.codes:
            assert CARC[code].category == cause.key, code
    assert (CARC["197"].category, root_cause("197").owner) == ("authorization", "front desk / scheduling")
    assert (CARC["1"].category, root_cause("1")) == ("", None)


def test_the_words_fit_a_ledger_note():
    # The demo writes "CARC {code}: {words}; not billable to the patient" into a 255-character note.
    longest = max(len(carc_words(code)) for code in CARC)
    assert longest <= 200
