"""Batches and X12 files pages, and the biller's whole journey through them with the test client:
charge entry -> scrub -> submit -> download (pyx12 clean) -> 277CA rejection uploaded -> rejected queue ->
edit (corrected) -> scrub (ready) -> resubmit."""

import re
from decimal import Decimal
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext

from claims.edi.validation import validate_x12
from claims.models import (
    BatchStatus,
    Claim,
    ClaimStatus,
    DeliveryAttempt,
    SubmissionBatch,
    X12File,
)
from claims.services import LineInput
from claims.state_machine import claim_transition
from claims.submission.batches import claims_submit
from rcm.models import AuditEvent, OutboxTask
from rcm.roles import Role, role_can
from tests.claims.conftest import DOS
from tests.claims.test_acknowledgments import sample, submitted_claim
from tests.claims.test_pages_entry import form_data
from tests.conftest import login
from tests.rcm.factories import CoverageFactory, PatientFactory

# session, user, memberships (middleware) + page count, page rows (with the last delivery attempt), ready
# claims
BATCH_LIST_QUERIES = 3 + 3
REJECTED_277 = "acks/imsweb-x12_277CA_rejected.277"
REJECTED_PCN = "3920394930203"


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def ready(billing, **kwargs):
    claim = billing.claim(**kwargs)
    claim_transition(claim=claim, to_status="ready")
    return claim


def ready_for_another_patient(billing):
    """A ready claim of a new patient of the practice (the same service twice for one patient is a
    duplicate)."""
    coverage = CoverageFactory(
        practice=billing.practice,
        payer=billing.payer,
        patient=PatientFactory(practice=billing.practice, postal_code="62702"),
    )
    return ready(billing, coverage=coverage)


def upload(client, *files):
    return client.post(
        "/claims/files/upload/",
        {
            "files": [
                SimpleUploadedFile(name, content, content_type="application/octet-stream")
                for name, content in files
            ]
        },
        follow=True,
    )


# --- the journey ------------------------------------------------------------------------------------


def test_the_billers_journey_from_charge_entry_to_resubmission(billing, biller):
    client = login(biller)
    # 1. charge entry: a draft, scrubbed on save, clean -> ready
    response = client.post("/claims/new/", form_data(billing))
    claim = Claim.objects.get()
    assert response.url == f"/claims/{claim.pk}/"
    assert claim.status == ClaimStatus.READY
    # 2. submit ready claims from the batches page
    page = client.get("/claims/batches/")
    assert page.context["ready_count"] == 1
    response = client.post("/claims/batches/submit/", {"payer": ""}, follow=True)
    batch = SubmissionBatch.objects.get()
    assert f"1 batch made: {batch.file_name} (Acme Health, 1 claim, $1,419.50)." in _text(response)
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.SUBMITTED
    # 3. the batch is listed and downloadable; the file validates clean with pyx12
    assert [b.pk for b in client.get("/claims/batches/").context["page"].object_list] == [batch.pk]
    download = client.get(f"/claims/batches/{batch.pk}/download/")
    assert download["Content-Disposition"] == f'attachment; filename="{batch.file_name}"'
    content = download.content.decode()
    assert content == batch.content
    assert validate_x12(content) == (True, [])
    assert (
        AuditEvent.objects.filter(
            action="export", object_type="claims.submissionbatch", object_id=str(batch.pk), user=biller
        ).count()
        == 1
    )
    # 4. the clearinghouse's 277CA rejects the claim (the sample answers PCN 3920394930203)
    Claim.objects.filter(pk=claim.pk).update(patient_control_number=REJECTED_PCN)
    response = upload(client, ("rejected.277", sample(REJECTED_277)))
    assert (
        "rejected.277 (277CA claim acknowledgment) imported: 0 claims accepted, 1 claim rejected."
        in _text(response)
    )
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.REJECTED
    # 5. it is in the rejected queue, and its page gives the reason in plain words
    queue = client.get("/claims/queues/rejected/")
    assert [c.pk for c in queue.context["page"].object_list] == [claim.pk]
    detail = _text(client.get(f"/claims/{claim.pk}/"))
    assert (
        "Rejected for invalid information: entity&#x27;s National Provider Identifier (NPI) "
        "(billing provider)" in detail
    )
    assert batch.file_name in detail
    # 6. edit it: rejected -> corrected, and the scrub on save makes it ready again
    data = form_data(billing)
    del data["patient"]
    response = client.post(f"/claims/{claim.pk}/edit/", data)
    assert response.status_code == 302
    claim.refresh_from_db()
    moves = list(claim.status_history.values_list("from_status", "to_status"))
    assert moves[-2:] == [("rejected", "corrected"), ("corrected", "ready")]
    # 7. scrub now keeps it ready
    client.post(f"/claims/{claim.pk}/scrub/")
    claim.refresh_from_db()
    assert (claim.status, claim.scrub_status) == (ClaimStatus.READY, "clean")
    # 8. resubmit: a second batch
    client.post("/claims/batches/submit/", {"payer": billing.payer.pk})
    assert SubmissionBatch.objects.count() == 2
    second = SubmissionBatch.objects.exclude(pk=batch.pk).get()
    assert list(second.claims.values_list("pk", flat=True)) == [claim.pk]
    assert second.interchange_control_number > batch.interchange_control_number
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.SUBMITTED
    assert validate_x12(client.get(f"/claims/batches/{second.pk}/download/").content.decode()) == (True, [])


