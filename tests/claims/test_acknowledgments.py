"""999 and 277CA files: the real samples in tests/fixtures/x12/acks/ and the broken ones in invalid/."""

from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from claims.edi.intake import x12_import
from claims.models import (
    BatchClaim,
    BatchStatus,
    Claim,
    ClaimAcknowledgment,
    ClaimStatus,
    ClaimStatusChange,
    SubmissionBatch,
    X12File,
)
from claims.state_machine import claim_transition
from tests.fixtures import X12_SAMPLES

SAMPLES = X12_SAMPLES


def sample(name):
    return (SAMPLES / name).read_bytes()


def submitted_claim(billing, pcn):
    """A submitted claim whose patient control number is the one the sample file answers."""
    claim = billing.claim()
    Claim.objects.filter(pk=claim.pk).update(patient_control_number=pcn)
    for status in ("ready", "submitted"):
        claim_transition(claim=claim, to_status=status)
    claim.refresh_from_db()
    return claim


def batch_for(billing, claims, group, st):
    batch = SubmissionBatch.objects.create(
        practice=billing.practice,
        payer=billing.payer,
        clearinghouse=billing.clearinghouse,
        interchange_control_number=group,
        group_control_number=group,
        transaction_control_number=st,
        file_name=f"b{group}.837",
        content="(test)",
        claim_count=len(claims),
        total_charge=0,
        validation_ok=True,
    )
    for claim in claims:
        BatchClaim.objects.create(batch=batch, claim=claim, frequency_code="1", charge=claim.charge_total)
    return batch


def state():
    return (
        list(Claim.objects.order_by("pk").values_list("pk", "status", "payer_claim_number")),
        ClaimAcknowledgment.objects.count(),
        ClaimStatusChange.objects.count(),
        list(SubmissionBatch.objects.values_list("pk", "status")),
    )


def test_277ca_accepted_moves_the_claim_to_accepted_and_keeps_the_payer_claim_number(billing, biller):
    claim = submitted_claim(billing, "5781")
    result = x12_import(
        practice=billing.practice,
        file_name="accepted.277",
        content=sample("acks/imsweb-x12_277CA_accepted.277"),
        user=biller,
    )
    assert result.applied and result.file.kind == "277CA"
    assert result.file.outcome == {"claims_accepted": 1, "claims_rejected": 0}
    claim.refresh_from_db()
    assert (claim.status, claim.payer_claim_number) == (ClaimStatus.ACCEPTED, "1107000000014420")
    ack = claim.acknowledgments.get()
    assert (ack.accepted, ack.codes, ack.reasons) == (
        True,
        ["A2:20"],
        ["Accepted into adjudication: accepted for processing"],
    )


def test_277ca_rejected_moves_the_claim_to_rejected_with_reasons_in_plain_words(billing, biller):
    claim = submitted_claim(billing, "3920394930203")
    result = x12_import(
        practice=billing.practice,
        file_name="rejected.277",
        content=sample("acks/imsweb-x12_277CA_rejected.277"),
        user=biller,
    )
    assert result.applied
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.REJECTED
    ack = claim.acknowledgments.get()
    assert ack.accepted is False
    assert ack.codes == ["A7:562:85"]
    assert ack.reasons == [
        "Rejected for invalid information: entity's National Provider Identifier (NPI) (billing provider)"
    ]
    change = claim.status_history.latest("id")
    assert (change.from_status, change.to_status) == ("submitted", "rejected")
    assert change.reason == "277CA: " + ack.reasons[0]


def test_999_rejected_rejects_every_claim_of_the_batch(billing, biller):
    claims = [submitted_claim(billing, "RJ1"), submitted_claim(billing, "RJ2")]
    batch = batch_for(billing, claims, group=28, st="0028")
    result = x12_import(
        practice=billing.practice,
        file_name="r.999",
        content=sample("acks/imsweb-x12_999_rejected.999"),
        user=biller,
    )
    assert result.applied and result.file.kind == "999"
    assert result.file.outcome == {"batches_accepted": 0, "batches_rejected": 1, "claims_rejected": 2}
    batch.refresh_from_db()
    assert batch.status == BatchStatus.REJECTED
    for claim in claims:
        claim.refresh_from_db()
        assert claim.status == ClaimStatus.REJECTED
        assert claim.acknowledgments.get().reasons == [
            "segment NM at position 17: unrecognized segment",
            "transaction set: one or more segments in error",
        ]


