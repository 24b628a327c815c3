"""Statements: the PDF says what was billed, paid, adjusted and owed and why, and how to pay; the run
respects the cycle and holds, records each statement, moves claims to patient-billed, and sends
nothing twice (service, command and task)."""

import datetime
import io
from decimal import Decimal

import pytest
from django.core.management import call_command

from claims.models import Claim, ClaimStatus
from payment_plans.collections import account_hold_set
from payment_plans.models import CollectionsSettings, Statement, StatementKind, StatementRun
from payment_plans.services import patient_payment_record
from payment_plans.statements import (
    STATEMENT_HOLD_SOURCES,
    statement_candidates,
    statement_run,
    statement_send,
)
from tests.payment_plans.helpers import insured_claim_with_patient_part, new_patient, self_pay_claim
from tests.pdfs import pdf_text

TODAY = datetime.date(2026, 4, 1)


@pytest.fixture
def owing(practice):
    practice.address_line1, practice.city, practice.state, practice.postal_code = (
        "100 River Rd",
        "Springfield",
        "IL",
        "62701",
    )
    practice.phone = "217-555-0100"
    practice.save()
    patient = new_patient(practice, first_name="Elena", last_name="Garcia")
    insured_claim_with_patient_part(
        practice, patient, charge="200.00", paid="120.00", deductible="50.00", copay="0.00"
    )
    self_pay_claim(practice, patient, "75.00", day=datetime.date(2026, 3, 2))
    return patient


@pytest.mark.django_db
def test_statement_pdf_says_what_was_billed_paid_owed_and_why(practice, owing):
    patient_payment_record(
        practice=practice, patient=owing, amount="25.00", method="cash", received_on=TODAY, user=None
    )
    statement = statement_send(practice=practice, patient=owing, today=TODAY)
    assert (statement.balance, statement.credit, statement.claim_count) == (
        Decimal("100.00"),
        Decimal("0.00"),
        2,
    )
    text = pdf_text(statement.pdf)
    for expected in (
        "Riverside Family Medicine",
        "100 River Rd",
        "Statement",
        "Elena Garcia",
        "Amount you owe $100.00",
        "Deductible: $50.00",
        "Self-pay (no insurance billed): $75.00",
        "Totals $275.00 $120.00 $30.00 $25.00 $100.00",
        "No payment plan",
        "How to pay",
        "217-555-0100",
    ):
        assert expected in text, expected


@pytest.mark.django_db
def test_run_sends_once_per_cycle_and_moves_claims_to_patient_billed(practice, owing, collections_user):
    quiet = new_patient(practice)
    self_pay_claim(practice, quiet, "3.00")  # below the $5.00 minimum
    result = statement_run(practice=practice, today=TODAY, user=collections_user)
    assert result.sent == 1 and [p.pk for p in result.selected] == [owing.pk]
    assert set(Claim.objects.filter(patient=owing).values_list("status", flat=True)) == {
        ClaimStatus.PATIENT_BILLED
    }
    statement = Statement.objects.get()
    assert (statement.patient, statement.statement_date, statement.sent_by) == (
        owing,
        TODAY,
        collections_user,
    )

    again = statement_run(practice=practice, today=TODAY)
    assert again.sent == 0 and owing.pk in again.skipped
    in_cycle = statement_run(practice=practice, today=TODAY + datetime.timedelta(days=29))
    assert in_cycle.sent == 0 and "within the 30-day cycle" in in_cycle.skipped[owing.pk]
    next_cycle = statement_run(practice=practice, today=TODAY + datetime.timedelta(days=30))
    assert next_cycle.sent == 1 and Statement.objects.count() == 2


@pytest.mark.django_db
def test_practice_cycle_setting_and_holds_are_respected(practice, owing, collections_user):
    CollectionsSettings.objects.create(practice=practice, statement_cycle_days=7)
    statement_send(practice=practice, patient=owing, today=TODAY)
    assert statement_candidates(practice, today=TODAY + datetime.timedelta(days=6))[0] == []
    assert [p.pk for p in statement_candidates(practice, today=TODAY + datetime.timedelta(days=7))[0]] == [
        owing.pk
    ]
    account_hold_set(practice=practice, patient=owing, user=collections_user, reason="Says it was paid")
    selected, skipped = statement_candidates(practice, today=TODAY + datetime.timedelta(days=7))
    assert selected == [] and skipped == {owing.pk: "on hold: dispute"}