# --- batches ------------------------------------------------------------------------------------------


def test_submitting_lists_the_claims_refused_with_their_reasons(billing, biller):
    good = ready(billing)
    bad = ready(billing, lines=None)
    Claim.objects.filter(pk=bad.pk).update(prior_authorization="")
    bad.lines.update(procedure_code="20610")  # the contract wants prior authorization for 20610
    response = login(biller).post("/claims/batches/submit/", {"payer": ""}, follow=True)
    text = _text(response)
    batch = SubmissionBatch.objects.get()
    assert list(batch.claims.values_list("pk", flat=True)) == [good.pk]
    assert (
        f"1 claim not submitted: {bad.patient_control_number}: scrubber errors: Line 1: 20610 needs prior "
        "authorization under this contract."
    ) in text
    bad.refresh_from_db()
    assert bad.status == ClaimStatus.DRAFT


def test_submitting_with_nothing_ready_says_so(billing, biller):
    response = login(biller).post("/claims/batches/submit/", {"payer": ""}, follow=True)
    assert "No ready claims to submit." in _text(response)
    assert SubmissionBatch.objects.count() == 0


def test_submitting_without_a_clearinghouse_says_what_to_set_up(billing, biller):
    ready(billing)
    billing.clearinghouse.is_active = False
    billing.clearinghouse.save()
    response = login(biller).post("/claims/batches/submit/", {"payer": ""}, follow=True)
    assert "Set up the practice&#x27;s clearinghouse (EDI identities) before submitting claims." in _text(
        response
    )
    assert SubmissionBatch.objects.count() == 0


def test_submitting_one_payer_leaves_the_others_ready(billing, biller):
    acme = ready(billing)
    medicare_coverage = CoverageFactory(
        practice=billing.practice,
        patient=billing.patient,
        payer=billing.medicare,
        priority=2,
        member_id="1EG4TE5MK72",
    )
    medicare = ready(
        billing,
        coverage=medicare_coverage,
        lines=[LineInput(procedure_code="93000", charge=Decimal("60.00"), service_date_from=DOS)],
    )
    page = login(biller).get("/claims/batches/")
    assert [(row["payer__name"], row["count"]) for row in page.context["ready_by_payer"]] == [
        ("Acme Health", 1),
        ("Medicare Part B", 1),
    ]
    login(biller).post("/claims/batches/submit/", {"payer": billing.payer.pk})
    acme.refresh_from_db()
    medicare.refresh_from_db()
    assert (acme.status, medicare.status) == (ClaimStatus.SUBMITTED, ClaimStatus.READY)


def test_the_batch_page_lists_its_claims_and_queues_the_delivery_on_commit(
    billing, biller, django_capture_on_commit_callbacks
):
    claim = ready(billing)
    (batch,) = claims_submit(practice=billing.practice, user=biller).batches
    client = login(biller)
    page = client.get(f"/claims/batches/{batch.pk}/")
    assert [row.claim_id for row in page.context["rows"]] == [claim.pk]
    assert "has no SFTP settings" in _text(page)
    billing.clearinghouse.sftp_host = "sftp.example.org"
    billing.clearinghouse.save()
    assert (
        f'action="/claims/batches/{batch.pk}/send/"'
        in client.get(f"/claims/batches/{batch.pk}/").content.decode()
    )
    with mock.patch("rcm.outbox._publish") as publish:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            response = client.post(f"/claims/batches/{batch.pk}/send/", follow=True)
        publish.assert_not_called()  # not before the transaction commits
        for callback in callbacks:
            callback()
        publish.assert_called_once()
        row = publish.call_args.args[0]
        assert (row.task, row.args) == ("claims.deliver_batch", [batch.pk])
    assert "is queued for delivery" in _text(response)


