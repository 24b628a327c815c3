"""Billing secondaries in a batch (``claims_bill_secondary``): what is billed, what is refused and why."""

import datetime
from decimal import Decimal

from django.db import connection
from django.test.utils import CaptureQueriesContext

from claims.ledger import ledger_check
from claims.models import ClaimStatus, ClaimStatusChange, Transaction
from claims.services import claims_bill_secondary
from rcm.models import AuditEvent
from tests.claims.era_builder import era
from tests.claims.test_era_posting import post, submitted
from tests.rcm.factories import CoverageFactory, PatientFactory

D = Decimal
WHEN = datetime.datetime(2026, 4, 6, 11, 0, tzinfo=datetime.UTC)


def forwarded(billing, patient=None, trace="EFT1", control="000000101"):
    """A claim the primary paid with $30 coinsurance left, waiting for the patient's secondary."""
    patient = patient or billing.patient
    coverage = (
        billing.coverage
        if patient == billing.patient
        else CoverageFactory(
            practice=billing.practice,
            patient=patient,
            payer=billing.payer,
            effective_date=datetime.date(2025, 1, 1),
        )
    )
    claim = submitted(billing, coverage=coverage)
    result = post(
        billing,
        era(
            trace=trace,
            control=control,
            claims=[
                dict(
                    pcn=claim.patient_control_number,
                    charge="203",
                    paid="108",
                    pr="30",
                    services=[
                        dict(
                            code="99214", charge="185", paid="90", cas=[("CO", "45", "65"), ("PR", "2", "30")]
                        ),
                        dict(code="36415", charge="18", paid="18"),
                    ],
                )
            ],
        ),
    )
    assert result.applied, result.file.error
    claim.refresh_from_db()
    return claim


def test_a_batch_bills_those_it_can_and_names_why_the_others_were_not(billing, biller):
    CoverageFactory(
        practice=billing.practice,
        patient=billing.patient,
        payer=billing.medicare,
        priority=2,
        effective_date=datetime.date(2025, 1, 1),
    )
    with_secondary = forwarded(billing)
    # The other patient's secondary coverage is found to have ended before the visit, after the primary paid.
    without = PatientFactory(practice=billing.practice)
    ended = CoverageFactory(
        practice=billing.practice,
        patient=without,
        payer=billing.medicare,
        priority=2,
        effective_date=datetime.date(2025, 1, 1),
    )
    no_secondary = forwarded(billing, patient=without, trace="EFT2", control="000000102")
    ended.end_date = datetime.date(2026, 1, 31)
    ended.save()
    draft = billing.claim()
    assert (with_secondary.status, with_secondary.secondary_pending) == (ClaimStatus.FORWARDED, True)

    billed, refused = claims_bill_secondary(
        practice=billing.practice,
        user=biller,
        now=WHEN,
        claim_ids=[with_secondary.pk, no_secondary.pk, draft.pk, 999_999],
    )

    assert billed == [with_secondary.pk]
    assert refused == {
        no_secondary.pk: f"Claim {no_secondary.patient_control_number}: "
        "the patient has no secondary coverage active on 03/02/2026; bill the patient instead.",
        draft.pk: f"Claim {draft.patient_control_number} is not waiting for secondary billing.",
        999_999: "Claim id 999999 is not a claim of this practice.",
    }
    with_secondary.refresh_from_db()
    assert (with_secondary.status, with_secondary.payer, with_secondary.secondary_pending) == (
        ClaimStatus.READY,
        billing.medicare,
        False,
    )
    assert (with_secondary.insurance_balance, with_secondary.patient_balance) == (D("30.00"), D("0.00"))
    reversal = Transaction.objects.get(claim=with_secondary, kind="reversal")
    assert (reversal.amount, reversal.posted_at, reversal.reverses.kind) == (
        D("30.00"),
        WHEN,
        "transfer_to_patient",
    )
    change = ClaimStatusChange.objects.filter(claim=with_secondary).latest("pk")
    assert (change.from_status, change.to_status, change.at, change.by, change.reason) == (
        "forwarded",
        "ready",
        WHEN,
        biller,
        "billing the secondary: Medicare Part B",
    )
    event = AuditEvent.objects.filter(object_id=str(with_secondary.pk), action="update").latest("pk")
    assert event.changes == {
        "coverage_id": [billing.coverage.pk, with_secondary.coverage_id],
        "payer_id": [billing.payer.pk, billing.medicare.pk],
    }
    # The refused claims are as they were.
    no_secondary.refresh_from_db()
    assert (no_secondary.status, no_secondary.secondary_pending, no_secondary.patient_balance) == (
        ClaimStatus.FORWARDED,
        True,
        D("30.00"),
    )
    assert ledger_check(practice=billing.practice) == []


