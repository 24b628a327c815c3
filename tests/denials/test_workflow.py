"""The denial workflow from the 835 on: root cause, deadline and flags filled by posting; the state
machine with history; assignment; corrected claim and void; write-off; the overturn a later 835 brings.
Bad input refused with nothing changed."""

import datetime
import io
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from pypdf import PdfReader

from claims.models import ClaimStatus, RemittanceException, Transaction
from claims.submission.batches import claims_submit
from denials.letters import letter_create, letter_finalize, letter_mark_sent, letter_record_outcome
from denials.models import AppealLetter, Denial, DenialNote, DenialStatusChange, RootCauseRule
from denials.services import (
    denial_correct,
    denial_review,
    denial_take_next,
    denial_void,
    denial_write_off,
    denials_assign,
    rule_save,
    rules_apply_to_open,
)
from denials.state_machine import IllegalDenialTransition, denials_transition
from tests.denials.conftest import BOTH_DENIED, BOTH_PAID, post_era, two_line_claim

D = Decimal


def _denials(claim):
    return list(
        Denial.objects.filter(claim=claim)
        .order_by("line__line_number", "pk")
        .values_list("line__procedure_code", "reason_code", "status", "recovered_amount")
    )


def _history(denial):
    return list(denial.status_history.values_list("from_status", "to_status", "reason"))


# --- posting fills the record ------------------------------------------------------------------------


def test_posting_fills_root_cause_owner_deadline_and_remit_date(denied):
    rows = list(
        Denial.objects.filter(claim=denied)
        .order_by("line__line_number")
        .values_list(
            "line__procedure_code",
            "category",
            "owner",
            "preventable",
            "status",
            "remit_date",
            "appeal_deadline",
            "unknown_code",
            "amount",
        )
    )
    # The Acme contract in force on the date of service allows 180 days from the remit date (03/20/2026).
    deadline = datetime.date(2026, 9, 16)
    assert rows == [
        (
            "99214",
            "medical_necessity",
            "provider",
            False,
            "new",
            datetime.date(2026, 3, 20),
            deadline,
            False,
            D("185.00"),
        ),
        (
            "36415",
            "medical_necessity",
            "provider",
            False,
            "new",
            datetime.date(2026, 3, 20),
            deadline,
            False,
            D("18.00"),
        ),
    ]


def test_an_unknown_carc_is_stored_and_flagged_never_dropped(billing):
    claim = two_line_claim(billing)
    post_era(
        billing,
        claim,
        [
            dict(code="99214", charge="185", paid="0", cas=[("CO", "Z99", "185")]),
            dict(code="36415", charge="18", paid="0", cas=[("CO", "50", "18")]),
        ],
        "4",
    )
    assert list(
        Denial.objects.filter(claim=claim)
        .order_by("line__line_number")
        .values_list("reason_code", "category", "owner", "unknown_code", "amount")
    ) == [
        ("Z99", "other", "billing", True, D("185.00")),
        ("50", "medical_necessity", "provider", False, D("18.00")),
    ]


def test_the_practice_rule_overrides_the_reference_and_can_be_applied_to_open_denials(
    billing, denied, manager
):
    rule_save(
        practice=billing.practice,
        reason_code="50",
        category="documentation",
        owner="coding",
        preventable=True,
        what_to_do="Send the op note.",
        user=manager,
    )
    # Existing denials keep their reading until the manager applies the change.
    assert set(Denial.objects.values_list("category", "owner", "preventable")) == {
        ("medical_necessity", "provider", False)
    }
    assert rules_apply_to_open(practice=billing.practice, user=manager) == 2
    assert set(Denial.objects.values_list("category", "owner", "preventable")) == {
        ("documentation", "coding", True)
    }
    # And new denials read it at once.
    other = two_line_claim(billing)
    post_era(billing, other, BOTH_DENIED, "4", trace="EFT2", control="000000102")
    assert set(Denial.objects.filter(claim=other).values_list("category", "owner", "preventable")) == {
        ("documentation", "coding", True)
    }


def test_a_bad_rule_is_refused_and_nothing_saved(billing, manager):
    with pytest.raises(ValidationError) as error:
        rule_save(
            practice=billing.practice,
            reason_code="50",
            category="nope",
            owner="janitor",
            preventable=True,
            what_to_do="",
        )
    assert set(error.value.message_dict) == {"category", "owner"}
    assert RootCauseRule.objects.count() == 0


# --- state machine and assignment --------------------------------------------------------------------


def test_review_moves_to_in_review_with_history_and_takes_it(denied, biller):
    denial = Denial.objects.filter(claim=denied).order_by("pk").first()
    moved = denial_review(denial=denial, user=biller)
    assert (moved.status, moved.assignee) == ("in_review", biller)
    assert _history(moved) == [("new", "in_review", "In review")]
    assert list(DenialNote.objects.values_list("text", flat=True)) == ["Assigned to bill."]


