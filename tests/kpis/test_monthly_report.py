"""The monthly PDF report: what it prints (read back from the PDF), who may download it, its audit event,
and the monthly email sent once per practice and month however often the task runs."""

import datetime
import io
from decimal import Decimal as D

import pytest
from django.core import mail
from django.urls import reverse
from pypdf import PdfReader

from kpis import tasks
from kpis.charts import bar_chart_svg
from kpis.models import KpiReport
from kpis.services import kpi_report_send, kpi_snapshots_compute
from rcm.models import AuditEvent, OutboxTask
from rcm.roles import Role
from tests.conftest import login
from tests.kpis.dataset import MARCH_END, HandWorked
from tests.rcm.factories import MembershipFactory, UserFactory

MARCH = datetime.date(2026, 3, 1)


@pytest.fixture
def manager(manager):
    manager.email = "mona@riverside.test"
    manager.save()
    return manager


@pytest.fixture
def computed(practice):
    data = HandWorked(practice)
    kpi_snapshots_compute(practice=practice, start=datetime.date(2026, 1, 1), end=MARCH_END)
    return data


def pdf_text(content: bytes) -> str:
    reader = PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_the_pdf_prints_the_month_its_targets_trends_aging_denials_payers_and_formulas(computed, manager):
    response = login(manager).get(reverse("kpis:report", args=[2026, 3]))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == 'attachment; filename="kpi-report-2026-03.pdf"'
    text = pdf_text(response.content)
    lines = text.splitlines()
    assert "Riverside Family Medicine: revenue cycle report" in lines
    assert "March 2026 (03/01/2026 – 03/31/2026); changes are against February 2026." in text
    # Headline KPIs: March, February, the change, the target and the band.
    assert "Clean claim rate 60.0% — ≥ 95% (warning to 90%) off target" in lines
    assert "Days in A/R 78.7 days 171.0 days −92.3 days ≤ 35 days (warning to 45 days) off target" in lines
    assert "Charge lag 0.8 days — ≤ 2 days (warning to 5 days) on target" in lines
    # Trends: the numbers beside each chart (the chart itself is SVG drawn from the same numbers).
    assert "Days in A/R Month Days in A/R" in lines
    for line in ("Jan 2026 198.0 days", "Feb 2026 171.0 days", "Mar 2026 78.7 days"):
        assert line in lines
    assert "Acme Health $0.00 $0.00 $400.00 $0.00 $600.00 $1,000.00" in lines
    assert "Self-pay $25.00 $0.00 $0.00 $0.00 $0.00 $25.00" in lines
    assert "CO-197 1 $200.00 50.0%" in lines
    assert "Beta Insurance 100.0% 0.0% 19.4% 12.0 days $400.00" in lines
    flat = " ".join(lines)
    assert "How each KPI is computed" in flat
    assert "Net collection rate Payments ÷ (charges − contractual adjustments), cash basis" in flat


def test_the_pdf_download_is_audited_as_an_export(computed, manager):
    login(manager).get(reverse("kpis:report", args=[2026, 3]))
    event = AuditEvent.objects.get(action="export", object_type="kpis.report")
    assert (event.user, event.practice, event.changes) == (
        manager,
        computed.practice,
        {"month": "2026-03", "format": "pdf"},
    )


@pytest.mark.parametrize(("role", "status"), [(Role.ADMIN, 200), (Role.BILLER, 403), (Role.COLLECTIONS, 403)])
def test_only_managers_and_admins_download_the_report(persona, role, status):
    assert persona(role).get(reverse("kpis:report", args=[2026, 3])).status_code == status


def test_a_month_that_does_not_exist_is_not_found_and_not_audited(manager):
    assert login(manager).get("/kpis/report/2026-13.pdf").status_code == 404
    assert login(manager).get("/kpis/report/2026-3.pdf").status_code == 404
    assert not AuditEvent.objects.filter(object_type="kpis.report").exists()


def test_the_monthly_task_emails_the_managers_once_however_often_it_runs(computed, manager, settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    other_manager = UserFactory(username="max", email="max@riverside.test")
    MembershipFactory(practice=computed.practice, role=Role.MANAGER, user=other_manager)
    gone = UserFactory(username="gone", email="gone@riverside.test")
    MembershipFactory(practice=computed.practice, role=Role.MANAGER, user=gone, is_active=False)
    MembershipFactory(
        practice=computed.practice, role=Role.BILLER, user=UserFactory(email="b@riverside.test")
    )

    assert tasks.send_report(computed.practice.pk, "2026-03-01") is True
    assert tasks.send_report(computed.practice.pk, "2026-03-01") is False  # a rerun or a retry

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.subject == "Riverside Family Medicine: revenue cycle report, March 2026"
    assert message.to == sorted([manager.email, "max@riverside.test"])
    [(name, content, kind)] = message.attachments
    assert (name, kind) == ("kpi-report-2026-03.pdf", "application/pdf")
    assert "Clean claim rate 60.0%" in pdf_text(content)
    report = KpiReport.objects.get()
    assert (report.practice, report.month, report.recipients) == (computed.practice, MARCH, message.to)


def test_a_failed_send_records_nothing_so_the_retry_sends(computed, manager, monkeypatch):
    def refuse(self, fail_silently=False):
        raise ConnectionRefusedError("SMTP down")

    monkeypatch.setattr("django.core.mail.EmailMessage.send", refuse)
    with pytest.raises(ConnectionRefusedError):
        kpi_report_send(practice=computed.practice, month=datetime.date(2026, 3, 17))
    assert not KpiReport.objects.exists()
    monkeypatch.undo()
    assert kpi_report_send(practice=computed.practice, month=datetime.date(2026, 3, 17)) is not None
    assert len(mail.outbox) == 1


def test_the_beat_task_queues_last_months_report_for_each_active_practice(
    practice, other_practice, monkeypatch
):
    monkeypatch.setattr(tasks.timezone, "localdate", lambda: datetime.date(2026, 4, 1))
    other_practice.is_active = False
    other_practice.save()
    assert tasks.send_monthly_reports() == 1
    queued = OutboxTask.objects.values_list("task", "args")
    assert list(queued) == [("kpis.send_report", [practice.pk, "2026-03-01"])]


def test_the_beat_schedule_runs_the_report_on_the_first_of_the_month():
    from rcm.celery import app

    entry = app.conf.beat_schedule["kpis-monthly-reports"]
    assert entry["task"] == "kpis.send_monthly_reports"
    assert (entry["schedule"].day_of_month, entry["schedule"].hour, entry["schedule"].minute) == (
        {1},
        {6},
        {0},
    )


def test_the_chart_is_svg_with_a_bar_per_value_and_a_round_scale():
    svg = bar_chart_svg(
        title="Days <A/R>", labels=["Jan", "Feb", "Mar"], values=[D("198.0"), None, D("78.7")]
    )
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    assert "<title>Days &lt;A/R&gt;</title>" in svg
    assert svg.count("<rect ") == 2  # no bar for the month without a value
    assert ">200</text>" in svg and ">100</text>" in svg  # 198 rounds up to a scale of 200
