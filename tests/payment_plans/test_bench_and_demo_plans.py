"""bench_data makes payment plans (one patient in five, twelve installments that add up, one in twenty
delinquent with its missed installment), and the daily job runs over them."""

import datetime
import random
import re
from collections import Counter
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import Sum

from claims.services import LineInput
from devdata.demo.plans import demo_plans_create, demo_reminders_play
from payment_plans.models import Installment, PaymentPlan, PlanModification, PlanStatusChange, Reminder
from payment_plans.reminders.services import reminders_run
from rcm.models import ConsentEvent, Practice
from rcm.services import consent_record
from tests.claims.factories import make_claim
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
        # charged the day after the visit: the balance exists from then on (plans are made after it)
        make_claim(
            practice,
            patient=patient,
            self_pay=True,
            lines=[
                LineInput(
                    procedure_code="99213",
                    charge=Decimal(f"{400 + 50 * n}.00"),
                    service_date_from=datetime.date(2025, 12, 1),
                )
            ],
            created_at=datetime.datetime(2025, 12, 2, 12, tzinfo=datetime.UTC),
        )
    counts, payers = demo_plans_create(
        practice=practice, as_of=as_of, user=collections_user, rng=random.Random(7)
    )
    played = demo_reminders_play(
        practice=practice, as_of=as_of, payers=payers, user=collections_user, rng=random.Random(8)
    )
    # one patient per behaviour (the one made on new terms pays on time, and so stays active)
    assert counts == {
        "payment_plans": 6,
        "plans_stops": 1,
        "plans_pays_off": 1,
        "plans_late": 1,
        "plans_cancels": 1,
        "plans_modifies": 1,
        "plans_on_time": 1,
    }
    assert len(payers) == 5  # every plan but the cancelled one
    assert Counter(PaymentPlan.objects.values_list("status", flat=True)) == {
        "active": 2,
        "delinquent": 1,
        "defaulted": 1,
        "completed": 1,
        "cancelled": 1,
    }
    modified = PlanModification.objects.get()
    assert (modified.kind, modified.plan.status) == ("modified", "active")
    # nothing dated on or after the as-of day
    cutoff = datetime.datetime(2026, 6, 30, tzinfo=datetime.UTC)
    assert not PlanStatusChange.objects.filter(at__gte=cutoff).exists()
    assert not Installment.objects.filter(paid_at__gte=cutoff).exists()
    assert played["reminders_sent"] == Reminder.objects.filter(status="sent").count() > 0
    assert Reminder.objects.filter(kind__startswith="missed", plan__status="delinquent").exists()
