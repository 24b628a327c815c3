"""Statement runs in parts: the run is recorded with its chunks (patient ids only), each chunk a task of its
own so that several workers share a long run; a chunk delivered twice does its work once; a patient who
paid since the run picked them is not billed; one patient's failure is counted and the others go on; the
page starts a run in the background and shows its progress; one run at a time per practice."""

import csv
import datetime
import io
import logging
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from payment_plans import statements
from payment_plans.models import Statement, StatementRun, StatementRunChunk
from payment_plans.services import patient_payment_record
from payment_plans.statements import (
    statement_context,
    statement_contexts,
    statement_html,
    statement_run,
    statement_run_chunk,
    statement_run_queue,
)
from rcm.models import AuditEvent, Patient
from tests.conftest import login
from tests.payment_plans.helpers import insured_claim_with_patient_part, new_patient, self_pay_claim

TODAY = datetime.date(2026, 4, 1)


@pytest.fixture
def three_owing(practice):
    patients = []
    for n, (last, amount) in enumerate([("Adams", "40.00"), ("Baker", "75.00"), ("Cruz", "120.00")]):
        patient = new_patient(practice, first_name="Pat", last_name=last)
        self_pay_claim(practice, patient, amount, day=datetime.date(2026, 3, 2 + n))
        patients.append(patient)
    return patients


@pytest.mark.django_db
def test_the_run_is_recorded_in_chunks_with_their_counts(practice, three_owing, collections_user):
    parts = []
    result = statement_run(
        practice=practice, today=TODAY, user=collections_user, chunk_size=2, progress=parts.append
    )
    record = StatementRun.objects.get()
    assert (result.sent, result.record, record.run) == (3, record, result.run)
    assert (record.selected, record.held, record.source, record.started_by) == (
        3,
        0,
        "command",
        collections_user,
    )
    assert record.finished_at is not None
    chunks = list(record.chunks.order_by("number"))
    assert [(c.number, c.patient_ids, c.sent, c.not_sent, c.failed) for c in chunks] == [
        (1, [three_owing[0].pk, three_owing[1].pk], 2, 0, 0),
        (2, [three_owing[2].pk], 1, 0, 0),
    ]
    assert [p.number for p in parts] == [1, 2]
    assert set(Statement.objects.values_list("run", flat=True)) == {record.run}


@pytest.mark.django_db
def test_nobody_due_is_a_finished_run_without_chunks(practice):
    result = statement_run(practice=practice, today=TODAY)
    record = StatementRun.objects.get()
    assert (result.sent, record.selected, record.chunks.count()) == (0, 0, 0)
    assert record.finished_at is not None


@pytest.mark.django_db
def test_a_chunk_delivered_twice_sends_nothing_twice(practice, three_owing):
    record = statement_run_queue(practice=practice, today=TODAY)  # queued: no worker in this test
    chunk_id = record.chunks.get().pk
    first = statement_run_chunk(chunk_id)
    done_at = first.done_at
    assert (first.sent, first.not_sent, Statement.objects.count()) == (3, 0, 3)
    StatementRunChunk.objects.filter(pk=chunk_id).update(
        done_at=None
    )  # as if the worker died before marking it
    again = statement_run_chunk(chunk_id)
    assert (again.sent, again.not_sent, Statement.objects.count()) == (0, 3, 3)
    assert statement_run_chunk(chunk_id).done_at == again.done_at != done_at  # a done chunk returns at once
    record.refresh_from_db()
    assert record.finished_at is not None


@pytest.mark.django_db
def test_paid_since_picked_is_not_sent_and_a_failure_does_not_stop_the_others(
    practice, three_owing, collections_user, monkeypatch, caplog
):
    record = statement_run_queue(practice=practice, today=TODAY)
    adams, baker, cruz = three_owing
    patient_payment_record(
        practice=practice,
        patient=adams,
        amount=Decimal("40.00"),
        method="cash",
        received_on=TODAY,
        user=collections_user,
    )
    real_html = statements.statement_html

    def html(context):
        if context["patient"].pk == baker.pk:
            raise RuntimeError("broken address")
        return real_html(context)

    monkeypatch.setattr("payment_plans.statements.statement_html", html)
    with caplog.at_level(logging.ERROR, logger="payment_plans.statements"):
        chunk = statement_run_chunk(record.chunks.get().pk)
    assert (chunk.sent, chunk.not_sent, chunk.failed) == (1, 1, 1)
    assert list(Statement.objects.values_list("patient", flat=True)) == [cruz.pk]
    assert f"patient id {baker.pk} failed" in caplog.text and "Baker" not in caplog.text  # no PHI in the log


