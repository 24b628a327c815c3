"""Each scrubber rule fires exactly when it should, with its message; a clean claim moves to ready."""

import datetime
from decimal import Decimal

import pytest

from claims.models import Claim, ClaimStatus, ScrubRuleSetting, ScrubStatus
from claims.scrubber.engine import claims_for_scrub, claims_scrub, scrub_claims
from claims.services import LineInput
from claims.state_machine import claim_transition
from tests.claims.conftest import DOS
from tests.rcm.factories import CoverageFactory, PatientFactory

TODAY = datetime.date(2026, 3, 20)


def findings_of(claim, today=TODAY):
    loaded = list(claims_for_scrub(Claim.objects.filter(pk=claim.pk)))
    return [(f.rule, f.severity, f.message) for f in scrub_claims(loaded, today=today)[claim.pk]]


def rules_of(claim, today=TODAY):
    return sorted({rule for rule, _s, _m in findings_of(claim, today)})


def line(code="99214", charge="185.00", day=DOS, **kwargs):
    return LineInput(procedure_code=code, charge=Decimal(charge), service_date_from=day, **kwargs)


def test_a_complete_claim_is_clean(billing):
    assert findings_of(billing.claim()) == []


def test_required_fields_names_what_is_missing(billing):
    billing.practice.postal_code = "62701"
    billing.practice.tax_id = ""
    billing.practice.save()
    claim = billing.claim()
    assert findings_of(claim) == [
        (
            "REQUIRED_FIELDS",
            "error",
            "Missing: practice tax ID, practice ZIP+4 (the billing provider's ZIP must have 9 digits).",
        )
    ]


def test_subscriber_details_required_for_a_dependent(billing):
    child = PatientFactory(practice=billing.practice, date_of_birth=datetime.date(2015, 1, 1))
    coverage = CoverageFactory(
        practice=billing.practice,
        patient=child,
        payer=billing.payer,
        relationship="19",
        subscriber_first_name="Ana",
        subscriber_last_name="Garcia",
        subscriber_date_of_birth=None,
        effective_date=datetime.date(2025, 1, 1),
    )
    claim = billing.claim(coverage=coverage)
    assert findings_of(claim) == [("REQUIRED_FIELDS", "error", "Missing: subscriber date of birth.")]


def test_modifier_rules(billing):
    claim = billing.claim(
        lines=[
            line("99214", modifiers=["59"]),
            line("20610", charge="120.00", modifiers=["59", "XS"], diagnosis_pointers=[1]),
            line("36415", charge="18.00", modifiers=["25"]),
        ],
        prior_authorization="PA1",
    )
    messages = [m for rule, _s, m in findings_of(claim) if rule == "MODIFIER_RULES"]
    assert messages == [
        "Line 1: modifier 59 is not allowed on E/M code 99214.",
        "Line 2 has 59 together with XS: use one or the other.",
        "Line 3: modifier 25 belongs on an E/M code, not 36415.",
    ]


def test_units_above_mue(billing):
    claim = billing.claim(lines=[line("36415", charge="54.00", units=3)])
    assert findings_of(claim) == [("MUE_UNITS", "error", "Line 1: 3 units of 36415 exceed the MUE of 2.")]


def test_ncci_indicator_0_is_never_allowed_and_indicator_1_needs_a_modifier(billing):
    never = billing.claim(
        lines=[line("93000", charge="60.00"), line("93010", charge="20.00", modifiers=["59"])]
    )
    assert findings_of(never) == [
        (
            "NCCI_PTP",
            "error",
            "Lines 1 and 2: 93010 is never paid with 93000 on the same day (NCCI, modifier indicator 0).",
        )
    ]
    bundled = billing.claim(
        lines=[line("17000", charge="95.00"), line("11102", charge="140.00")], diagnosis_codes=["L57.0"]
    )
    assert [r for r, _s, _m in findings_of(bundled)] == [
        "NCCI_PTP",
        "NCCI_PTP",
    ]  # both directions are in the table
    claim_transition(claim=bundled, to_status="voided")  # re-entered below with the modifier
    allowed = billing.claim(
        lines=[line("17000", charge="95.00"), line("11102", charge="140.00", modifiers=["XS"])],
        diagnosis_codes=["L57.1"],
    )
    assert findings_of(allowed) == []


def test_deleted_ncci_edit_does_not_fire(billing):
    claim = billing.claim(lines=[line("99214"), line("36415", charge="18.00")])
    assert "NCCI_PTP" not in rules_of(claim)


def test_coverage_not_active_on_the_date_of_service(billing):
    billing.coverage.end_date = datetime.date(2026, 2, 28)
    billing.coverage.save()
    assert findings_of(billing.claim()) == [
        (
            "COVERAGE_INACTIVE",
            "error",
            "Line 1: the coverage (01/01/2025 to 02/28/2026) is not active on 03/02/2026.",
        )
    ]