@pytest.mark.django_db
def test_a_hold_hook_keeps_a_plan_patient_out(practice, owing, monkeypatch):
    monkeypatch.setattr(
        "payment_plans.statements.STATEMENT_HOLD_SOURCES", [lambda practice, ids: {owing.pk: "plan current"}]
    )
    assert STATEMENT_HOLD_SOURCES == []  # the module attribute was replaced, not the list changed
    assert statement_candidates(practice, today=TODAY) == ([], {owing.pk: "plan current"})


@pytest.mark.django_db
def test_command_dry_run_sends_nothing_and_real_run_sends(practice, owing):
    out = io.StringIO()
    call_command("statement_run", "--practice", practice.slug, "--dry-run", stdout=out)
    assert (
        out.getvalue().strip()
        == "riverside: Dry run: 1 statement(s) would be sent; 0 held or within the statement cycle."
    )
    assert Statement.objects.count() == 0
    out = io.StringIO()
    call_command("statement_run", "--practice", practice.slug, stdout=out)
    assert out.getvalue().splitlines() == [
        "riverside: part 1: 1 sent, 0 not sent, 0 failed",
        "riverside: 1 statement(s) sent of 1 due; 0 held or within the statement cycle.",
    ]
    assert Statement.objects.count() == 1


@pytest.mark.django_db
def test_task_runs_the_service(practice, owing, settings, django_capture_on_commit_callbacks):
    from payment_plans.tasks import statement_run_practice

    settings.CELERY_TASK_ALWAYS_EAGER = True
    with django_capture_on_commit_callbacks(execute=True):  # the chunk's task is queued after commit
        assert statement_run_practice.apply(args=[practice.pk]).get() == 1  # one chunk queued
    with django_capture_on_commit_callbacks(execute=True):
        assert statement_run_practice.apply(args=[practice.pk]).get() == 0  # twice: nothing twice
    statement = Statement.objects.get()
    assert statement.kind == StatementKind.STATEMENT
    assert StatementRun.objects.filter(run=statement.run, source="beat", finished_at__isnull=False).exists()


@pytest.mark.django_db
def test_final_notice_says_so(practice, owing):
    notice = statement_send(practice=practice, patient=owing, today=TODAY, kind=StatementKind.FINAL_NOTICE)
    assert "This is a final notice" in pdf_text(notice.pdf)


@pytest.mark.django_db
def test_what_a_patient_owes_is_counted_once_however_many_statements_were_sent(practice, owing):
    for days in (0, 30, 60):
        statement_send(practice=practice, patient=owing, today=TODAY + datetime.timedelta(days=days))
    (patient,), skipped = statement_candidates(practice, today=TODAY + datetime.timedelta(days=90))
    assert (patient.owed, patient.last_statement, skipped) == (
        Decimal("125.00"),
        TODAY + datetime.timedelta(days=60),
        {},
    )


@pytest.mark.django_db
def test_a_long_statement_numbers_its_pages_and_totals_once_at_the_end(practice):
    patient = new_patient(practice, first_name="Lena", last_name="Long", account_number="A7700")
    for n in range(20):  # 20 visits of 4 lines: more than a page
        self_pay_claim(
            practice,
            patient,
            "100.00",
            "20.00",
            "15.00",
            "10.00",
            day=TODAY - datetime.timedelta(days=60 + n),
        )
    text = pdf_text(statement_send(practice=practice, patient=patient, today=TODAY).pdf)
    pages = text.count("Account A7700 Page ")
    assert pages >= 2 and f"Page {pages} of {pages}" in text and "Page 1 of" in text
    assert text.count("Totals") == 1  # not repeated at the foot of each page
    assert text.index("Totals") > text.index("Visit and service", text.index("Page 1 of"))  # after page 1
    assert "Totals $2,900.00 $0.00 $0.00 $0.00 $2,900.00" in text
