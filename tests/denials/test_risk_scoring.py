"""The stored denial risk: learned from posted ERAs, written per ready claim by the nightly service and
task, shown in the Ready queue (one query for the page whatever its rows) and on the claim page."""

import datetime
import io
import re
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.core.management import CommandError, call_command
from django.utils import timezone

from claims.edi.intake import x12_import
from claims.scrubber.ncci import ncci_load_samples
from claims.services import LineInput
from claims.state_machine import claim_transition
from denials.models import DenialRisk
from denials.services import denial_risks_compute
from denials.tasks import compute_risks_nightly
from tests.claims.conftest import DOS, Billing
from tests.claims.era_builder import era
from tests.claims.test_pages_queues import QUEUE_PAGE_QUERIES
from tests.conftest import login

D = Decimal
TOMORROW = timezone.localdate() + datetime.timedelta(days=1)


@pytest.fixture
def billing(practice):
    ncci_load_samples()
    return Billing(practice)


def _claim(billing, status="ready"):
    claim = billing.claim(
        lines=[
            LineInput(
                procedure_code="99214", charge=D("185.00"), service_date_from=DOS, diagnosis_pointers=[1, 2]
            ),
            LineInput(
                procedure_code="36415", charge=D("18.00"), service_date_from=DOS, diagnosis_pointers=[2]
            ),
        ]
    )
    path = {"ready": ["ready"], "accepted": ["ready", "submitted", "accepted"]}[status]
    for to_status in path:
        claim_transition(claim=claim, to_status=to_status)
    return claim


def _post(billing, claim, services, status, trace):
    paid = sum(D(s["paid"]) for s in services)
    result = x12_import(
        practice=billing.practice,
        file_name=f"{trace}.835",
        content=era(
            trace=trace,
            claims=[
                dict(
                    pcn=claim.patient_control_number,
                    status=status,
                    charge="203",
                    paid=paid,
                    services=services,
                )
            ],
        ),
    )
    assert result.applied, result.file.error


@pytest.fixture
def history(billing):
    """Acme: one claim paid the visit and denied the venipuncture CO-97; one denied both lines CO-50.
    4 lines, 3 denied (99214: 1 of 2, CARC 50; 36415: 2 of 2)."""
    first = _claim(billing, "accepted")
    _post(
        billing,
        first,
        [
            dict(code="99214", charge="185", paid="80", cas=[("CO", "45", "85"), ("PR", "2", "20")]),
            dict(code="36415", charge="18", paid="0", cas=[("CO", "97", "18")]),
        ],
        "1",
        "EFT1",
    )
    second = _claim(billing, "accepted")
    _post(
        billing,
        second,
        [
            dict(code="99214", charge="185", paid="0", cas=[("CO", "50", "185")]),
            dict(code="36415", charge="18", paid="0", cas=[("CO", "50", "18")]),
        ],
        "4",
        "EFT2",
    )
    return billing


def test_the_nightly_service_scores_each_ready_claim_from_the_history(history, other_practice):
    ready = _claim(history)
    assert denial_risks_compute(practice=history.practice, today=TOMORROW) == 1
    risk = DenialRisk.objects.get()
    # practice 3/4 = 0.75; payer (3 + 3.75)/9 = 0.75
    # 99214: (1 + 3.75)/7 = 0.678571 → no modifier (1 + 3.392857)/7 = 0.627551
    #        → E11 (1 + 3.137755)/7 = 0.591108
    # 36415: (2 + 3.75)/7 = 0.821429 → (2 + 4.107143)/7 = 0.872449 → I10 (2 + 4.362245)/7 = 0.908892
    # claim: 1 − 0.408892 × 0.091108 = 0.962747
    assert (risk.claim_id, risk.practice_id, risk.score) == (ready.pk, history.practice.pk, D("0.9627"))
    assert [(line["line"], line["score"]) for line in risk.line_scores] == [(2, "0.9089"), (1, "0.5911")]
    assert risk.reason == (
        "Line 2 (36415): Little history with Acme Health in the last 6 months: "
        "the practice's overall rate (75%) applies."
    )