@pytest.mark.django_db
def test_a_chunk_records_its_statements_together_and_each_alone_when_the_batch_is_refused(
    practice, three_owing, monkeypatch, caplog
):
    """One transaction for the chunk's statements; when it is refused (one recorded meanwhile by another
    run, one patient's claims that cannot move), each is recorded on its own and only that one is lost."""
    adams, baker, cruz = three_owing
    record = statement_run_queue(practice=practice, today=TODAY)
    real_render = statements.statement_html_to_pdf
    rendered = []

    def render(html):  # while the chunk renders Cruz, another run records Baker's statement of the day
        rendered.append(html)
        if len(rendered) == 3:
            Statement.objects.create(
                practice=practice,
                patient=baker,
                key=statements.statement_key(practice.pk, baker.pk, TODAY, "statement"),
                statement_date=TODAY,
                balance=Decimal("75.00"),
                pdf=b"%PDF",
            )
        return real_render(html)

    real_bill = statements.claims_bill_patient

    def bill(*, patient_ids, **kwargs):
        if cruz.pk in patient_ids:
            raise RuntimeError("claim locked")
        return real_bill(patient_ids=patient_ids, **kwargs)

    monkeypatch.setattr("payment_plans.statements.statement_html_to_pdf", render)
    monkeypatch.setattr("payment_plans.statements.claims_bill_patient", bill)
    with caplog.at_level(logging.ERROR, logger="payment_plans.statements"):
        chunk = statement_run_chunk(record.chunks.get().pk)
    assert (chunk.sent, chunk.not_sent, chunk.failed) == (1, 1, 1)
    assert sorted(Statement.objects.values_list("patient_id", "run")) == sorted(
        [(adams.pk, record.run), (baker.pk, "")]
    )
    assert f"patient id {cruz.pk} failed" in caplog.text
    assert list(
        AuditEvent.objects.filter(object_type="payment_plans.statement").values_list("object_id", flat=True)
    ) == [str(Statement.objects.get(patient=adams).pk)]
    assert adams.claims.get().status == "patient_billed" and cruz.claims.get().status != "patient_billed"


@pytest.mark.django_db
def test_a_chunk_reads_and_records_in_the_same_queries_whatever_its_size(practice, three_owing):
    """Reading the chunk's accounts and recording its statements take a fixed number of queries: 3 patients
    or 6 (a chunk of 100 does not make 1,200 queries)."""

    def queries_for_a_chunk_of(patients):
        record, chunk_ids = statements._run_record(
            practice,
            TODAY,
            [statements.DuePatient(p.pk, "", "", "", Decimal(1), None) for p in patients],
            {},
            None,
            "beat",
            100,
        )
        with CaptureQueriesContext(connection) as captured:
            chunk = statement_run_chunk(chunk_ids[0])
        assert chunk.sent == len(patients)
        return len(captured)

    three = queries_for_a_chunk_of(three_owing)
    more = []
    for n, last in enumerate(["Dunn", "Ellis", "Fox", "Gray", "Hale", "Irwin"]):
        patient = new_patient(practice, first_name="Pat", last_name=last)
        self_pay_claim(practice, patient, "30.00", day=TODAY - datetime.timedelta(days=40 + n))
        more.append(patient)
    assert queries_for_a_chunk_of(more) == three


@pytest.mark.django_db
def test_one_run_at_a_time_and_a_stale_run_does_not_block(practice, three_owing):
    going = statement_run_queue(practice=practice, today=TODAY)
    with pytest.raises(ValidationError, match="is still going: wait for it to finish"):
        statement_run_queue(practice=practice, today=TODAY)
    StatementRun.objects.filter(pk=going.pk).update(started_at=timezone.now() - datetime.timedelta(hours=25))
    assert statement_run_queue(practice=practice, today=TODAY).pk != going.pk


