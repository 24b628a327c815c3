"""bench_data makes payment plans (one patient in five, twelve installments that add up, one in twenty
delinquent with its missed installment), and the daily job runs over them."""

import datetime
import random
import re
from collections import Counter
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Sum

from devdata.demo.plans import demo_plans_create, demo_reminders_play
from payment_plans.models import Installment, PaymentPlan, PlanStatusChange, Reminder
from payment_plans.reminders.services import reminders_run
from rcm.models import ConsentEvent, Practice
from rcm.services import consent_record
from tests.payment_plans.conftest import self_pay_claim
from tests.rcm.factories import PatientFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_bench_data_makes_plans_the_reminder_job_can_run_over(settings):
    settings.SMS_BACKEND = "payment_plans.reminders.sms.LocmemSmsBackend"
    out = StringIO()
    call_command("bench_data", claims=200, practices=1, seed=3, as_of="2026-03-02", stdout=out)
    practice = Practice.objects.get(slug="bench-001")
    plans = list(PaymentPlan.objects.filter(practice=practice))
    assert len(plans) == 10  # 50 patients, one in five
    assert re.search(r"payment_plans.installments +120\n", out.getvalue())
    for plan in plans:
        installments = Installment.objects.filter(plan=plan)
        assert installments.count() == 12
        assert installments.aggregate(total=Sum("amount"))["total"] == plan.total_amount
        missed = installments.filter(status="missed").count()
        assert (plan.status, missed) in (("active", 0), ("delinquent", 1))
        assert installments.filter(status="paid", due_date__gte=datetime.date(2026, 2, 15)).count() == 0
    assert PlanStatusChange.objects.filter(to_status="active", from_status="").count() == 10
    assert ConsentEvent.objects.filter(practice=practice).count() == 20
    upcoming = Installment.objects.filter(
        practice=practice,
        status="due",
        due_date__range=(datetime.date(2026, 3, 2), datetime.date(2026, 3, 5)),
    ).count()
    result = reminders_run(practice=practice, now=datetime.datetime(2026, 3, 2, 19, tzinfo=datetime.UTC))
    assert (result.failed, result.no_time_zone) == (0, 0)
    sent = Reminder.objects.filter(practice=practice, status="sent")
    assert result.sent == sent.count()
    by_key = Counter(sent.filter(kind="upcoming").values_list("key", flat=True))
    assert len(by_key) == upcoming
    assert set(by_key.values()) <= {2}  # both consented channels, once each


def test_the_demo_makes_plans_in_every_state_and_reminders_in_the_outbox(
    practice, collections_user, settings
):
    settings.SMS_BACKEND = "payment_plans.reminders.sms.LocmemSmsBackend"
    as_of = datetime.date(2026, 6, 30)
    for n in range(6):
        patient = PatientFactory(practice=practice)
        consent_record(patient=patient, channel="email", granted=True, method="written form")
        self_pay_claim(practice, patient, f"{400 + 50 * n}.00", datetime.date(2025, 12, 1))
    counts = demo_plans_create(practice=practice, as_of=as_of, user=collections_user, rng=random.Random(7))
    played = demo_reminders_play(practice=practice, as_of=as_of)
    assert counts == {"payment_plans": 6}
    assert set(PaymentPlan.objects.values_list("status", flat=True)) == {
        "active",
        "delinquent",
        "defaulted",
        "completed",
        "cancelled",
    }
    assert played["reminders_sent"] == Reminder.objects.filter(status="sent").count() > 0
