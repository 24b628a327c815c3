"""Payment plans for the benchmark data: about one patient in ``PLAN_SHARE`` of each bench practice has a
monthly plan of ``TERM`` installments, started up to a term ago, with consent to email and text.

Written in bulk (like the rest of ``devdata.bench``), not through ``plan_create``: the benchmark needs the
shape and the volume (the daily reminder job over 100,000 and more open installments), and the installments
already paid are marked paid without ledger payments. One in twenty plans has missed an installment and is
delinquent. Rows obey the plan rules (schedule adds up, status history from the start)."""

import datetime
import random
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.utils import timezone

from payment_plans.models import Installment, PaymentPlan, PlanStatus, PlanStatusChange
from rcm.bulk import bulk_insert_rows, bulk_insert_with_ids
from rcm.models import ConsentEvent, Patient, Practice

PLAN_SHARE = 5
TERM = 12
MISSED_SHARE = 0.05


@transaction.atomic
def bench_plans_build(*, practice: Practice, as_of: datetime.date, rng: random.Random) -> dict[str, int]:
    patient_ids = list(Patient.objects.filter(practice=practice).order_by("pk").values_list("pk", flat=True))
    chosen = patient_ids[::PLAN_SHARE]
    now = timezone.now()
    plans, shapes = [], []
    for patient_id in chosen:
        started = (
            as_of
            - relativedelta(months=rng.randint(0, TERM - 1))
            - datetime.timedelta(days=rng.randint(0, 27))
        )
        amount = Decimal(rng.randrange(25, 200))
        missed = rng.random() < MISSED_SHARE
        plans.append(
            PaymentPlan(
                practice=practice,
                patient_id=patient_id,
                status=PlanStatus.DELINQUENT if missed else PlanStatus.ACTIVE,
                status_changed_at=now,
                total_amount=amount * TERM,
                installment_amount=amount,
                frequency="monthly",
                term=TERM,
                start_date=started,
                created_at=datetime.datetime.combine(started, datetime.time(12), tzinfo=datetime.UTC),
            )
        )
        shapes.append((started, amount, missed))
    plans = bulk_insert_with_ids(PaymentPlan, plans)
    installments, history, consents = [], [], []
    open_count = 0
    for plan, (started, amount, missed) in zip(plans, shapes, strict=True):
        missed_one = False
        for sequence in range(1, TERM + 1):
            due = started + relativedelta(months=sequence - 1)
            past = due < as_of - datetime.timedelta(days=15)
            unpaid = past and missed and not missed_one and due >= as_of - datetime.timedelta(days=60)
            missed_one = missed_one or unpaid
            paid = past and not unpaid
            open_count += not paid
            installments.append(
                {
                    "practice_id": practice.pk,
                    "plan_id": plan.pk,
                    "sequence": sequence,
                    "due_date": due,
                    "amount": amount,
                    "paid_amount": amount if paid else Decimal("0.00"),
                    "status": "paid" if paid else "missed" if unpaid else "due",
                    "paid_at": datetime.datetime.combine(due, datetime.time(15), tzinfo=datetime.UTC)
                    if paid
                    else None,
                }
            )
        history.append(
            {
                "plan_id": plan.pk,
                "from_status": "",
                "to_status": "active",
                "at": plan.created_at,
                "reason": "",
            }
        )
        if plan.status == PlanStatus.DELINQUENT:
            history.append(
                {
                    "plan_id": plan.pk,
                    "from_status": "active",
                    "to_status": "delinquent",
                    "at": now,
                    "reason": "bench",
                }
            )
        for channel in ("email", "sms"):
            consents.append(
                {
                    "practice_id": practice.pk,
                    "patient_id": plan.patient_id,
                    "channel": channel,
                    "granted": True,
                    "at": plan.created_at,
                    "method": "written form",
                }
            )
    bulk_insert_rows(Installment, installments)
    bulk_insert_rows(PlanStatusChange, history)
    bulk_insert_rows(ConsentEvent, consents)
    return {"payment_plans": len(plans), "installments": len(installments), "installments_open": open_count}
