"""Reminders: what is sent when, on which channel, in which language; the contact window, the weekly limit,
consent and STOP; sent once however often the job runs or however it crashes; the command."""

import datetime

import pytest
from django.core import mail
from django.core.management import call_command
from django.core.management.base import CommandError

from payment_plans import tasks
from payment_plans.models import AccountHold, PaymentPlan, Reminder
from payment_plans.reminders import services
from payment_plans.reminders.services import reminder_opt_out, reminders_run, sms_inbound
from payment_plans.reminders.sms import LocmemSmsBackend
from payment_plans.statements import statement_send
from rcm.audit import audit_context
from rcm.celery import app
from rcm.models import AuditEvent, OutboxTask
from rcm.services import consent_record
from tests.payment_plans.conftest import make_plan

UTC = datetime.UTC
# 10:00 in New York on Tuesday 28 April 2026: the first installment (1 May) is 3 days away.
MORNING = datetime.datetime(2026, 4, 28, 14, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _outboxes(settings):
    settings.SMS_BACKEND = "payment_plans.reminders.sms.LocmemSmsBackend"
    LocmemSmsBackend.outbox.clear()
    yield
    LocmemSmsBackend.outbox.clear()


@pytest.fixture
def planned(debtor):
    for channel in ("email", "sms"):
        consent_record(patient=debtor, channel=channel, granted=True, method="written form")
    make_plan(debtor)
    return debtor


def rows():
    return sorted(Reminder.objects.values_list("key", "channel", "status", "language"))


def test_an_installment_due_in_three_days_is_reminded_once_by_email_and_text(planned, practice):
    installment = PaymentPlan.objects.get().installments.get(sequence=1)
    result = reminders_run(practice=practice, now=MORNING)
    assert (result.sent, result.deferred, result.no_consent) == (2, 0, 0)
    key = f"i{installment.pk}:upcoming:2026-05-01"
    assert rows() == [(key, "email", "sent", "en"), (key, "sms", "sent", "en")]
    (email,) = mail.outbox
    assert (email.subject, email.to) == ("Your payment is due soon", [planned.email])
    assert email.body == (
        "Hello Ana, this is Riverside Family Medicine. Your payment plan installment of $333.33 is due on "
        "05/01/2026. Thank you."
    )
    assert LocmemSmsBackend.outbox == [
        {"to": planned.phone, "body": email.body + " Reply STOP to stop text messages."}
    ]
    again = reminders_run(practice=practice, now=MORNING + datetime.timedelta(hours=3))
    assert (again.sent, again.already_sent) == (0, 2)
    assert (len(mail.outbox), len(LocmemSmsBackend.outbox), Reminder.objects.count()) == (1, 1, 2)


def test_a_spanish_speaker_is_written_to_in_spanish(planned, practice):
    planned.preferred_language = "Spanish"
    planned.save()
    reminders_run(practice=practice, now=MORNING)
    assert mail.outbox[0].subject == "Su pago vence pronto"
    assert mail.outbox[0].body.startswith("Hola Ana, le escribe Riverside Family Medicine. La cuota")
    assert LocmemSmsBackend.outbox[0]["body"].endswith("Responda STOP (o ALTO) para no recibir más mensajes.")
    assert {row[3] for row in rows()} == {"es"}


def test_only_consented_channels_are_used_and_none_means_no_reminder(debtor, practice):
    make_plan(debtor)
    result = reminders_run(practice=practice, now=MORNING)
    assert (result.sent, result.no_consent, Reminder.objects.count()) == (0, 1, 0)
    consent_record(patient=debtor, channel="email", granted=True, method="portal")
    consent_record(patient=debtor, channel="sms", granted=True, method="portal")
    consent_record(patient=debtor, channel="sms", granted=False, method="verbal")
    result = reminders_run(practice=practice, now=MORNING)
    assert result.sent == 1
    assert [row[1] for row in rows()] == ["email"]
    assert LocmemSmsBackend.outbox == []


def test_outside_8am_to_9pm_local_the_reminder_waits_for_the_next_window(planned, practice):
    planned.time_zone = "Pacific/Honolulu"
    planned.save()
    # 10:00 in New York is 04:00 in Honolulu.
    result = reminders_run(practice=practice, now=MORNING)
    assert (result.sent, result.deferred) == (0, 2)
    assert set(Reminder.objects.values_list("status", "not_before")) == {
        ("deferred", datetime.datetime(2026, 4, 28, 18, 0, tzinfo=UTC))  # 08:00 Honolulu
    }
    assert reminders_run(practice=practice, now=datetime.datetime(2026, 4, 28, 17, 59, tzinfo=UTC)).sent == 0
    result = reminders_run(practice=practice, now=datetime.datetime(2026, 4, 28, 18, 0, tzinfo=UTC))
    assert (result.sent, len(mail.outbox), len(LocmemSmsBackend.outbox)) == (2, 1, 1)
    assert {row[2] for row in rows()} == {"sent"}


@pytest.mark.parametrize("zone", ["", "Mars/Olympus_Mons"])
def test_a_patient_without_a_valid_time_zone_is_held_and_flagged(planned, practice, zone):
    planned.time_zone = zone
    planned.save()
    result = reminders_run(practice=practice, now=MORNING)
    assert (result.sent, result.no_time_zone, result.held_patient_ids) == (0, 1, [planned.pk])
    assert Reminder.objects.count() == 0
    assert "without a time zone 1" in result.summary()


def test_no_more_than_seven_attempts_per_patient_in_seven_days(planned, practice):
    plan = PaymentPlan.objects.get()
    for day in range(7):
        Reminder.objects.create(
            practice=practice,
            patient=planned,
            plan=plan,
            kind="balance",
            key_date=datetime.date(2026, 4, 20 + day),
            key=f"old{day}",
            channel="email",
            status="sent",
            sent_at=MORNING - datetime.timedelta(days=6) + datetime.timedelta(hours=day),
        )
    result = reminders_run(practice=practice, now=MORNING)
    assert (result.sent, result.capped) == (0, 2)
    # A day later the oldest attempt is more than 7 days old: one slot is free (email, the first channel).
    later = reminders_run(practice=practice, now=MORNING + datetime.timedelta(days=1, minutes=30))
    assert (later.sent, later.capped) == (1, 1)


def test_stop_is_honoured_at_once_even_for_a_reminder_waiting_for_its_window(planned, practice):
    planned.time_zone = "Pacific/Honolulu"
    planned.save()
    reminders_run(practice=practice, now=MORNING)
    assert sms_inbound(practice=practice, phone=planned.phone, body="  stop ") == 1
    assert sms_inbound(practice=practice, phone=planned.phone, body="thanks") == 0
    assert Reminder.objects.get(channel="sms").status == "skipped"
    result = reminders_run(practice=practice, now=datetime.datetime(2026, 4, 28, 19, 0, tzinfo=UTC))
    assert result.sent == 1
    assert LocmemSmsBackend.outbox == []
    assert planned.consent_events.order_by("-id").first().method == "STOP reply"


def test_opting_out_of_email_leaves_texts(planned, practice):
    assert reminder_opt_out(patient=planned, channel="email", method="phone call") == 0
    reminders_run(practice=practice, now=MORNING)
    assert (len(mail.outbox), len(LocmemSmsBackend.outbox)) == (0, 1)


def test_missed_payment_reminders_at_1_7_and_14_days_and_the_plan_turns_delinquent(planned, practice):
    installment = PaymentPlan.objects.get().installments.get(sequence=1)
    day = lambda d: datetime.datetime(2026, 5, d, 14, 0, tzinfo=UTC)  # noqa: E731
    kinds = []
    for d in range(2, 17):
        result = reminders_run(practice=practice, now=day(d))
        kinds += [
            (d, k)
            for k in Reminder.objects.filter(kind__startswith="missed", sent_at__date=day(d).date())
            .filter(channel="email")
            .values_list("kind", flat=True)
        ]
        if d == 12:
            assert result.status_changes == {"missed": 1, "delinquent": 1, "defaulted": 0}
    assert kinds == [(2, "missed_1"), (8, "missed_7"), (15, "missed_14")]
    assert Reminder.objects.filter(installment=installment, kind="missed_7").get(channel="sms").key == (
        f"i{installment.pk}:missed_7:2026-05-08"
    )
    assert PaymentPlan.objects.get().status == "delinquent"
    assert "was due on 05/01/2026 and we have not received it" in mail.outbox[-1].body


def test_a_statement_balance_without_a_plan_is_reminded_once_per_cycle_unless_on_hold(debtor, practice):
    consent_record(patient=debtor, channel="email", granted=True, method="portal")
    assert reminders_run(practice=practice, now=MORNING).sent == 0  # no statement sent yet
    statement_send(practice=practice, patient=debtor, today=datetime.date(2026, 4, 20))
    hold = AccountHold.objects.create(practice=practice, patient=debtor, reason="Disputes the bill")
    assert reminders_run(practice=practice, now=MORNING).sent == 0
    hold.released_at = MORNING
    hold.save()
    assert reminders_run(practice=practice, now=MORNING).sent == 1
    assert mail.outbox[0].body.startswith(
        "Hello Ana, this is Riverside Family Medicine. You have a balance of $1000.00."
    )
    assert reminders_run(practice=practice, now=MORNING + datetime.timedelta(days=29)).sent == 0
    assert reminders_run(practice=practice, now=MORNING + datetime.timedelta(days=30)).sent == 1


def test_a_crash_while_sending_never_sends_a_message_twice(planned, practice, debtor, monkeypatch):
    consent_record(patient=debtor, channel="sms", granted=True, method="portal")
    original = services._send
    calls = []

    def crash_on_the_second(row, connection, backend):
        calls.append(row.pk)
        if len(calls) == 2:
            raise SystemExit("worker killed")
        return original(row, connection, backend)

    monkeypatch.setattr(services, "_send", crash_on_the_second)
    with pytest.raises(SystemExit):
        reminders_run(practice=practice, now=MORNING)
    assert sorted(Reminder.objects.values_list("status", flat=True)) == ["sending", "sent"]
    monkeypatch.setattr(services, "_send", original)
    retry = reminders_run(practice=practice, now=MORNING + datetime.timedelta(minutes=5))
    # The one sent stays sent, the one in doubt is never sent again: nothing is sent twice.
    assert (retry.sent, retry.already_sent) == (0, 2)
    assert len(mail.outbox) + len(LocmemSmsBackend.outbox) == 1


def test_a_provider_failure_is_retried_on_the_next_run(planned, practice, monkeypatch):
    class Down(LocmemSmsBackend):
        def send(self, *, to, body):
            raise ConnectionError("gateway down")

    monkeypatch.setattr(services, "sms_backend", Down)
    result = reminders_run(practice=practice, now=MORNING)
    assert (result.sent, result.failed) == (1, 1)
    assert Reminder.objects.get(channel="sms").detail == "ConnectionError"
    monkeypatch.undo()
    LocmemSmsBackend.outbox.clear()
    assert reminders_run(practice=practice, now=MORNING + datetime.timedelta(hours=1)).sent == 1
    assert len(LocmemSmsBackend.outbox) == 1 and len(mail.outbox) == 1


def test_a_dry_run_sends_and_saves_nothing(planned, practice):
    result = reminders_run(
        practice=practice, now=datetime.datetime(2026, 5, 20, 14, tzinfo=UTC), dry_run=True
    )
    assert result.status_changes == {"missed": 1, "delinquent": 1, "defaulted": 0}
    assert [channel for _key, channel in result.would_send] == ["email", "sms"]
    assert (Reminder.objects.count(), len(mail.outbox), PaymentPlan.objects.get().status) == (0, 0, "active")


def test_the_command_runs_one_practice_and_refuses_an_unknown_one(planned, practice, capsys, monkeypatch):
    monkeypatch.setattr(services.timezone, "now", lambda: MORNING)
    call_command("send_reminders", "--practice", "riverside", "--dry-run")
    assert capsys.readouterr().out.startswith("riverside 2026-04-28: would send 2, deferred 0")
    assert Reminder.objects.count() == 0
    call_command("send_reminders", "--practice", "riverside")
    assert capsys.readouterr().out.startswith("riverside 2026-04-28: sent 2,")
    with pytest.raises(CommandError, match="No practice has the slug 'nowhere'"):
        call_command("send_reminders", "--practice", "nowhere")


def test_the_beat_runs_the_job_hourly_in_the_day_and_queues_one_run_per_active_practice(
    practice, other_practice, monkeypatch
):
    entry = app.conf.beat_schedule["payment-plans-reminders"]
    assert entry["task"] == "payment_plans.reminders_daily"
    assert entry["schedule"].hour == set(range(8, 24)) and entry["schedule"].minute == {5}
    other_practice.is_active = False
    other_practice.save()
    assert tasks.reminders_daily() == 1
    queued = OutboxTask.objects.filter(task="payment_plans.reminders_practice")
    assert list(queued.values_list("args", flat=True)) == [[practice.pk]]


def test_the_job_writes_its_audit_event_only_when_the_log_is_on(planned, practice):
    """Data generators (seed_demo) turn the audit log off: the job sends but writes no event then."""
    with audit_context(source="command", enabled=False):
        assert reminders_run(practice=practice, now=MORNING).sent == 2
    assert not AuditEvent.objects.filter(object_type="payment_plans.reminder").exists()
    with audit_context(source="command"):
        reminders_run(practice=practice, now=MORNING + datetime.timedelta(days=1))
    (event,) = AuditEvent.objects.filter(object_type="payment_plans.reminder")
    assert (event.source, event.changes) == (
        "command",
        {"sent": 0, "failed": 0, "deferred": 0, "on": "2026-04-29"},
    )
