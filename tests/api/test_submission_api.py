"""The submission API: scrubbing and editing one claim, 837P batches, X12 uploads and the work queues."""

import datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from claims.edi.validation import validate_x12
from claims.models import (
    BatchClaim,
    Claim,
    ClaimLine,
    ClaimStatus,
    ClaimStatusChange,
    SubmissionBatch,
    Transaction,
    X12File,
)
from claims.scrubber.engine import claims_scrub
from claims.scrubber.ncci import ncci_load_samples
from claims.services import LineInput
from claims.state_machine import claim_transition
from rcm.models import AuditEvent
from tests.api import api
from tests.claims.conftest import DOS, Billing
from tests.claims.factories import make_claim
from tests.fixtures import X12_SAMPLES
from tests.rcm.factories import CoverageFactory, PatientFactory

SAMPLES = X12_SAMPLES

MUE_MESSAGE = "Line 1: 3 units of 36415 exceed the MUE of 2."
MUE_FINDING = {
    "rule": "MUE_UNITS",
    "severity": "error",
    "message": MUE_MESSAGE,
    "hint": "Check the units; if more were really given, split per date of service or document and appeal.",
    "line": 1,
}


@pytest.fixture
def billing(practice):
    ncci_load_samples()
    return Billing(practice)


def _error(response, status):
    assert response.status_code == status, response.content
    return response.json()["error"]


def _patients_claim(billing, payer=None, **kwargs):
    """A draft for a patient of its own (two claims of one patient for the same visit are duplicates)."""
    coverage = CoverageFactory(
        practice=billing.practice,
        patient=PatientFactory(practice=billing.practice),
        payer=payer or billing.payer,
        effective_date=datetime.date(2025, 1, 1),
    )
    return billing.claim(coverage=coverage, **kwargs)


def _too_many_units(billing):
    """A draft the scrubber stops: 3 units of 36415 where the MUE is 2."""
    return billing.claim(
        lines=[LineInput(procedure_code="36415", charge=Decimal("54.00"), service_date_from=DOS, units=3)]
    )


def _move(claim, *statuses):
    for status in statuses:
        claim_transition(claim=claim, to_status=status)
    claim.refresh_from_db()
    return claim


def _upload(*names):
    return {"file": [SimpleUploadedFile(Path(name).name, (SAMPLES / name).read_bytes()) for name in names]}


def _claims_state():
    return (
        list(
            Claim.objects.order_by("pk").values_list(
                "pk",
                "status",
                "scrub_status",
                "coverage_id",
                "diagnosis_codes",
                "charge_total",
                "assigned_to_id",
            )
        ),
        list(
            ClaimLine.objects.order_by("pk").values_list("pk", "procedure_code", "charge", "units", "removed")
        ),
        Transaction.objects.count(),
        ClaimStatusChange.objects.count(),
    )


# --- Scrubbing one claim -----------------------------------------------------------------------


def test_scrub_returns_the_findings_and_the_claim_stays_a_draft(billing, biller):
    claim = _too_many_units(billing)

    response = api(biller).post(f"/api/claims/{claim.pk}/scrub/")

    assert response.status_code == 200, response.content
    body = response.json()
    claim.refresh_from_db()
    assert (body["id"], body["status"], body["scrub_status"], body["findings"]) == (
        claim.pk,
        "draft",
        "errors",
        [MUE_FINDING],
    )
    assert body["scrubbed_at"] is not None
    assert (claim.status, claim.scrub_status, claim.scrub_findings) == ("draft", "errors", [MUE_FINDING])


def test_scrubbing_a_clean_draft_makes_it_ready(billing, biller):
    claim = billing.claim()

    body = api(biller).post(f"/api/claims/{claim.pk}/scrub/").json()

    assert (body["status"], body["scrub_status"], body["findings"]) == ("ready", "clean", [])
    change = Claim.objects.get(pk=claim.pk).status_history.get()
    assert (change.from_status, change.to_status, change.reason, change.by) == (
        "draft",
        "ready",
        "scrubber: clean",
        biller,
    )


def test_a_submitted_claim_is_not_scrubbed(billing, biller):
    claim = _move(billing.claim(), "ready", "submitted")
    before = _claims_state()

    error = _error(api(biller).post(f"/api/claims/{claim.pk}/scrub/"), 400)

    assert error["message"] == (
        f"Claim {claim.patient_control_number} is submitted: "
        "only drafts, corrected and ready claims are scrubbed."
    )
    assert _claims_state() == before


def test_scrubbing_needs_claims_edit_and_stays_in_the_practice(billing, manager, outsider):
    claim = billing.claim()
    before = _claims_state()
    assert _error(api(manager).post(f"/api/claims/{claim.pk}/scrub/"), 403)["code"] == "permission_denied"
    assert _error(api(outsider).post(f"/api/claims/{claim.pk}/scrub/"), 404)["code"] == "not_found"
    assert _claims_state() == before