def test_a_sent_batch_is_not_sent_again(billing, biller):
    ready(billing)
    (batch,) = claims_submit(practice=billing.practice, user=biller).batches
    SubmissionBatch.objects.filter(pk=batch.pk).update(status=BatchStatus.SENT)
    billing.clearinghouse.sftp_host = "sftp.example.org"
    billing.clearinghouse.save()
    with mock.patch("rcm.outbox._publish") as publish:
        response = login(biller).post(f"/claims/batches/{batch.pk}/send/", follow=True)
    publish.assert_not_called()
    assert not OutboxTask.objects.exists()
    assert "is sent: it is not sent again." in _text(response)


def test_the_batch_list_shows_the_last_delivery_attempt(billing, biller):
    ready(billing)
    (batch,) = claims_submit(practice=billing.practice, user=biller).batches
    DeliveryAttempt.objects.create(batch=batch, ok=False, message="Connection refused")
    DeliveryAttempt.objects.create(batch=batch, ok=True, message="Uploaded")
    (row,) = login(biller).get("/claims/batches/").context["page"].object_list
    assert (row.last_attempt_ok, row.last_attempt_message, row.attempt_count) == (True, "Uploaded", 2)


def test_the_batch_list_query_count_is_the_same_for_1_and_10_batches(
    billing, biller, django_assert_num_queries
):
    client = login(biller)
    ready(billing)
    claims_submit(practice=billing.practice, user=biller)
    with CaptureQueriesContext(connection) as one:
        assert client.get("/claims/batches/").status_code == 200
    for _ in range(9):
        ready_for_another_patient(billing)
        (batch,) = claims_submit(practice=billing.practice, user=biller, validate=False).batches
        DeliveryAttempt.objects.create(batch=batch, ok=False, message="Connection refused")
    ready_for_another_patient(billing)  # one claim waiting, so the submit form is shown too
    with django_assert_num_queries(BATCH_LIST_QUERIES):
        response = client.get("/claims/batches/")
    assert len(response.context["page"].object_list) == 10
    assert len(one) == BATCH_LIST_QUERIES


@pytest.mark.parametrize("role", Role.values)
def test_batches_follow_the_claims_permissions(role, billing, persona):
    ready(billing)
    (batch,) = claims_submit(practice=billing.practice).batches
    client = persona(role)
    view = 200 if role_can(role, "claims.view") else 403
    assert client.get("/claims/batches/").status_code == view
    assert client.get(f"/claims/batches/{batch.pk}/").status_code == view
    # 837 files (full PHI and diagnoses): billers and administrators only, unless the practice allows more
    download = 200 if role in (Role.BILLER, Role.ADMIN) else 403
    assert client.get(f"/claims/batches/{batch.pk}/download/").status_code == download
    edit = role_can(role, "claims.edit")
    assert client.post("/claims/batches/submit/", {"payer": ""}).status_code == (302 if edit else 403)
    assert client.post(f"/claims/batches/{batch.pk}/send/").status_code == (302 if edit else 403)


def test_another_practices_batches_are_404s(billing, outsider):
    ready(billing)
    (batch,) = claims_submit(practice=billing.practice).batches
    client = login(outsider)
    assert list(client.get("/claims/batches/").context["page"].object_list) == []
    for url in (f"/claims/batches/{batch.pk}/", f"/claims/batches/{batch.pk}/download/"):
        assert client.get(url).status_code == 404
    assert client.post(f"/claims/batches/{batch.pk}/send/").status_code == 404
    assert client.post("/claims/batches/submit/", {"payer": billing.payer.pk}).status_code == 404
    assert not AuditEvent.objects.filter(action="export", object_type="claims.submissionbatch").exists()


# --- X12 files ----------------------------------------------------------------------------------------


def test_several_files_at_once_each_with_its_message(billing, biller):
    claim = submitted_claim(billing, "5781")
    client = login(biller)
    response = upload(
        client,
        ("accepted.277", sample("acks/imsweb-x12_277CA_accepted.277")),
        ("junk.txt", b"this is not X12"),
    )
    text = _text(response)
    assert "accepted.277 (277CA claim acknowledgment) imported: 1 claim accepted, 0 claims rejected." in text
    assert "junk.txt was refused:" in text and "Nothing was changed." in text
    assert sorted(X12File.objects.values_list("file_name", "status")) == [
        ("accepted.277", "applied"),
        ("junk.txt", "refused"),
    ]
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.ACCEPTED
    # the same file again changes nothing and says so
    again = upload(client, ("again.277", sample("acks/imsweb-x12_277CA_accepted.277")))
    assert "this file was already imported on" in _text(again)
    assert X12File.objects.count() == 2
    listed = client.get("/claims/files/").context["page"].object_list
    assert [f.file_name for f in listed] == ["junk.txt", "accepted.277"]