def test_999_accepted_marks_the_batch_and_notes_the_envelope_warning(billing, biller):
    claim = submitted_claim(billing, "AC1")
    batch = batch_for(billing, [claim], group=17456, st="0001")
    result = x12_import(
        practice=billing.practice,
        file_name="a.999",
        content=sample("acks/imsweb-x12_999_accepted.999"),
        user=biller,
    )
    assert result.applied
    batch.refresh_from_db()
    claim.refresh_from_db()
    assert batch.status == BatchStatus.ACCEPTED
    assert claim.status == ClaimStatus.SUBMITTED  # the 277CA decides each claim
    assert result.file.warnings == [
        "Segment 10 (IEA): control number '000000001' does not match ISA13 '000000286'."
    ]


def test_the_same_file_twice_applies_once(billing, biller):
    submitted_claim(billing, "5781")
    first = x12_import(
        practice=billing.practice, file_name="a.277", content=sample("acks/imsweb-x12_277CA_accepted.277")
    )
    before = state()
    second = x12_import(
        practice=billing.practice, file_name="again.277", content=sample("acks/imsweb-x12_277CA_accepted.277")
    )
    assert second.duplicate and second.file.pk == first.file.pk
    assert "already imported" in second.message and "nothing was changed" in second.message
    assert state() == before
    assert X12File.objects.count() == 1


def test_an_ack_for_unknown_claims_is_refused_and_kept(billing, biller):
    before = state()
    result = x12_import(
        practice=billing.practice,
        file_name="rejected.277",
        content=sample("acks/imsweb-x12_277CA_rejected.277"),
        user=biller,
    )
    assert not result.applied
    assert result.file.error == "The 277CA refers to claims this practice does not have: 3920394930203."
    assert result.file.status == "refused" and result.file.content.startswith("ISA*")
    assert state() == before


def test_a_999_for_a_batch_never_sent_is_refused(billing):
    before = state()
    result = x12_import(
        practice=billing.practice, file_name="r.999", content=sample("acks/imsweb-x12_999_rejected.999")
    )
    assert (
        result.file.error == "The 999 answers group 28, transaction set 0028, which this practice never sent."
    )
    assert state() == before


INVALID = {
    "invalid/imsweb-x12_bad_first_line.837": (
        "The ISA segment is malformed: ISA02 must be 10 characters, it is 9 ('         '); "
        "the delimiters cannot be read."
    ),
    "invalid/imsweb-x12_bad_segment_identifier.837": "Segment 6 has an invalid segment identifier ''.",
    "invalid/imsweb-x12_missing_elements.837": (
        "Segment 36 (SE): says 25 segments, transaction set 987654 has 34."
    ),
    "invalid/imsweb-x12_multiple_isa.837": (
        "Segment 36 (SE): says 25 segments, transaction set 987654 has 34."
    ),
    "invalid/imsweb-x12_no_isa_line.837": (
        "This is not an X12 file: it must start with an ISA segment, "
        "it starts with 'GS*HC*SENDER CODE*RECEIVER CODE*19991231'."
    ),
    "invalid/imsweb-x12_segments_out_of_order.837": (
        "Segment 36 (SE): says 25 segments, transaction set 987654 has 34."
    ),
    "837/lfh-demo.example1.837": "This file holds 837 transactions; this import takes 277CA, 999.",
}


@pytest.mark.parametrize(("name", "error"), sorted(INVALID.items()))
def test_broken_and_wrong_type_files_are_refused_with_a_clear_message(billing, name, error):
    submitted_claim(billing, "987654")
    before = state()
    result = x12_import(practice=billing.practice, file_name=Path(name).name, content=sample(name))
    assert not result.applied
    assert result.file.error.startswith(error.split(";")[0].rstrip("."))
    assert result.message.endswith("Nothing was changed.")
    assert state() == before


def test_truncated_file_is_refused(billing):
    content = sample("acks/imsweb-x12_277CA_accepted.277").decode()
    cut = content[: content.index("SE*")]
    result = x12_import(practice=billing.practice, file_name="cut.277", content=cut)
    assert result.file.error.startswith("The file is truncated: SE expected to close transaction set")


def test_import_command_reports_each_file_and_fails_when_one_is_refused(billing, capsys):
    submitted_claim(billing, "5781")
    call_command("import_x12", str(SAMPLES / "acks/imsweb-x12_277CA_accepted.277"), "--practice", "riverside")
    assert "imported: 1 claim accepted, 0 claims rejected." in capsys.readouterr().out
    with pytest.raises(CommandError, match="1 of 1 files were refused"):
        call_command(
            "import_x12", str(SAMPLES / "invalid/imsweb-x12_no_isa_line.837"), "--practice", "riverside"
        )