def test_an_illegal_move_is_refused_and_changes_nothing(denied, biller):
    denials = list(Denial.objects.filter(claim=denied))
    denials_transition(denials=denials[:1], to_status="written_off", user=biller)
    with pytest.raises(IllegalDenialTransition, match="is written off and cannot become in review"):
        denials_transition(denials=denials, to_status="in_review", user=biller)
    assert sorted(Denial.objects.values_list("status", flat=True)) == ["new", "written_off"]
    assert DenialStatusChange.objects.count() == 1


def test_bulk_assign_is_all_or_none(billing, denied, biller, manager, outsider):
    ids = list(Denial.objects.values_list("pk", flat=True))
    with pytest.raises(ValidationError, match="cannot work denials in this practice"):
        denials_assign(practice=billing.practice, denial_ids=ids, assignee=manager)
    with pytest.raises(ValidationError, match="No denial 999999 in this practice"):
        denials_assign(practice=billing.practice, denial_ids=[*ids, 999999], assignee=biller)
    assert Denial.objects.filter(assignee__isnull=False).count() == 0
    denials_assign(practice=billing.practice, denial_ids=ids, assignee=biller, user=biller)
    assert Denial.objects.filter(assignee=biller).count() == 2


def test_take_next_gives_the_biggest_unassigned_then_says_empty(billing, denied, biller):
    first = denial_take_next(practice=billing.practice, user=biller)
    assert (first.line.procedure_code, first.assignee) == ("99214", biller)
    second = denial_take_next(practice=billing.practice, user=biller)
    assert second.line.procedure_code == "36415"
    assert denial_take_next(practice=billing.practice, user=biller) is None


# --- write-off ----------------------------------------------------------------------------------------


def test_write_off_twice_is_refused_and_changes_nothing(denied, biller):
    denial_write_off(claim=denied, reason="Not worth appealing", user=biller)
    assert [row[2] for row in _denials(denied)] == ["written_off", "written_off"]
    count = Transaction.objects.count()
    with pytest.raises(ValidationError, match="is already written off"):
        denial_write_off(claim=denied, reason="again", user=biller)
    assert Transaction.objects.count() == count
    denial = Denial.objects.filter(claim=denied).first()
    assert _history(denial) == [("new", "written_off", "Written off: Not worth appealing")]


# --- corrected claim and void ------------------------------------------------------------------------


def test_corrected_claim_goes_out_as_frequency_7_with_ref_f8_and_the_next_835_overturns(
    billing, denied, biller
):
    claim = denial_correct(claim=denied, user=biller, prior_authorization="AUTH778")
    assert (claim.frequency_code, claim.status, claim.prior_authorization) == ("7", "ready", "AUTH778")
    assert [row[2] for row in _denials(claim)] == ["corrected", "corrected"]
    result = claims_submit(practice=billing.practice, claim_ids=[claim.pk], user=biller)
    assert result.refused == {}
    content = result.batches[0].content
    assert f"CLM*{claim.patient_control_number}*203*" in content
    assert "*11:B:7*" in content
    assert f"REF*F8*PCN{claim.patient_control_number}~" in content
    post_era(billing, claim, BOTH_PAID, "1", trace="EFT2", control="000000102", date="20260410")
    assert RemittanceException.objects.count() == 0
    assert claim.status == ClaimStatus.PAID
    assert _denials(claim) == [
        ("99214", "50", "overturned", D("80.00")),
        ("36415", "50", "overturned", D("10.00")),
    ]


def test_corrected_claim_for_a_claim_never_adjudicated_is_refused(billing, biller):
    claim = two_line_claim(billing)
    with pytest.raises(ValidationError, match="was never adjudicated by the payer"):
        denial_correct(claim=claim, user=biller)
    claim.refresh_from_db()
    assert (claim.status, claim.frequency_code) == ("accepted", "1")


def test_void_goes_out_as_frequency_8_and_voids_the_denials(denied, biller):
    with pytest.raises(ValidationError, match="Say why"):
        denial_void(claim=denied, reason=" ", user=biller)
    claim = denial_void(claim=denied, reason="Billed to the wrong patient", user=biller)
    assert (claim.frequency_code, claim.status) == ("8", "ready")
    assert [row[2] for row in _denials(claim)] == ["voided", "voided"]


# --- appeal letters and the overturn ------------------------------------------------------------------