def test_the_file_page_shows_the_error_or_the_acknowledgments_it_created(billing, biller):
    claim = submitted_claim(billing, REJECTED_PCN)
    client = login(biller)
    upload(client, ("rejected.277", sample(REJECTED_277)), ("junk.txt", b"ISA*garbage"))
    applied = X12File.objects.get(file_name="rejected.277")
    refused = X12File.objects.get(file_name="junk.txt")
    page = client.get(f"/claims/files/{applied.pk}/")
    assert [ack.claim_id for ack in page.context["acknowledgments"]] == [claim.pk]
    text = _text(page)
    assert "Rejected for invalid information" in text and "A7:562:85" in text
    assert AuditEvent.objects.filter(
        action="view", object_type="claims.x12file", object_id=str(applied.pk)
    ).exists()
    refused_page = _text(client.get(f"/claims/files/{refused.pk}/"))
    assert "Refused:" in refused_page and refused.error.split(":")[0] in refused_page


def test_uploading_nothing_is_refused_with_a_message(biller):
    response = login(biller).post("/claims/files/upload/", {}, follow=True)
    assert "Choose one or more 999, 277CA or 835 files to upload." in _text(response)


@pytest.mark.parametrize("role", Role.values)
def test_files_follow_the_claims_permissions(role, billing, persona):
    client = persona(role)
    view = 200 if role_can(role, "claims.view") else 403
    assert client.get("/claims/files/").status_code == view
    status = upload(client, ("junk.txt", b"nothing")).redirect_chain
    if role_can(role, "claims.edit"):
        assert status == [("/claims/files/", 302)]
        assert X12File.objects.count() == 1
    else:
        assert X12File.objects.count() == 0


def test_another_practices_files_are_404s(billing, biller, outsider):
    submitted_claim(billing, "5781")
    upload(login(biller), ("accepted.277", sample("acks/imsweb-x12_277CA_accepted.277")))
    x12_file = X12File.objects.get()
    client = login(outsider)
    assert client.get(f"/claims/files/{x12_file.pk}/").status_code == 404
    assert list(client.get("/claims/files/").context["page"].object_list) == []


# --- where each batch is ------------------------------------------------------------------------------


def _where(client, batch):
    (row,) = [b for b in client.get("/claims/batches/").context["page"].object_list if b.pk == batch.pk]
    detail = client.get(f"/claims/batches/{batch.pk}/").context["where"]
    assert detail == row.where  # the list and the page say the same
    return (row.where.label, row.where.tone, row.where.detail)


def test_a_batch_says_where_it_is_from_built_to_acknowledged(billing, biller, settings):
    import datetime

    settings.TIME_ZONE = "UTC"
    ready(billing)
    (batch,) = claims_submit(practice=billing.practice, user=biller).batches
    client = login(biller)
    assert _where(client, batch) == ("Built, not sent", "", "Not downloaded or delivered yet.")
    text = _text(client.get("/claims/batches/"))
    assert "837P files for the clearinghouse, and where each one is" in text
    assert "837P files sent to the clearinghouse" not in text

    at = datetime.datetime(2026, 3, 5, 14, 30, tzinfo=datetime.UTC)
    with mock.patch("django.utils.timezone.now", return_value=at):
        assert client.get(f"/claims/batches/{batch.pk}/download/").status_code == 200
    batch.refresh_from_db()
    assert (batch.downloaded_at, batch.downloaded_by, batch.status) == (at, biller, BatchStatus.BUILT)
    assert _where(client, batch) == (
        "Downloaded, not marked sent",
        "",
        "Downloaded by bill on 03/05/2026 14:30.",
    )
    assert '<dd id="downloaded">03/05/2026 14:30 by bill</dd>' in _text(
        client.get(f"/claims/batches/{batch.pk}/")
    )

    later = at + datetime.timedelta(hours=1)
    with mock.patch("django.utils.timezone.now", return_value=later):
        response = client.post(f"/claims/batches/{batch.pk}/sent-by-hand/", follow=True)
    assert (
        f"{batch.file_name} is marked sent to Availity by hand (1 claim, $185.00); "
        "its 999 will say whether it was accepted."
    ) in _text(response)
    batch.refresh_from_db()
    assert (batch.status, batch.marked_sent_at, batch.marked_sent_by) == (BatchStatus.SENT, later, biller)
    assert _where(client, batch) == (
        "Sent by hand",
        "warn",
        "Marked sent by bill on 03/05/2026 15:30; waiting for the 999.",
    )
    event = AuditEvent.objects.get(action="update", object_type="claims.submissionbatch")
    assert (event.object_id, event.user, event.changes) == (
        str(batch.pk),
        biller,
        {"status": ["built", "sent"], "sent": "by hand"},
    )
    SubmissionBatch.objects.filter(pk=batch.pk).update(status=BatchStatus.ACCEPTED)
    assert _where(client, batch) == (
        "Accepted (999)",
        "ok",
        "The clearinghouse accepted the file; the 277CA answers each claim.",
    )
    SubmissionBatch.objects.filter(pk=batch.pk).update(status=BatchStatus.REJECTED)
    assert _where(client, batch)[:2] == ("Rejected (999)", "bad")