def test_timely_filing_passed_and_close(billing):
    billing.contract.timely_filing_days = 20
    billing.contract.save()
    claim = billing.claim()
    assert findings_of(claim, today=datetime.date(2026, 3, 10)) == [
        ("TIMELY_FILING_SOON", "warning", "The filing deadline is 03/22/2026 (12 days left).")
    ]
    assert findings_of(claim, today=datetime.date(2026, 3, 23)) == [
        ("TIMELY_FILING_PASSED", "error", "The payer's timely filing limit (20 days) passed on 03/22/2026.")
    ]


def test_a_claim_first_sent_in_time_keeps_its_timely_filing(billing):
    from django.utils import timezone

    billing.contract.timely_filing_days = 20
    billing.contract.save()
    claim = billing.claim()
    Claim.objects.filter(pk=claim.pk).update(
        first_submitted_at=timezone.make_aware(datetime.datetime(2026, 3, 10, 9, 0))
    )
    assert findings_of(claim, today=datetime.date(2026, 6, 1)) == []


def test_prior_authorization_required_by_contract(billing):
    claim = billing.claim(lines=[line("20610", charge="120.00")], diagnosis_codes=["M17.11"])
    assert findings_of(claim) == [
        ("PRIOR_AUTH_MISSING", "error", "Line 1: 20610 needs prior authorization under this contract.")
    ]
    claim_transition(claim=claim, to_status="voided")
    with_auth = billing.claim(
        lines=[line("20610", charge="120.00")], diagnosis_codes=["M17.12"], prior_authorization="AUTH-778"
    )
    assert findings_of(with_auth) == []


def test_age_and_sex_conflicts(billing):
    claim = billing.claim(diagnosis_codes=["N40.0", "Z00.121"])
    assert findings_of(claim) == [
        (
            "AGE_SEX_CONFLICT",
            "error",
            "N40.0 (benign prostatic hyperplasia) is for male patients; this patient is recorded as female.",
        ),
        (
            "AGE_SEX_CONFLICT",
            "error",
            "Z00.121 (routine child health examination) applies to ages 0–17; "
            "the patient was 57 on the date of service.",
        ),
    ]


def test_duplicate_claim(billing):
    first = billing.claim()
    second = billing.claim()
    assert findings_of(second) == [
        (
            "DUPLICATE_CLAIM",
            "error",
            f"Line 1 (99214 on 2026-03-02) is already billed on claim {first.patient_control_number}.",
        )
    ]
    other_modifier = billing.claim(lines=[line("99214", modifiers=["25"])])
    assert "DUPLICATE_CLAIM" not in rules_of(other_modifier)


def test_npi_check_digit_and_zero_charge_and_bad_codes_entered_before_validation(billing):
    billing.doctor.npi = "1234567890"
    billing.doctor.save()
    claim = billing.claim()
    Claim.objects.filter(pk=claim.pk).update(diagnosis_codes=["E11", "I10"])
    claim.lines.update(charge=Decimal("0.00"), diagnosis_pointers=[3])
    assert rules_of(claim) == [
        "CHARGE_NOT_POSITIVE",
        "DIAGNOSIS_POINTERS",
        "ICD10_INVALID",
        "NPI_CHECK_DIGIT",
    ]


def test_a_rule_can_be_turned_off_per_payer(billing):
    claim = billing.claim(lines=[line("36415", charge="54.00", units=3)])
    ScrubRuleSetting.objects.create(
        practice=billing.practice, rule_code="MUE_UNITS", payer=billing.payer, enabled=False
    )
    assert findings_of(claim) == []
    ScrubRuleSetting.objects.create(
        practice=billing.practice, rule_code="MUE_UNITS", payer=None, enabled=True
    )
    assert findings_of(claim) == []  # the payer's own setting wins over the practice-wide one


def test_scrub_stores_results_and_moves_clean_drafts_to_ready(billing, biller):
    clean = billing.claim()
    bad = billing.claim(lines=[line("36415", charge="54.00", units=3)])
    counts = claims_scrub(queryset=Claim.objects.filter(pk__in=[clean.pk, bad.pk]), user=biller, today=TODAY)
    assert counts == {ScrubStatus.CLEAN: 1, ScrubStatus.WARNINGS: 0, ScrubStatus.ERRORS: 1}
    clean.refresh_from_db()
    bad.refresh_from_db()
    assert (clean.status, clean.scrub_status, clean.scrub_findings) == (ClaimStatus.READY, "clean", [])
    assert (bad.status, bad.scrub_status) == (ClaimStatus.DRAFT, "errors")
    assert bad.scrub_findings[0]["rule"] == "MUE_UNITS"
    assert bad.scrub_findings[0]["hint"].startswith("Check the units")
    assert clean.status_history.get().reason == "scrubber: clean"


@pytest.mark.parametrize("claims", [1, 12])
def test_scrubbing_uses_a_fixed_number_of_queries(billing, django_assert_num_queries, claims):
    for _ in range(claims):
        patient = PatientFactory(practice=billing.practice)
        billing.claim(
            coverage=CoverageFactory(
                practice=billing.practice,
                patient=patient,
                payer=billing.payer,
                effective_date=datetime.date(2025, 1, 1),
            )
        )
    loaded = list(claims_for_scrub(Claim.objects.all()))
    with django_assert_num_queries(5):  # contracts, NCCI, MUE, settings, duplicates
        scrub_claims(loaded, today=TODAY)