# --- Editing a claim ---------------------------------------------------------------------------


def _edited(billing, **change):
    return {
        "coverage": billing.coverage.pk,
        "billing_provider": billing.group.pk,
        "rendering_provider": billing.doctor.pk,
        "place_of_service": "11",
        "prior_authorization": "PA-9",
        "diagnosis_codes": ["I10"],
        "lines": [
            {"procedure_code": "99213", "charge": "120.00", "service_date_from": "2026-03-02"},
            {"procedure_code": "36415", "units": 2, "charge": "24.00", "service_date_from": "2026-03-02"},
        ],
        **change,
    }


def test_editing_a_ready_claim_reposts_the_charges_and_sends_it_back_to_draft(billing, biller):
    claim = _move(billing.claim(), "ready")
    (first,) = claim.lines.all()

    response = api(biller).put(f"/api/claims/{claim.pk}/", _edited(billing), format="json")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["diagnoses"][0]["code"], body["prior_authorization"]) == (
        "draft",
        "I10",
        "PA-9",
    )
    assert [
        (
            line["id"],
            line["line_number"],
            line["procedure_code"],
            line["units"],
            line["charge"],
            line["diagnosis_pointers"],
        )
        for line in body["lines"]
    ] == [
        (first.pk, 1, "99213", "1.000", "120.00", [1]),
        (first.pk + 1, 2, "36415", "2.000", "24.00", [1]),
    ]
    assert body["balances"]["charge_total"] == body["balances"]["insurance_balance"] == "144.00"
    assert [(t["line_number"], t["kind"], t["amount"]) for t in body["transactions"]] == [
        (1, "charge", "185.00"),
        (1, "reversal", "185.00"),
        (1, "charge", "120.00"),
        (2, "charge", "24.00"),
    ]
    assert [(c["from_status"], c["to_status"], c["reason"]) for c in body["status_history"]] == [
        ("draft", "ready", ""),
        ("ready", "draft", "edited"),
    ]
    claim.refresh_from_db()
    assert (claim.charge_total, claim.scrub_status) == (Decimal("144.00"), "")


def test_a_line_left_out_is_removed_and_no_longer_shown(billing, biller):
    claim = billing.claim(
        lines=[
            LineInput(procedure_code="99214", charge=Decimal("185.00"), service_date_from=DOS),
            LineInput(procedure_code="36415", charge=Decimal("18.00"), service_date_from=DOS),
        ]
    )
    body = _edited(billing)
    body["lines"] = body["lines"][:1]

    response = api(biller).put(f"/api/claims/{claim.pk}/", body, format="json")

    assert response.status_code == 200, response.content
    assert [line["procedure_code"] for line in response.json()["lines"]] == ["99213"]
    assert list(claim.lines.order_by("line_number").values_list("procedure_code", "removed")) == [
        ("99213", False),
        ("36415", True),
    ]
    assert response.json()["balances"]["charge_total"] == "120.00"