def test_a_batch_delivered_by_sftp_or_failing_says_so(billing, biller, settings):
    import datetime

    settings.TIME_ZONE = "UTC"
    ready(billing)
    (batch,) = claims_submit(practice=billing.practice, user=biller).batches
    at = datetime.datetime(2026, 3, 6, 9, 0, tzinfo=datetime.UTC)
    DeliveryAttempt.objects.create(batch=batch, ok=False, message="Connection refused", at=at)
    SubmissionBatch.objects.filter(pk=batch.pk).update(status=BatchStatus.SEND_FAILED)
    client = login(biller)
    assert _where(client, batch) == (
        "SFTP delivery failed",
        "bad",
        "Last attempt on 03/06/2026 09:00: Connection refused",
    )
    DeliveryAttempt.objects.create(
        batch=batch, ok=True, message="Uploaded", at=at + datetime.timedelta(minutes=5)
    )
    SubmissionBatch.objects.filter(pk=batch.pk).update(status=BatchStatus.SENT)
    assert _where(client, batch) == (
        "Delivered by SFTP",
        "warn",
        "Uploaded on 03/06/2026 09:05; waiting for the 999.",
    )


def test_marking_sent_is_refused_before_a_download_and_after_sending(billing, biller):
    ready(billing)
    (batch,) = claims_submit(practice=billing.practice, user=biller).batches
    client = login(biller)
    page = _text(client.get(f"/claims/batches/{batch.pk}/"))
    assert "Mark sent by hand" not in page  # not downloaded yet
    response = client.post(f"/claims/batches/{batch.pk}/sent-by-hand/", follow=True)
    assert (
        f"{batch.file_name} was never downloaded: download the file and upload it to the clearinghouse "
        "before marking it sent."
    ) in _text(response)
    batch.refresh_from_db()
    assert (batch.status, batch.marked_sent_at) == (BatchStatus.BUILT, None)
    client.get(f"/claims/batches/{batch.pk}/download/")
    assert "Mark sent by hand</button>" in _text(client.get(f"/claims/batches/{batch.pk}/"))
    client.post(f"/claims/batches/{batch.pk}/sent-by-hand/")
    batch.refresh_from_db()
    first = batch.marked_sent_at
    response = client.post(f"/claims/batches/{batch.pk}/sent-by-hand/", follow=True)
    assert f"{batch.file_name} is sent: it is not marked sent again." in _text(response)
    batch.refresh_from_db()
    assert batch.marked_sent_at == first
    assert AuditEvent.objects.filter(action="update", object_type="claims.submissionbatch").count() == 1


@pytest.mark.parametrize("role", Role.values)
def test_marking_sent_follows_the_claims_edit_permission(role, billing, persona):
    ready(billing)
    (batch,) = claims_submit(practice=billing.practice).batches
    SubmissionBatch.objects.filter(pk=batch.pk).update(downloaded_at="2026-03-05T10:00:00Z")
    client = persona(role)
    edit = role_can(role, "claims.edit")
    assert client.post(f"/claims/batches/{batch.pk}/sent-by-hand/").status_code == (302 if edit else 403)
    batch.refresh_from_db()
    assert batch.status == (BatchStatus.SENT if edit else BatchStatus.BUILT)


def test_another_practices_batch_cannot_be_marked_sent(billing, outsider):
    ready(billing)
    (batch,) = claims_submit(practice=billing.practice).batches
    SubmissionBatch.objects.filter(pk=batch.pk).update(downloaded_at="2026-03-05T10:00:00Z")
    assert login(outsider).post(f"/claims/batches/{batch.pk}/sent-by-hand/").status_code == 404
    batch.refresh_from_db()
    assert (batch.status, batch.marked_sent_at) == (BatchStatus.BUILT, None)
