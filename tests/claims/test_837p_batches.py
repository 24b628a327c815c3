"""Batches of varied claims build as 837P and validate with pyx12 with zero findings."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError

from claims.edi.reader import parse
from claims.edi.validation import validate_x12
from claims.ledger import Entry, ledger_post
from claims.models import BatchClaim, Claim, ClaimStatus, SubmissionBatch
from claims.services import LineInput
from claims.state_machine import claim_transition
from claims.submission.batches import claims_submit
from tests.claims.conftest import DOS
from tests.rcm.factories import CoverageFactory, PatientFactory


def ready(claim):
    claim_transition(claim=claim, to_status="ready")
    return claim


def segments(content, segment_id):
    (interchange,) = parse(content)
    (ts,) = list(interchange.transactions())
    return [str(s) for s in ts.segments if s.id == segment_id]


def test_a_batch_of_varied_claims_is_pyx12_clean(billing, biller):
    practice = billing.practice
    # 1. plain claim, patient is the subscriber, rendering provider differs from the billing group
    plain = billing.claim()
    # 2. a child on a parent's plan, two lines with a date range, modifiers and prior auth
    child = PatientFactory(
        practice=practice,
        first_name="Mia",
        last_name="O*Brien",
        date_of_birth=datetime.date(2016, 7, 1),
        sex="F",
    )
    child_coverage = CoverageFactory(
        practice=practice,
        patient=child,
        payer=billing.payer,
        relationship="19",
        subscriber_first_name="Sean",
        subscriber_last_name="O'Brien",
        subscriber_date_of_birth=datetime.date(1985, 2, 2),
        subscriber_sex="M",
        member_id="XJH999",
        effective_date=datetime.date(2025, 1, 1),
    )
    dependent = billing.claim(
        coverage=child_coverage,
        prior_authorization="PA-2026-77",
        diagnosis_codes=[
            "J06.9",
            "R05.9",
            "Z23",
            "J45.909",
            "E66.9",
            "F41.1",
            "K21.9",
            "N39.0",
            "R51.9",
            "E78.5",
            "M54.50",
            "I10",
        ],
        lines=[
            LineInput(
                procedure_code="99213",
                charge=Decimal("140.00"),
                service_date_from=DOS,
                modifiers=["25"],
                diagnosis_pointers=[1, 2, 3, 4],
            ),
            LineInput(
                procedure_code="97110",
                charge=Decimal("75.50"),
                service_date_from=DOS,
                service_date_to=DOS + datetime.timedelta(days=3),
                units=4,
                modifiers=["GP", "KX", "59", "RT"],
                diagnosis_pointers=[11],
            ),
        ],
    )
    # 3. no separate rendering provider
    same = billing.claim(
        rendering_provider=None,
        lines=[LineInput(procedure_code="99213", charge=Decimal("185.00"), service_date_from=DOS)],
    )
    for claim in (plain, dependent, same):
        ready(claim)
    result = claims_submit(practice=practice, user=biller, now=_now())
    (batch,) = result.batches
    assert result.refused == {}
    ok, findings = validate_x12(batch.content)
    assert (ok, findings) == (True, [])
    assert batch.validation_ok is True and batch.validation_findings == []
    assert batch.claim_count == 3
    assert batch.total_charge == Decimal("185.00") + Decimal("215.50") + Decimal("185.00")
    content = batch.content
    assert segments(content, "HI")[1] == (
        "HI*ABK:J069*ABF:R059*ABF:Z23*ABF:J45909*ABF:E669*ABF:F411*ABF:K219*ABF:N390*ABF:R519*ABF:E785*ABF:M5450*ABF:I10"
    )
    assert "SV1*HC:97110:GP:KX:59:RT*75.5*UN*4***11" in segments(content, "SV1")
    assert "DTP*472*RD8*20260302-20260305" in segments(content, "DTP")
    assert "REF*G1*PA-2026-77" in segments(content, "REF")
    assert "NM1*QC*1*O BRIEN*MIA" in segments(content, "NM1")  # '*' in a name never breaks the file
    assert segments(content, "PAT") == ["PAT*19"]
    assert len([s for s in segments(content, "NM1") if s.startswith("NM1*82*")]) == 2  # only where it differs
    hl = segments(content, "HL")
    assert hl == ["HL*1**20*1", "HL*2*1*22*0", "HL*3*1*22*1", "HL*4*3*23*0", "HL*5*1*22*0"]
    for claim in (plain, dependent, same):
        claim.refresh_from_db()
        assert claim.status == ClaimStatus.SUBMITTED
        assert claim.first_submitted_at is not None
    assert set(BatchClaim.objects.filter(batch=batch).values_list("claim_id", flat=True)) == {
        plain.pk,
        dependent.pk,
        same.pk,
    }


def _now():
    from django.utils import timezone

    return timezone.make_aware(datetime.datetime(2026, 3, 10, 9, 30))


def test_corrected_and_void_claims_carry_frequency_and_the_payer_claim_number(billing, biller):
    original = billing.claim()
    for status in ("ready", "submitted", "accepted", "paid"):
        claim_transition(claim=original, to_status=status)
    Claim.objects.filter(pk=original.pk).update(payer_claim_number="PCN-ACME-5551")
    original.refresh_from_db()
    corrected = billing.claim(frequency_code="7", original_claim=original, diagnosis_codes=["E11.65", "I10"])
    ready(corrected)
    result = claims_submit(practice=billing.practice, user=biller, now=_now())
    (batch,) = result.batches
    assert validate_x12(batch.content) == (True, [])
    assert segments(batch.content, "CLM")[0].split("*")[5] == "11:B:7"
    assert "REF*F8*PCN-ACME-5551" in segments(batch.content, "REF")


def test_secondary_claim_carries_the_primary_payers_adjudication(billing, biller):
    practice = billing.practice
    secondary_coverage = CoverageFactory(
        practice=practice,
        patient=billing.patient,
        payer=billing.medicare,
        priority=2,
        member_id="1EG4TE5MK73",
        effective_date=datetime.date(2025, 1, 1),
    )
    claim = billing.claim(
        lines=[
            LineInput(
                procedure_code="99214",
                charge=Decimal("185.00"),
                service_date_from=DOS,
                diagnosis_pointers=[1, 2],
            ),
            LineInput(procedure_code="36415", charge=Decimal("18.00"), service_date_from=DOS),
        ]
    )
    first, second = claim.lines.order_by("line_number")
    # The primary (Acme) paid and adjusted, as an ERA would have posted it.
    ledger_post(
        claim=claim,
        source="remittance",
        entries=[
            Entry(
                line=first,
                kind="insurance_payment",
                amount=Decimal("100.00"),
                payer_id=billing.payer.pk,
                effective_date=datetime.date(2026, 3, 25),
            ),
            Entry(
                line=first,
                kind="contractual_adjustment",
                amount=Decimal("60.00"),
                payer_id=billing.payer.pk,
                group_code="CO",
                reason_code="45",
                effective_date=datetime.date(2026, 3, 25),
            ),
            Entry(
                line=first,
                kind="transfer_to_patient",
                amount=Decimal("25.00"),
                payer_id=billing.payer.pk,
                group_code="PR",
                reason_code="2",
                responsibility="coinsurance",
                effective_date=datetime.date(2026, 3, 25),
            ),
            Entry(
                line=second,
                kind="contractual_adjustment",
                amount=Decimal("18.00"),
                payer_id=billing.payer.pk,
                group_code="CO",
                reason_code="97",
                effective_date=datetime.date(2026, 3, 25),
            ),
        ],
    )
    # Re-bill the remaining balance to the secondary.
    Claim.objects.filter(pk=claim.pk).update(coverage=secondary_coverage, payer=billing.medicare)
    ready(claim)
    result = claims_submit(practice=practice, user=biller, now=_now())
    (batch,) = result.batches
    assert validate_x12(batch.content) == (True, [])
    assert batch.payer == billing.medicare
    content = batch.content
    assert segments(content, "SBR") == ["SBR*S*18*G100******MB", "SBR*P*18*GRP7******CI"]
    assert segments(content, "AMT") == ["AMT*D*100"]
    assert segments(content, "SVD") == ["SVD*ACME1*100*HC:99214**1", "SVD*ACME1*0*HC:36415**1"]
    assert segments(content, "CAS") == ["CAS*CO*45*60", "CAS*PR*2*25", "CAS*CO*97*18"]
    assert "DTP*573*D8*20260325" in segments(content, "DTP")


def test_control_numbers_are_unique_and_increasing_and_batches_are_per_payer(billing, biller):
    practice = billing.practice
    medicare_patient = PatientFactory(practice=practice, date_of_birth=datetime.date(1950, 1, 1))
    medicare_coverage = CoverageFactory(
        practice=practice,
        patient=medicare_patient,
        payer=billing.medicare,
        effective_date=datetime.date(2020, 1, 1),
    )
    ready(billing.claim())
    ready(billing.claim(coverage=medicare_coverage))
    first = claims_submit(practice=practice, user=biller, now=_now()).batches
    ready(
        billing.claim(
            lines=[LineInput(procedure_code="99213", charge=Decimal("140.00"), service_date_from=DOS)]
        )
    )
    second = claims_submit(practice=practice, user=biller, now=_now()).batches
    numbers = [(b.interchange_control_number, b.group_control_number) for b in first + second]
    assert numbers == [(1, 1), (2, 2), (3, 3)]
    assert sorted(b.payer.name for b in first) == ["Acme Health", "Medicare Part B"]
    for batch in first + second:
        assert f"*{batch.interchange_control_number:09d}*1*T*:~" in batch.content
        assert batch.content.rstrip().endswith(f"IEA*1*{batch.interchange_control_number:09d}~")
        assert validate_x12(batch.content) == (True, [])


def test_claims_with_scrub_errors_are_not_submitted(billing, biller):
    good = ready(billing.claim())
    bad = ready(
        billing.claim(
            lines=[LineInput(procedure_code="36415", charge=Decimal("54.00"), service_date_from=DOS, units=3)]
        )
    )
    result = claims_submit(practice=billing.practice, user=biller, now=_now())
    assert [b.claim_count for b in result.batches] == [1]
    assert result.refused == {bad.pk: "scrubber errors: Line 1: 3 units of 36415 exceed the MUE of 2."}
    bad.refresh_from_db()
    good.refresh_from_db()
    assert (good.status, bad.status) == (ClaimStatus.SUBMITTED, ClaimStatus.DRAFT)


def test_nothing_to_submit_without_a_clearinghouse(billing, biller):
    billing.clearinghouse.is_active = False
    billing.clearinghouse.save()
    ready(billing.claim())
    with pytest.raises(ValidationError, match="Set up the practice's clearinghouse"):
        claims_submit(practice=billing.practice, user=biller)
    assert SubmissionBatch.objects.count() == 0


def test_export_command_writes_the_batches_and_lists_refused_claims(billing, tmp_path, capsys):
    from django.core.management import call_command

    ready(billing.claim())
    bad = ready(
        billing.claim(
            lines=[LineInput(procedure_code="36415", charge=Decimal("54.00"), service_date_from=DOS, units=3)]
        )
    )
    call_command("export_837", "--practice", "riverside", "--out", str(tmp_path))
    out = capsys.readouterr().out
    (written,) = list(tmp_path.glob("*.837"))
    batch = SubmissionBatch.objects.get()
    assert written.name == batch.file_name and written.read_text() == batch.content
    assert f"{batch.file_name}: 1 claim, $185.00 (Acme Health)" in out
    assert (
        f"claim {bad.pk} not submitted: scrubber errors: Line 1: 3 units of 36415 exceed the MUE of 2." in out
    )