def test_a_rejected_claim_is_edited_into_a_correction(billing, biller):
    claim = _move(billing.claim(), "ready", "submitted", "rejected")
    response = api(biller).put(f"/api/claims/{claim.pk}/", _edited(billing), format="json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "corrected"


@pytest.mark.parametrize(
    ("mistake", "field", "message"),
    [
        (
            lambda body: body["lines"][1].update(charge="0"),
            "lines[2].charge",
            "The charge must be greater than zero (got $0.00).",
        ),
        (
            lambda body: body["lines"][0].update(charge="12,00"),
            "lines[1].charge",
            "A valid number is required.",
        ),
        (
            lambda body: body["lines"][0].update(diagnosis_pointers=[2]),
            "lines[1].diagnosis_pointers",
            "Pointer 2 does not point at a diagnosis: the claim has 1.",
        ),
        (lambda body: body.update(lines=[]), "lines", "A claim needs at least one service line."),
        (
            lambda body: body.update(diagnosis_codes=["E11"]),
            "diagnosis_codes",
            "E11 (Type 2 diabetes mellitus) is a header code, not billable: "
            "use a more specific code under it (for example E11.0, E11.1, E11.2).",
        ),
        (lambda body: body.pop("coverage"), "coverage", "This field is required."),
    ],
    ids=["zero-charge", "charge-not-a-number", "pointer", "no-lines", "header-code", "coverage-left-out"],
)
def test_a_bad_edit_is_refused_naming_the_field_and_nothing_changes(billing, biller, mistake, field, message):
    claim = _move(billing.claim(), "ready")
    body = _edited(billing)
    mistake(body)
    before = _claims_state()

    error = _error(api(biller).put(f"/api/claims/{claim.pk}/", body, format="json"), 400)

    assert (error["fields"], error["message"]) == ({field: [message]}, f"{field}: {message}")
    assert _claims_state() == before


def test_another_patients_coverage_is_refused(billing, biller):
    claim = billing.claim()
    someone_else = CoverageFactory(practice=billing.practice, payer=billing.payer)
    before = _claims_state()
    error = _error(
        api(biller).put(
            f"/api/claims/{claim.pk}/", _edited(billing, coverage=someone_else.pk), format="json"
        ),
        400,
    )
    assert error["fields"] == {"coverage": ["The coverage belongs to another patient or practice."]}
    assert _claims_state() == before


def test_an_adjudicated_claim_is_not_edited(billing, biller):
    claim = _move(billing.claim(), "ready", "submitted", "denied")
    before = _claims_state()

    error = _error(api(biller).put(f"/api/claims/{claim.pk}/", _edited(billing), format="json"), 400)

    assert error == {
        "status": 400,
        "code": "invalid",
        "fields": {"non_field_errors": [error["message"]]},
        "message": f"Claim {claim.patient_control_number} is denied: "
        "only drafts, ready, rejected and corrected claims can be edited. "
        "To change an adjudicated claim, create a corrected claim.",
    }
    assert _claims_state() == before


def test_editing_needs_claims_edit_and_stays_in_the_practice(billing, collections_user, outsider):
    claim = billing.claim()
    before = _claims_state()
    assert (
        _error(api(collections_user).put(f"/api/claims/{claim.pk}/", _edited(billing), format="json"), 403)[
            "code"
        ]
        == "permission_denied"
    )
    assert (
        _error(api(outsider).put(f"/api/claims/{claim.pk}/", _edited(billing), format="json"), 404)["code"]
        == "not_found"
    )
    assert _claims_state() == before


def test_a_partial_update_is_not_offered(billing, biller):
    claim = billing.claim()
    assert (
        api(biller).patch(f"/api/claims/{claim.pk}/", {"diagnosis_codes": ["I10"]}, format="json").status_code
        == 405
    )


# --- Submitting batches ------------------------------------------------------------------------


def test_submitting_builds_a_valid_837p_and_never_sends_a_claim_with_scrub_errors(billing, biller):
    good = [_move(_patients_claim(billing), "ready") for _ in range(2)]
    bad = _move(_too_many_units(billing), "ready")  # made ready by hand: the submission scrubs it again

    response = api(biller).post("/api/batches/", {}, format="json")

    assert response.status_code == 201, response.content
    body = response.json()
    batch = SubmissionBatch.objects.get()
    assert body["refused"] == [{"claim": bad.pk, "reason": f"scrubber errors: {MUE_MESSAGE}"}]
    assert body["batches"] == [
        {
            "id": batch.pk,
            "file_name": batch.file_name,
            "claim_count": 2,
            "total_charge": "370.00",
            "payer": {"id": billing.payer.pk, "name": "Acme Health", "payer_id": "ACME1"},
            "status": "built",
            "interchange_control_number": 1,
            "group_control_number": 1,
            "transaction_control_number": "0001",
            "created_at": body["batches"][0]["created_at"],
            "created_by": "bill",
            "validation_ok": True,
            "downloaded_at": None,
            "downloaded_by": None,
            "marked_sent_at": None,
            "marked_sent_by": None,
            "whereabouts": {
                "label": "Built, not sent",
                "tone": "",
                "detail": "Not downloaded or delivered yet.",
            },
            "claims": [
                {"id": claim.pk, "patient_control_number": claim.patient_control_number} for claim in good
            ],
        }
    ]
    assert batch.file_name == "riverside-ACME1-000000001.837"
    assert validate_x12(batch.content) == (True, [])
    assert bad.patient_control_number not in batch.content
    assert not BatchClaim.objects.filter(claim=bad).exists()
    assert dict(Claim.objects.values_list("pk", "status")) == {
        good[0].pk: "submitted",
        good[1].pk: "submitted",
        bad.pk: "draft",
    }


def test_submitting_chosen_claims_reports_the_ones_that_are_not_ready(billing, biller, other_practice):
    chosen, left = _move(_patients_claim(billing), "ready"), _move(_patients_claim(billing), "ready")
    draft = _patients_claim(billing)
    theirs = make_claim(other_practice)

    response = api(biller).post(
        "/api/batches/", {"claim_ids": [chosen.pk, draft.pk, theirs.pk]}, format="json"
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert [c["id"] for batch in body["batches"] for c in batch["claims"]] == [chosen.pk]
    assert body["refused"] == [
        {"claim": draft.pk, "reason": "not a ready claim of this practice"},
        {"claim": theirs.pk, "reason": "not a ready claim of this practice"},
    ]
    assert dict(Claim.objects.values_list("pk", "status")) == {
        chosen.pk: "submitted",
        left.pk: "ready",
        draft.pk: "draft",
        theirs.pk: "draft",
    }


def test_submitting_one_payers_claims(billing, biller):
    acme = _move(billing.claim(), "ready")
    medicare = _move(_patients_claim(billing, payer=billing.medicare), "ready")

    body = api(biller).post("/api/batches/", {"payer": billing.medicare.pk}, format="json").json()

    assert [(b["payer"]["payer_id"], [c["id"] for c in b["claims"]]) for b in body["batches"]] == [
        ("00952", [medicare.pk])
    ]
    assert Claim.objects.get(pk=acme.pk).status == "ready"


def test_nothing_ready_is_a_400_saying_so(billing, biller):
    billing.claim()
    error = _error(api(biller).post("/api/batches/", {}, format="json"), 400)
    assert error == {
        "status": 400,
        "code": "nothing_submitted",
        "message": "No ready claims to submit.",
        "fields": {},
    }
    assert not SubmissionBatch.objects.exists()


def test_when_every_claim_is_refused_the_400_gives_the_reasons(billing, biller):
    bad = _move(_too_many_units(billing), "ready")

    error = _error(api(biller).post("/api/batches/", {"claim_ids": [bad.pk, 999999]}, format="json"), 400)

    assert error["message"] == (
        f"Nothing was submitted. Claim {bad.pk}: scrubber errors: {MUE_MESSAGE} "
        "Claim 999999: not a ready claim of this practice."
    )
    assert not SubmissionBatch.objects.exists()
    bad.refresh_from_db()
    assert (bad.status, bad.scrub_findings) == ("draft", [MUE_FINDING])  # the findings are kept to work on


def test_without_a_clearinghouse_nothing_is_submitted(billing, biller):
    claim = _move(billing.claim(), "ready")
    billing.clearinghouse.delete()
    error = _error(api(biller).post("/api/batches/", {}, format="json"), 400)
    assert (
        error["message"] == "Set up the practice's clearinghouse (EDI identities) before submitting claims."
    )
    assert Claim.objects.get(pk=claim.pk).status == "ready"


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({"claim_ids": []}, "claim_ids", "This list may not be empty."),
        ({"claim_ids": [3, "one"]}, "claim_ids[2]", "A valid integer is required."),
        ({"payer": 999999}, "payer", "No payer with id 999999 in this practice."),
    ],
)
def test_a_bad_submit_request_is_refused(billing, biller, body, field, message):
    _move(billing.claim(), "ready")
    error = _error(api(biller).post("/api/batches/", body, format="json"), 400)
    assert error["fields"] == {field: [message]}
    assert not SubmissionBatch.objects.exists()