def test_the_batch_costs_the_same_queries_for_one_claim_or_three(billing, biller):
    patients = [
        billing.patient,
        PatientFactory(practice=billing.practice),
        PatientFactory(practice=billing.practice),
    ]
    claims = []
    for number, patient in enumerate(patients):
        CoverageFactory(
            practice=billing.practice,
            patient=patient,
            payer=billing.medicare,
            priority=2,
            effective_date=datetime.date(2025, 1, 1),
        )
        claims.append(forwarded(billing, patient=patient, trace=f"EFT{number}", control=f"00000011{number}"))
    with CaptureQueriesContext(connection) as one:
        claims_bill_secondary(practice=billing.practice, claim_ids=[claims[0].pk], user=biller)
    with CaptureQueriesContext(connection) as two:
        billed, _refused = claims_bill_secondary(
            practice=billing.practice, claim_ids=[c.pk for c in claims[1:]], user=biller
        )
    assert billed == [c.pk for c in claims[1:]]
    # One "already reversed?" check per reversed transfer is the only part that grows.
    assert len(two) == len(one) + 1


def test_the_claim_page_bills_the_secondary_for_a_biller(billing, biller, practice):
    from tests.conftest import login

    CoverageFactory(
        practice=billing.practice,
        patient=billing.patient,
        payer=billing.medicare,
        priority=2,
        effective_date=datetime.date(2025, 1, 1),
    )
    claim = forwarded(billing)
    client = login(biller)
    page = client.get(f"/claims/{claim.pk}/")
    assert b"Bill secondary" in page.content
    response = client.post(f"/claims/{claim.pk}/bill-secondary/", follow=True)
    assert f"Claim {claim.patient_control_number} is ready for Medicare Part B".encode() in response.content
    claim.refresh_from_db()
    assert (claim.status, claim.payer) == (ClaimStatus.READY, billing.medicare)
    assert b"Bill secondary" not in response.content
    # Again: refused with the reason, nothing changes.
    response = client.post(f"/claims/{claim.pk}/bill-secondary/", follow=True)
    assert (
        f"Claim {claim.patient_control_number} is not waiting for secondary billing.".encode()
        in response.content
    )


def test_the_collections_role_cannot_bill_and_another_practice_gets_404(billing, collections_user, outsider):
    from tests.conftest import login

    claim = forwarded(billing)
    assert login(collections_user).post(f"/claims/{claim.pk}/bill-secondary/").status_code == 403
    assert login(outsider).post(f"/claims/{claim.pk}/bill-secondary/").status_code == 404


def test_the_api_bills_the_secondary_and_refuses_in_the_error_format(billing, biller):
    from tests.api import api

    CoverageFactory(
        practice=billing.practice,
        patient=billing.patient,
        payer=billing.medicare,
        priority=2,
        effective_date=datetime.date(2025, 1, 1),
    )
    claim = forwarded(billing)
    response = api(biller).post(f"/api/claims/{claim.pk}/bill-secondary/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["payer"]["id"], body["balances"]["insurance_balance"]) == (
        "ready",
        billing.medicare.pk,
        "30.00",
    )
    again = api(biller).post(f"/api/claims/{claim.pk}/bill-secondary/")
    assert again.status_code == 400
    assert again.json()["error"]["message"] == (
        f"Claim {claim.patient_control_number} is not waiting for secondary billing."
    )