def test_a_claim_that_left_ready_loses_its_score_and_a_rerun_writes_the_same(history):
    ready, sent = _claim(history), _claim(history)
    denial_risks_compute(practice=history.practice, today=TOMORROW)
    claim_transition(claim=sent, to_status="submitted")
    assert denial_risks_compute(practice=history.practice, today=TOMORROW) == 1
    assert list(DenialRisk.objects.values_list("claim_id", "score")) == [(ready.pk, D("0.9627"))]


def test_history_after_the_day_is_not_used(history):
    _claim(history)
    denial_risks_compute(practice=history.practice, today=timezone.localdate())  # today's ERAs not known yet
    risk = DenialRisk.objects.get()
    assert risk.score == D("0.0000")
    assert risk.reason.endswith("the practice's overall rate (0%) applies.")


def test_the_nightly_task_queues_one_run_per_active_practice(
    history, other_practice, settings, django_capture_on_commit_callbacks
):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    _claim(history)
    with django_capture_on_commit_callbacks(execute=True):  # queued through the outbox after commit
        assert compute_risks_nightly.apply().get() == 2
    assert DenialRisk.objects.filter(practice=history.practice).count() == 1


def test_the_ready_queue_shows_the_risk_and_its_reason(history, biller, django_assert_num_queries):
    ready = _claim(history)
    denial_risks_compute(practice=history.practice, today=TOMORROW)
    client = login(biller)
    response = client.get("/claims/queues/ready/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "<th>Denial risk</th>" in html
    assert '<span class="badge bad">96%</span>' in html
    assert "the practice&#x27;s overall rate (75%) applies." in html
    assert [c.pk for c in response.context["page"]] == [ready.pk]
    for _ in range(9):
        _claim(history)
    denial_risks_compute(practice=history.practice, today=TOMORROW)
    cache.clear()  # the tab counts computed afresh, as on the first page of the day
    with django_assert_num_queries(QUEUE_PAGE_QUERIES):
        response = client.get("/claims/queues/ready/")
    assert len(response.context["page"]) == 10
    csv = client.get("/claims/queues/ready/?format=csv").content.decode()
    assert csv.splitlines()[0].endswith(",Denial risk")
    assert ",96% Line 2 (36415): Little history" in csv


def test_the_claim_page_shows_the_risk_of_a_ready_claim_only(history, biller):
    ready = _claim(history)
    denial_risks_compute(practice=history.practice, today=TOMORROW)
    client = login(biller)
    html = client.get(f"/claims/{ready.pk}/").content.decode()
    assert 'id="denial-risk"' in html
    assert '<span class="badge bad">96%</span>' in html
    assert '<td class="mono">36415</td><td class="num"><span class="badge bad">91%</span></td>' in html
    claim_transition(claim=ready, to_status="submitted")
    assert 'id="denial-risk"' not in client.get(f"/claims/{ready.pk}/").content.decode()


def test_the_backtest_command_reports_precision_and_recall(history):
    out = io.StringIO()
    call_command("denial_risk_backtest", "--practice", "riverside", "--as-of", "2026-12-03", stdout=out)
    # the history's claims were first submitted today (not in last quarter): nothing to score
    assert out.getvalue().splitlines() == [
        "riverside: claims first submitted 2026-07-01 to 2026-09-30 and adjudicated by 2026-12-03: 0; "
        "denied on first adjudication: 0.",
        "Threshold 0.10: flagged 0, of which denied 0.",
        "Precision n/a, recall n/a (denied among all these claims: n/a).",
    ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--practice", "nowhere"], "No practice with slug 'nowhere'."),
        (["--practice", "riverside", "--threshold", "high"], "--threshold 'high' is not a number"),
        (["--practice", "riverside", "--threshold", "1.5"], "--threshold 1.5 is outside 0 to 1"),
    ],
)
def test_the_backtest_command_refuses_bad_input(practice, args, message):
    with pytest.raises(CommandError, match=re.escape(message)):
        call_command("denial_risk_backtest", *args)


def test_take_next_on_the_ready_queue_works_with_the_risk_column(history, biller):
    ready = _claim(history)
    denial_risks_compute(practice=history.practice, today=TOMORROW)
    response = login(biller).post("/claims/queues/ready/next/")
    assert response.status_code == 302
    ready.refresh_from_db()
    assert ready.assigned_to == biller