def test_a_manager_sees_batches_but_cannot_submit(billing, biller, manager):
    claim = _move(billing.claim(), "ready")
    assert _error(api(manager).post("/api/batches/", {}, format="json"), 403)["code"] == "permission_denied"
    assert (SubmissionBatch.objects.count(), Claim.objects.get(pk=claim.pk).status) == (0, "ready")
    api(biller).post("/api/batches/", {}, format="json")
    assert api(manager).get("/api/batches/").json()["count"] == 1


def test_batch_list_and_detail(billing, biller):
    claim = _move(billing.claim(), "ready")
    api(biller).post("/api/batches/", {}, format="json")
    batch = SubmissionBatch.objects.get()
    client = api(biller)

    rows = client.get("/api/batches/").json()["results"]
    detail = client.get(f"/api/batches/{batch.pk}/").json()

    assert [row["id"] for row in rows] == [batch.pk]
    assert "claims" not in rows[0] and "content" not in rows[0]
    assert detail == {
        **rows[0],
        "claims": [{"id": claim.pk, "patient_control_number": claim.patient_control_number}],
    }
    assert (detail["claim_count"], detail["total_charge"], detail["validation_ok"]) == (1, "185.00", True)


def test_the_837p_downloads_as_sent_and_the_download_is_audited(billing, biller):
    _move(billing.claim(), "ready")
    api(biller).post("/api/batches/", {}, format="json")
    batch = SubmissionBatch.objects.get()

    response = api(biller).get(f"/api/batches/{batch.pk}/download/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/edi-x12"
    assert response["Content-Disposition"] == 'attachment; filename="riverside-ACME1-000000001.837"'
    assert response.content.decode() == batch.content
    assert validate_x12(response.content.decode()) == (True, [])
    event = AuditEvent.objects.get(action="export")
    assert (event.object_type, event.object_id, event.username, event.source) == (
        "claims.submissionbatch",
        str(batch.pk),
        "bill",
        "api",
    )


def test_a_batch_says_where_it_is_and_is_marked_sent_by_hand_once_downloaded(billing, biller):
    """Built, then downloaded (by whom, when), then marked sent by hand: the batch's whereabouts follow;
    marking it sent before a download, or twice, is a 400 that names why and changes nothing."""
    _move(billing.claim(), "ready")
    api(biller).post("/api/batches/", {}, format="json")
    batch = SubmissionBatch.objects.get()
    client = api(biller)

    refused = client.post(f"/api/batches/{batch.pk}/mark-sent/")
    assert refused.status_code == 400
    assert refused.json()["error"]["message"] == (
        f"{batch.file_name} was never downloaded: download the file and upload it to the clearinghouse "
        "before marking it sent."
    )
    assert SubmissionBatch.objects.get().status == "built"

    client.get(f"/api/batches/{batch.pk}/download/")
    row = client.get("/api/batches/").json()["results"][0]
    downloaded_on = SubmissionBatch.objects.get().downloaded_at
    assert (row["downloaded_by"], row["marked_sent_at"], row["whereabouts"]["label"]) == (
        "bill",
        None,
        "Downloaded, not marked sent",
    )
    assert row["whereabouts"]["detail"].startswith(
        f"Downloaded by bill on {timezone.localtime(downloaded_on):%m/%d/%Y}"
    )

    marked = client.post(f"/api/batches/{batch.pk}/mark-sent/")
    assert marked.status_code == 200, marked.content
    body = marked.json()
    assert (body["status"], body["marked_sent_by"], body["whereabouts"]["label"]) == (
        "sent",
        "bill",
        "Sent by hand",
    )
    assert body["claims"] == [
        {"id": c.pk, "patient_control_number": c.patient_control_number} for c in batch.claims.all()
    ]
    again = client.post(f"/api/batches/{batch.pk}/mark-sent/")
    assert again.status_code == 400
    assert again.json()["error"]["message"] == f"{batch.file_name} is sent: it is not marked sent again."


def test_the_download_honours_an_x12_accept_header(billing, biller):
    _move(billing.claim(), "ready")
    api(biller).post("/api/batches/", {}, format="json")
    batch = SubmissionBatch.objects.get()
    response = api(biller).get(f"/api/batches/{batch.pk}/download/", HTTP_ACCEPT="application/edi-x12")
    assert (response.status_code, response.content.decode()) == (200, batch.content)


def test_another_practices_batch_is_a_404(billing, biller, outsider):
    _move(billing.claim(), "ready")
    api(biller).post("/api/batches/", {}, format="json")
    batch = SubmissionBatch.objects.get()
    client = api(outsider)
    assert _error(client.get(f"/api/batches/{batch.pk}/"), 404)["code"] == "not_found"
    assert _error(client.get(f"/api/batches/{batch.pk}/download/"), 404)["code"] == "not_found"
    assert client.get("/api/batches/").json()["count"] == 0
    assert not AuditEvent.objects.filter(action="export").exists()


# --- X12 files ---------------------------------------------------------------------------------


def _submitted(billing, pcn):
    claim = billing.claim()
    Claim.objects.filter(pk=claim.pk).update(patient_control_number=pcn)
    return _move(claim, "ready", "submitted")


def test_a_277ca_upload_rejects_the_claim(billing, biller):
    claim = _submitted(billing, "3920394930203")

    response = api(biller).post("/api/x12-files/", _upload("acks/imsweb-x12_277CA_rejected.277"))

    assert response.status_code == 201, response.content
    x12_file = X12File.objects.get()
    assert response.json() == {
        "files": [
            {
                "id": x12_file.pk,
                "file_name": "imsweb-x12_277CA_rejected.277",
                "kind": "277CA",
                "status": "applied",
                "duplicate": False,
                "outcome": {"claims_accepted": 0, "claims_rejected": 1},
                "message": "imsweb-x12_277CA_rejected.277 (277CA claim acknowledgment) imported: "
                "0 claims accepted, 1 claim rejected.",
                "validation": "done",
            }
        ]
    }
    assert (x12_file.source, x12_file.received_by) == ("api", biller)
    claim.refresh_from_db()
    assert claim.status == ClaimStatus.REJECTED
    assert claim.acknowledgments.get().reasons == [
        "Rejected for invalid information: entity's National Provider Identifier (NPI) (billing provider)"
    ]


def test_the_same_upload_again_is_a_duplicate_and_changes_nothing(billing, biller):
    _submitted(billing, "3920394930203")
    client = api(biller)
    first = client.post("/api/x12-files/", _upload("acks/imsweb-x12_277CA_rejected.277")).json()["files"][0]
    before = (_claims_state(), X12File.objects.count())

    response = client.post("/api/x12-files/", _upload("acks/imsweb-x12_277CA_rejected.277"))

    assert response.status_code == 201, response.content
    (again,) = response.json()["files"]
    assert (again["id"], again["status"], again["duplicate"], again["outcome"]) == (
        first["id"],
        "applied",
        True,
        {},
    )
    assert again["message"].startswith("imsweb-x12_277CA_rejected.277: this file was already imported on ")
    assert (_claims_state(), X12File.objects.count()) == before


def test_a_broken_file_is_a_400_with_the_reason_and_is_kept_as_refused(billing, biller):
    before = _claims_state()

    error = _error(api(biller).post("/api/x12-files/", _upload("invalid/imsweb-x12_no_isa_line.837")), 400)

    reason = (
        "This is not an X12 file: it must start with an ISA segment, it starts with "
        "'GS*HC*SENDER CODE*RECEIVER CODE*19991231'."
    )
    message = f"imsweb-x12_no_isa_line.837 was refused: {reason} Nothing was changed."
    assert error == {"status": 400, "code": "invalid", "message": message, "fields": {"file": [message]}}
    x12_file = X12File.objects.get()
    assert (x12_file.status, x12_file.error, x12_file.source) == ("refused", reason, "api")
    assert _claims_state() == before


def test_when_every_file_is_refused_the_400_lists_each(biller):
    error = _error(
        api(biller).post(
            "/api/x12-files/",
            _upload("invalid/imsweb-x12_no_isa_line.837", "invalid/imsweb-x12_bad_first_line.837"),
        ),
        400,
    )
    assert error["message"].startswith("Every file was refused: imsweb-x12_no_isa_line.837 was refused: ")
    assert [message.split(" was refused: ")[0] for message in error["fields"]["file"]] == [
        "imsweb-x12_no_isa_line.837",
        "imsweb-x12_bad_first_line.837",
    ]
    assert list(X12File.objects.values_list("status", flat=True)) == ["refused", "refused"]


def test_a_mixed_upload_gives_each_file_its_result(billing, biller):
    _submitted(billing, "3920394930203")

    response = api(biller).post(
        "/api/x12-files/", _upload("invalid/imsweb-x12_no_isa_line.837", "acks/imsweb-x12_277CA_rejected.277")
    )

    assert response.status_code == 201, response.content
    assert [(row["file_name"], row["status"]) for row in response.json()["files"]] == [
        ("imsweb-x12_no_isa_line.837", "refused"),
        ("imsweb-x12_277CA_rejected.277", "applied"),
    ]


def test_an_upload_without_a_file_is_refused(biller):
    error = _error(api(biller).post("/api/x12-files/", {}), 400)
    assert error["fields"] == {"file": ["This field is required."]}


def test_x12_file_list_leaves_out_the_content_and_the_detail_is_audited(billing, biller, collections_user):
    _submitted(billing, "3920394930203")
    api(biller).post("/api/x12-files/", _upload("acks/imsweb-x12_277CA_rejected.277"))
    x12_file = X12File.objects.get()
    client = api(collections_user)

    (row,) = client.get("/api/x12-files/").json()["results"]
    detail = client.get(f"/api/x12-files/{x12_file.pk}/").json()

    assert set(row) == {
        "id",
        "file_name",
        "kind",
        "status",
        "source",
        "received_at",
        "received_by",
        "error",
        "outcome",
        "warnings",
        "validated_at",
    }
    assert (row["kind"], row["status"], row["source"], row["received_by"], row["error"], row["outcome"]) == (
        "277CA",
        "applied",
        "api",
        "bill",
        "",
        {"claims_accepted": 0, "claims_rejected": 1},
    )
    assert detail["content"] == x12_file.content
    event = AuditEvent.objects.get(action="view")
    assert (event.object_type, event.object_id, event.username) == (
        "claims.x12file",
        str(x12_file.pk),
        "cora",
    )


def test_uploading_needs_claims_edit_and_files_stay_in_their_practice(
    billing, biller, collections_user, outsider
):
    assert (
        _error(
            api(collections_user).post("/api/x12-files/", _upload("acks/imsweb-x12_999_accepted.999")), 403
        )["code"]
        == "permission_denied"
    )
    assert not X12File.objects.exists()
    api(biller).post("/api/x12-files/", _upload("invalid/imsweb-x12_no_isa_line.837"))
    x12_file = X12File.objects.get()
    assert _error(api(outsider).get(f"/api/x12-files/{x12_file.pk}/"), 404)["code"] == "not_found"
    assert api(outsider).get("/api/x12-files/").json()["count"] == 0


# --- Work queues -------------------------------------------------------------------------------


@pytest.fixture
def queued(billing):
    """Two rejected claims (one $185.00, one $203.00) and one draft the scrubber stopped."""
    rejected = [
        _move(billing.claim(), "ready", "submitted", "rejected"),
        _move(
            billing.claim(
                lines=[
                    LineInput(procedure_code="99214", charge=Decimal("185.00"), service_date_from=DOS),
                    LineInput(
                        procedure_code="36415",
                        charge=Decimal("18.00"),
                        service_date_from=DOS - datetime.timedelta(1),
                    ),
                ]
            ),
            "ready",
            "submitted",
            "rejected",
        ),
    ]
    stopped = _too_many_units(billing)
    claims_scrub(queryset=Claim.objects.filter(pk=stopped.pk))
    return rejected, stopped


def test_queue_list_counts_the_claims_of_each_queue(queued, biller):
    response = api(biller).get("/api/queues/")
    assert response.status_code == 200
    body = response.json()
    assert [(q["slug"], q["count"]) for q in body] == [
        ("scrub_errors", 1),
        ("rejected", 2),
        ("denied", 0),
        ("no_response", 0),
        ("underpaid", 0),
        ("deadlines", 0),
        ("ready", 0),
    ]
    assert body[1] == {
        "slug": "rejected",
        "title": "Rejected",
        "count": 2,
        "description": ("Rejected by the clearinghouse or payer (999/277CA): correct and resubmit."),
    }


def test_queue_claims_are_rows_sorted_as_asked(queued, billing, biller):
    (small, large), _stopped = queued
    client = api(biller)

    body = client.get("/api/queues/rejected/claims/", {"sort": "balance"}).json()

    assert body["count"] == 2
    assert body["results"][0] == {
        "id": large.pk,
        "patient_control_number": large.patient_control_number,
        "patient": billing.patient.pk,
        "payer": {"id": billing.payer.pk, "name": "Acme Health", "payer_id": "ACME1"},
        "status": "rejected",
        "service_date": "2026-03-01",
        "balance_total": "203.00",
        "deadline": "2027-03-01",
        "assigned_to": None,
        "scrub_status": "",
    }
    assert [row["id"] for row in body["results"]] == [large.pk, small.pk]
    by_age = client.get("/api/queues/rejected/claims/", {"sort": "age"}).json()["results"]
    assert [row["id"] for row in by_age] == [large.pk, small.pk]
    by_deadline = client.get("/api/queues/rejected/claims/", {"sort": "deadline"}).json()["results"]
    assert [row["deadline"] for row in by_deadline] == ["2027-03-01", "2027-03-02"]


def test_assigning_and_filtering_by_assignee(queued, biller, admin_user):
    (small, large), _stopped = queued
    client = api(biller)

    response = client.post(
        "/api/queues/assign/", {"claim_ids": [small.pk], "assignee": biller.pk}, format="json"
    )
    assert (response.status_code, response.json()) == (200, {"assigned": 1, "assignee": "bill"})
    client.post("/api/queues/assign/", {"claim_ids": [large.pk], "assignee": admin_user.pk}, format="json")

    def ids(**query):
        return [row["id"] for row in client.get("/api/queues/rejected/claims/", query).json()["results"]]

    assert ids(assigned_to="me") == [small.pk]
    assert ids(assigned_to=str(admin_user.pk)) == [large.pk]
    assert (
        client.get("/api/queues/rejected/claims/", {"assigned_to": "me"}).json()["results"][0]["assigned_to"]
        == "bill"
    )
    response = client.post("/api/queues/assign/", {"claim_ids": [large.pk], "assignee": None}, format="json")
    assert response.json() == {"assigned": 1, "assignee": None}
    assert ids(unassigned="1") == [large.pk]
    assert dict(Claim.objects.filter(pk__in=[small.pk, large.pk]).values_list("pk", "assigned_to")) == {
        small.pk: biller.pk,
        large.pk: None,
    }


def test_assigning_to_someone_outside_the_practice_is_refused(queued, biller, outsider, manager):
    (small, _large), _stopped = queued
    manager.memberships.update(is_active=False)
    before = _claims_state()
    client = api(biller)
    for stranger in (outsider, manager):
        error = _error(
            client.post(
                "/api/queues/assign/", {"claim_ids": [small.pk], "assignee": stranger.pk}, format="json"
            ),
            400,
        )
        assert error["fields"] == {"assignee": [f"No member with id {stranger.pk} in this practice."]}
    assert _claims_state() == before


def test_assigning_another_practices_claim_is_refused(queued, biller, other_practice):
    (small, _large), _stopped = queued
    theirs = make_claim(other_practice)
    before = _claims_state()
    error = _error(
        api(biller).post(
            "/api/queues/assign/", {"claim_ids": [small.pk, theirs.pk], "assignee": biller.pk}, format="json"
        ),
        400,
    )
    assert error["fields"] == {"claim_ids": [f"No claim with id {theirs.pk} in this practice."]}
    assert _claims_state() == before


@pytest.mark.parametrize(
    ("query", "field", "message"),
    [
        ({"sort": "name"}, "sort", '"name" is not a valid choice.'),
        ({"assigned_to": "bob"}, "assigned_to", 'Give a user id or "me".'),
        (
            {"assigned_to": "me", "unassigned": "1"},
            "non_field_errors",
            "Give assigned_to or unassigned, not both.",
        ),
    ],
)
def test_bad_queue_filters_are_refused(queued, biller, query, field, message):
    error = _error(api(biller).get("/api/queues/rejected/claims/", query), 400)
    assert error["fields"] == {field: [message]}


def test_an_unknown_queue_is_a_404(biller):
    error = _error(api(biller).get("/api/queues/lost/claims/"), 404)
    assert error["message"].startswith("No queue lost; the queues are scrub_errors, rejected,")


def test_queues_are_for_billers_and_admins(queued, collections_user, manager, admin_user):
    (small, _large), _stopped = queued
    for user in (collections_user, manager):
        client = api(user)
        assert _error(client.get("/api/queues/"), 403)["code"] == "permission_denied"
        assert _error(client.get("/api/queues/rejected/claims/"), 403)["code"] == "permission_denied"
        assert (
            _error(
                client.post(
                    "/api/queues/assign/", {"claim_ids": [small.pk], "assignee": user.pk}, format="json"
                ),
                403,
            )["code"]
            == "permission_denied"
        )
    assert api(admin_user).get("/api/queues/").status_code == 200
    assert Claim.objects.get(pk=small.pk).assigned_to is None


def test_queues_show_only_the_practices_claims(queued, outsider):
    body = api(outsider).get("/api/queues/").json()
    assert {q["count"] for q in body} == {0}
    assert api(outsider).get("/api/queues/rejected/claims/").json()["count"] == 0


@pytest.mark.parametrize("rows", [1, 5])
def test_queue_claims_take_a_fixed_number_of_queries(billing, biller, django_assert_num_queries, rows):
    for _ in range(rows):
        claim = _move(billing.claim(), "ready", "submitted", "rejected")
        Claim.objects.filter(pk=claim.pk).update(assigned_to=biller)
    client = api(biller)
    # membership + contracts (for the deadlines) + count + page (patient, payer and assignee joined)
    with django_assert_num_queries(4):
        body = client.get("/api/queues/rejected/claims/").json()
    assert body["count"] == rows


@pytest.mark.parametrize("claims", [1, 5])
def test_queue_counts_take_a_fixed_number_of_queries(billing, biller, django_assert_num_queries, claims):
    for _ in range(claims):
        _move(billing.claim(), "ready", "submitted", "rejected")
    client = api(biller)
    # membership + per queue: contracts and count (+ payers for no_response)
    with django_assert_num_queries(10):  # + the ready queue's count
        body = client.get("/api/queues/").json()
    assert body[1]["count"] == claims


def test_take_next_gives_the_caller_the_highest_priority_unassigned_claim(queued, biller, admin_user):
    (small, large), _stopped = queued
    client = api(biller)
    response = client.post("/api/queues/rejected/next/")
    assert response.status_code == 200
    assert (response.json()["id"], response.json()["assigned_to"]) == (large.pk, "bill")
    assert client.post("/api/queues/rejected/next/").json()["id"] == small.pk
    error = _error(client.post("/api/queues/rejected/next/"), 404)
    assert (error["code"], error["message"]) == (
        "queue_empty",
        "No unassigned claim left in the rejected queue.",
    )
    assert dict(Claim.objects.filter(pk__in=[small.pk, large.pk]).values_list("pk", "assigned_to")) == {
        small.pk: biller.pk,
        large.pk: biller.pk,
    }
    assert _error(client.post("/api/queues/nonsense/next/"), 404)["message"].startswith("No queue nonsense;")


def test_assigning_with_the_assignee_seen_refuses_to_overwrite_someone_elses_claim(
    queued, biller, admin_user
):
    (small, large), _stopped = queued
    Claim.objects.filter(pk=small.pk).update(assigned_to=admin_user)  # taken since the caller looked
    client = api(biller)
    before = _claims_state()
    error = _error(
        client.post(
            "/api/queues/assign/",
            {"claim_ids": [large.pk, small.pk], "assignee": biller.pk, "expected_assignee": None},
            format="json",
        ),
        409,
    )
    assert error["code"] == "taken"
    assert error["message"] == (
        f"Claim {small.patient_control_number} is now assigned to {admin_user.get_full_name() or 'adam'}; "
        "nothing was changed. Reload to see who works it."
    )
    assert _claims_state() == before
    response = client.post(
        "/api/queues/assign/",
        {"claim_ids": [small.pk], "assignee": biller.pk, "expected_assignee": admin_user.pk},
        format="json",
    )
    assert response.json() == {"assigned": 1, "assignee": "bill"}
