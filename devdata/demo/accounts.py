"""The demo's patient accounts, after the claims are played and the payment plans made: patients not on a
plan paying what they owe after insurance (some in full, some in part, a few paying more: a credit, one
refunded), statements and final notices sent, call notes with promises to pay (some kept, some broken) and
a disputed account on hold. Everything goes through the payment_plans services; every draw comes from the
practice's own ``demo_random`` stream, so the claims before it do not change."""

import datetime
from decimal import Decimal

from django.db import transaction
from django.db.models import Max, Min, Q

from payment_plans.collections import account_hold_set, account_note_add
from payment_plans.models import StatementKind
from payment_plans.selectors import patient_owed
from payment_plans.services import patient_credit_refund, patient_payment_record
from payment_plans.statements import statement_send
from rcm.models import Patient

METHODS = ("cash", "check", "card", "online")
STATEMENTS_MAX = 24  # PDFs are rendered for real: a handful per practice keeps seed_demo quick


def _owing(practice):
    """Patients who owe, but not those on a payment plan: the plans step took them first (each plan covers
    a balance as it was when the plan was made)."""
    return list(
        Patient.objects.filter(practice=practice)
        .exclude(payment_plans__isnull=False)
        .annotate(
            owed=patient_owed(),
            oldest=Min("claims__service_date", filter=Q(claims__patient_balance__gt=0)),
            last_change=Max("claims__status_changed_at"),
        )
        .filter(owed__gt=0)
        .order_by("pk")
    )


def accounts_step(run) -> None:
    """Payments, credits, statements, notes and a hold for the practice's patients with a balance."""
    from devdata.demo.builder import demo_random  # the builder imports this module

    rng = demo_random(run.options.seed, run.spec.slug, "accounts")
    user = run.users.get("collections") if "collections" in run.spec.members else None
    end = run.window_end
    counts = {"patient_payments": 0, "credits": 0, "statements": 0, "notes": 0}
    with transaction.atomic():
        patients = _owing(run.practice)
        for index, patient in enumerate(patients):
            days_since = (end - patient.oldest).days
            draw = rng.random()
            if draw < 0.45 and days_since > 14:
                # A payment some days after the oldest visit: in full, in part, or a little more (credit).
                paid_on = min(
                    end, patient.oldest + datetime.timedelta(days=rng.randint(7, max(8, days_since)))
                )
                share = rng.choice(("full", "full", "part", "over"))
                amount = {
                    "full": patient.owed,
                    "part": (patient.owed / 2).quantize(Decimal("0.01")),
                    "over": patient.owed + Decimal(rng.choice(("5.00", "10.00", "20.00"))),
                }[share]
                method = rng.choice(METHODS)
                patient_payment_record(
                    practice=run.practice,
                    patient=patient,
                    amount=amount,
                    method=method,
                    reference=f"{rng.randint(1000, 9999)}" if method in ("check", "card") else "",
                    received_on=paid_on,
                    user=user,
                    at=run.moment(paid_on, 11),
                )
                counts["patient_payments"] += 1
                if share == "over":
                    counts["credits"] += 1
                    if counts["credits"] == 1:  # the first credit is given back
                        patient_credit_refund(
                            practice=run.practice,
                            patient=patient,
                            amount=amount - patient.owed,
                            method="check",
                            reference=f"{rng.randint(5000, 5999)}",
                            refunded_on=end,
                            reason="Overpaid at the front desk",
                            user=user,
                            at=run.moment(end, 15),
                        )
            elif counts["statements"] < STATEMENTS_MAX and days_since > 30:
                first = end - datetime.timedelta(days=rng.randint(20, 29))
                if patient.last_change.astimezone(run.tz).date() >= first - datetime.timedelta(days=30):
                    continue  # a statement bills what insurance settled: none before the claims' last move
                statement_send(
                    practice=run.practice,
                    patient=patient,
                    user=user,
                    today=first - datetime.timedelta(days=30),
                    at=run.moment(first - datetime.timedelta(days=30), 6),
                )
                statement_send(
                    practice=run.practice, patient=patient, user=user, today=first, at=run.moment(first, 6)
                )
                counts["statements"] += 2
                if days_since > 90 and rng.random() < 0.5:
                    statement_send(
                        practice=run.practice,
                        patient=patient,
                        user=user,
                        today=end,
                        kind=StatementKind.FINAL_NOTICE,
                        at=run.moment(end, 6),
                    )
                    counts["statements"] += 1
                if rng.random() < 0.5:
                    promise = end - datetime.timedelta(days=rng.randint(1, 10))
                    account_note_add(
                        practice=run.practice,
                        patient=patient,
                        user=user,
                        outcome="promised",
                        text="Will pay after payday.",
                        promise_date=promise,
                        promise_amount=(patient.owed / 2).quantize(Decimal("0.01")),
                        follow_up_on=end + datetime.timedelta(days=1),
                        today=promise - datetime.timedelta(days=7),
                        at=run.moment(promise - datetime.timedelta(days=7), 10),
                    )
                    counts["notes"] += 1
            elif index % 17 == 5:
                account_note_add(
                    practice=run.practice,
                    patient=patient,
                    user=user,
                    outcome="left_message",
                    text="Left a voicemail about the balance.",
                    today=end,
                    at=run.moment(end, 14),
                )
                counts["notes"] += 1
        if patients:
            disputed = patients[len(patients) // 2]
            account_hold_set(
                practice=run.practice,
                patient=disputed,
                user=user,
                reason="Says the visit was covered",
                at=run.moment(end, 16),
            )
    run.counts.update(counts)
    run.log(
        f"  {run.spec.slug}: {counts['patient_payments']} patient payments "
        f"({counts['credits']} with a credit), {counts['statements']} statements, "
        f"{counts['notes']} account notes"
    )