def _pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def test_letter_pdf_sent_and_the_next_835_overturns(billing, denied, biller):
    denial = Denial.objects.filter(claim=denied, line__procedure_code="99214").get()
    letter = letter_create(denial=denial, user=biller)
    assert letter.template == "medical_necessity"
    assert "Re: Appeal of a medical necessity denial" in letter.body
    assert (
        "- CO-50 (the payer does not consider the service medically necessary) on line 1 (99214): "
        "$185.00 denied" in letter.body
    )
    letter.body = letter.body.replace("Dear Appeals Reviewer,", "Dear Dr. Payer,")
    from denials.letters import letter_update

    letter_update(letter=letter, body=letter.body, user=biller)
    letter = letter_finalize(letter=letter, user=biller)
    text = _pdf_text(bytes(letter.pdf))
    assert "Dear Dr. Payer," in text
    assert "Patient: Elena Garcia, date of birth 04/09/1968" in text
    assert (
        f"Claim number: {denied.patient_control_number}; "
        f"payer claim number: PCN{denied.patient_control_number}" in text
    )
    with pytest.raises(ValidationError, match="is final"):
        letter_update(letter=letter, body="changed", user=biller)
    letter_mark_sent(letter=letter, sent_on=datetime.date(2026, 4, 1), channel="fax", user=biller)
    denied.refresh_from_db()
    assert denied.status == "appealed"
    assert [row[2] for row in _denials(denied)] == ["appealed", "appealed"]
    # The payer reprocesses and pays the visit but not the venipuncture.
    post_era(
        billing,
        denied,
        [BOTH_PAID[0], dict(code="36415", charge="18", paid="0", cas=[("CO", "50", "18")])],
        "1",
        trace="EFT2",
        control="000000102",
        date="20260501",
    )
    assert RemittanceException.objects.count() == 0
    assert denied.status == "partially_paid"
    assert _denials(denied) == [
        ("99214", "50", "overturned", D("80.00")),
        ("36415", "50", "upheld", D("0.00")),
        ("36415", "50", "new", D("0.00")),
    ]
    letter.refresh_from_db()
    assert letter.outcome == "partly_overturned"


def test_appeal_after_the_deadline_is_allowed_warned_and_recorded(billing, denied, biller):
    Denial.objects.filter(claim=denied).update(appeal_deadline=datetime.date(2026, 1, 1))
    denial = Denial.objects.filter(claim=denied).order_by("pk").first()
    letter = letter_create(denial=denial, user=biller)
    assert letter.after_deadline is True
    letter = letter_finalize(letter=letter, user=biller)
    letter_mark_sent(letter=letter, sent_on=datetime.date(2026, 4, 1), channel="mail", user=biller)
    denial.refresh_from_db()
    assert _history(denial) == [
        ("new", "appealed", "Appeal letter sent by mail after the deadline (01/01/2026)")
    ]


def test_a_letter_given_a_moment_is_drafted_made_final_and_sent_then(denied, biller):
    """``at`` dates the letter, its PDF and the appeal it files (the demo back-dates its letters); a date
    sent after that day is refused and changes nothing."""
    Denial.objects.filter(claim=denied).update(appeal_deadline=datetime.date(2026, 4, 10))
    denial = Denial.objects.filter(claim=denied).order_by("pk").first()
    drafted = datetime.datetime(2026, 4, 6, 14, tzinfo=datetime.UTC)
    letter = letter_create(denial=denial, user=biller, at=drafted)
    assert (letter.created_at, letter.after_deadline) == (drafted, False)
    assert "\nApril 6, 2026\n" in letter.body
    final = drafted + datetime.timedelta(hours=1)
    letter = letter_finalize(letter=letter, user=biller, at=final)
    assert letter.finalized_at == final
    moves = denied.status_history.count()
    with pytest.raises(ValidationError, match="today or earlier"):
        letter_mark_sent(
            letter=letter, sent_on=datetime.date(2026, 4, 7), channel="fax", user=biller, at=final
        )
    assert AppealLetter.objects.get(pk=letter.pk).sent_on is None
    assert (denied.status_history.count(), denial.status_history.count()) == (moves, 0)
    letter_mark_sent(letter=letter, sent_on=datetime.date(2026, 4, 6), channel="fax", user=biller, at=final)
    assert denied.status_history.get(to_status="appealed").at == final
    assert list(denial.status_history.values_list("to_status", "at")) == [("appealed", final)]


def test_upheld_outcome_sends_the_claim_back_to_denied(denied, biller):
    denial = Denial.objects.filter(claim=denied).order_by("pk").first()
    letter = letter_finalize(letter=letter_create(denial=denial, user=biller), user=biller)
    with pytest.raises(ValidationError, match="Mark the letter sent"):
        letter_record_outcome(letter=letter, outcome="upheld", user=biller)
    letter_mark_sent(letter=letter, sent_on=datetime.date(2026, 4, 1), channel="portal", user=biller)
    letter = letter_record_outcome(letter=letter, outcome="upheld", user=biller)
    denied.refresh_from_db()
    assert (denied.status, letter.outcome) == ("denied", "upheld")
    assert [row[2] for row in _denials(denied)] == ["upheld", "upheld"]


def test_a_broken_letter_template_is_a_clear_error_and_no_letter(denied, biller, settings, tmp_path):
    folder = tmp_path / "denials" / "letters"
    folder.mkdir(parents=True)
    (folder / "medical_necessity.txt").write_text("{% if %}broken")
    settings.TEMPLATES = [{**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}]
    denial = Denial.objects.filter(claim=denied).first()
    with pytest.raises(ValidationError, match="medical necessity letter template has an error"):
        letter_create(denial=denial, user=biller)
    assert AppealLetter.objects.count() == 0