@pytest.mark.django_db
def test_the_page_starts_a_run_in_the_background_and_shows_its_progress(
    practice, three_owing, collections_user, settings, django_capture_on_commit_callbacks
):
    client = login(collections_user)
    queued = client.post("/collections/statements/")  # no worker: the run waits, the page says so
    record = StatementRun.objects.get()
    assert queued.status_code == 302 and queued["Location"] == f"/collections/statements/runs/{record.pk}/"
    page = client.get(queued["Location"]).content.decode()
    assert "Rendering statements" in page and 'hx-trigger="every 2s"' in page and "0 of 1 parts done" in page
    listing = client.get("/collections/statements/").content.decode()
    assert "A run is going: see its progress" in listing and "Send 3 statements" not in listing
    refused = client.post("/collections/statements/", follow=True).content.decode()
    assert "is still going: wait for it to finish" in refused and StatementRun.objects.count() == 1

    statement_run_chunk(record.chunks.get().pk)  # the worker's turn
    page = client.get(f"/collections/statements/runs/{record.pk}/").content.decode()
    assert "Done" in page and "hx-trigger" not in page and "100% · 3 sent · 0 not sent · 0 failed" in page
    assert page.count("/account/statements/") == 3  # each statement's PDF

    settings.CELERY_TASK_ALWAYS_EAGER = True  # with a worker at hand, the chunk runs once the run commits
    self_pay_claim(practice, new_patient(practice, last_name="Diaz"), "60.00")
    with django_capture_on_commit_callbacks(execute=True):
        started = client.post("/collections/statements/")
    assert "100% · 1 sent · 0 not sent · 0 failed" in client.get(started["Location"]).content.decode()


@pytest.mark.django_db
def test_run_pages_are_scoped_roles_enforced_and_queries_fixed(
    practice, three_owing, manager, outsider, django_assert_num_queries
):
    record = statement_run_queue(practice=practice, today=TODAY)
    statement_run_chunk(record.chunks.get().pk)
    assert login(outsider).get(f"/collections/statements/runs/{record.pk}/").status_code == 404
    assert login(manager).post("/collections/statements/").status_code == 403
    client = login(manager)
    client.get(f"/collections/statements/runs/{record.pk}/")
    with django_assert_num_queries(6):  # session, user, membership, the run, its statements, nav
        assert client.get(f"/collections/statements/runs/{record.pk}/").status_code == 200


@pytest.mark.django_db
def test_a_chunk_reads_its_accounts_together_and_says_what_one_at_a_time_would(practice, three_owing):
    insured = new_patient(practice, first_name="Ines", last_name="Ortiz")
    insured_claim_with_patient_part(
        practice, insured, charge="200.00", paid="120.00", deductible="50.00", copay="0.00"
    )
    patients = [insured, *three_owing]
    with CaptureQueriesContext(connection) as one:
        alone = statement_context(insured, today=TODAY)
    with CaptureQueriesContext(connection) as four:
        together = statement_contexts(patients, today=TODAY)
    assert "Deductible" in statement_html(together[insured.pk])
    for patient in patients:
        assert statement_html(together[patient.pk]) == statement_html(statement_context(patient, today=TODAY))
    assert statement_html(alone) == statement_html(together[insured.pk])
    # settings, claims, lines, ledger rows, totals and open plans: once for one patient or four
    assert len(four.captured_queries) == len(one.captured_queries)


@pytest.mark.django_db
def test_a_runs_statements_export_as_a_mailing_list_and_the_export_is_audited(
    practice, three_owing, collections_user
):
    adams = three_owing[0]
    Patient.objects.filter(pk=adams.pk).update(
        address_line1="=HYPERLINK(1)", city="Springfield", state="IL", postal_code="62701"
    )
    record = statement_run_queue(practice=practice, today=TODAY)
    statement_run_chunk(record.chunks.get().pk)
    response = login(collections_user).get(f"/collections/statements/runs/{record.pk}/?format=csv")
    assert response["Content-Type"] == "text/csv" and "no-store" in response["Cache-Control"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows[0][:4] == ["Account #", "Last name", "First name", "Address"]
    assert [row[1] for row in rows[1:]] == ["Adams", "Baker", "Cruz"]
    first = rows[1]
    assert first[3] == "'=HYPERLINK(1)"  # a formula is neutralised
    assert first[5:11] == ["Springfield", "IL", "62701", "Statement", TODAY.isoformat(), "40.00"]
    event = AuditEvent.objects.get(action="export", object_type="payment_plans.statementrun")
    assert (event.object_id, event.user) == (str(record.pk), collections_user)


@pytest.mark.django_db
def test_a_stale_run_does_not_hide_the_send_button(practice, three_owing, collections_user):
    going = statement_run_queue(practice=practice, today=TODAY)
    client = login(collections_user)
    assert "A run is going" in client.get("/collections/statements/").content.decode()
    StatementRun.objects.filter(pk=going.pk).update(started_at=timezone.now() - datetime.timedelta(hours=25))
    page = client.get("/collections/statements/").content.decode()
    assert "A run is going" not in page and "Send 3 statements" in page
