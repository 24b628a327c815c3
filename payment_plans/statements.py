"""Patient statements: the PDF (WeasyPrint) and the statement run.

``statement_run`` is the one service behind the page, the Celery beat task and
``manage.py statement_run``: it picks the practice's patients with a balance, leaves out those sent a
statement within the practice's cycle and those on hold (an open dispute, a payment plan that is
current: ``STATEMENT_HOLD_SOURCES``), renders each statement and records it. The statement's key
(practice, patient, date, kind) is unique: running twice on a day, or a retry after a crash, sends
nothing twice.
"""

import dataclasses
import datetime
import logging
import uuid
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import DecimalField, Max
from django.template.loader import render_to_string
from django.utils import timezone

from claims.models import Claim, ClaimStatus
from claims.patient_billing import claims_bill_patient
from payment_plans.models import (
    OPEN_INSTALLMENT_STATUSES,
    AccountHold,
    PaymentPlan,
    PlanStatus,
    Statement,
    StatementKind,
)
from payment_plans.plans.selectors import open_plan_of, plan_remaining
from payment_plans.selectors import (
    collections_settings,
    patient_account_totals,
    patient_claim_accounts,
    patient_owed,
)
from rcm.audit import audit_record, current_context
from rcm.models import AuditAction, Patient

ZERO = Decimal("0.00")
# WeasyPrint logs every rendering step at INFO: seven lines per statement, nothing anyone reads.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
MONEY = DecimalField(max_digits=14, decimal_places=2)

# Hooks: callables (practice, patient_ids) -> {patient_id: reason} of patients not to bill now
# (payment plans register "plan current" here).
STATEMENT_HOLD_SOURCES: list = []
# Hooks: callables (patient) -> dict(status, next_due, next_amount, balance) or None: the plan block.
STATEMENT_PLAN_SOURCES: list = []


def plan_block(patient) -> dict | None:
    """The patient's open payment plan as a statement shows it (None when there is none): status, what
    is left on it, and the next installment (what is still unpaid of it, and when it is due)."""
    plan = open_plan_of(patient)
    if plan is None:
        return None
    upcoming = (
        plan.installments.filter(status__in=OPEN_INSTALLMENT_STATUSES)
        .order_by("due_date", "sequence")
        .first()
    )
    return {
        "status": plan.get_status_display().lower(),
        "balance": plan_remaining(plan),
        "next_due": upcoming.due_date if upcoming else None,
        "next_amount": (upcoming.amount - upcoming.paid_amount) if upcoming else ZERO,
    }


def _plan_current_holds(practice, patient_ids) -> dict[int, str]:
    """Patients on a plan in good standing (active) get reminders for their installments, not statements."""
    return {
        pid: "on a current payment plan"
        for pid in PaymentPlan.objects.filter(
            practice=practice, patient_id__in=list(patient_ids), status=PlanStatus.ACTIVE
        ).values_list("patient_id", flat=True)
    }


def statement_context(patient, *, today: datetime.date, kind: str = StatementKind.STATEMENT) -> dict:
    """What a statement says: practice header, each claim with what was billed, what insurance paid and
    adjusted, what the patient owes and why, the plan (if any), and how to pay."""
    practice = patient.practice
    settings = collections_settings(practice)
    claims = [account for account in patient_claim_accounts(patient) if account.claim.patient_balance != 0]
    totals = patient_account_totals(patient)
    plan = plan_block(patient)
    for source in STATEMENT_PLAN_SOURCES:
        plan = plan or source(patient)
    return {
        "practice": practice,
        "patient": patient,
        "today": today,
        "kind": kind,
        "is_final": kind == StatementKind.FINAL_NOTICE,
        "claims": claims,
        "billed": sum((a.claim.charge_total for a in claims), ZERO),
        "insurance_paid": sum((a.claim.insurance_paid for a in claims), ZERO),
        "adjusted": sum((a.claim.adjustments + a.claim.write_offs for a in claims), ZERO),
        "patient_paid": sum((a.claim.patient_paid for a in claims), ZERO),
        "totals": totals,
        "due_by": today + datetime.timedelta(days=settings.statement_cycle_days),
        "plan": plan,
        "settings": settings,
    }


def statement_html(context: dict) -> str:
    return render_to_string("payment_plans/statement_pdf.html", context)


def html_to_pdf(html: str) -> bytes:
    from weasyprint import HTML  # heavy import (Pango, fonts): loaded only when a statement is made

    return HTML(string=html).write_pdf()


def statement_pdf(patient, *, today: datetime.date, kind: str = StatementKind.STATEMENT) -> bytes:
    return html_to_pdf(statement_html(statement_context(patient, today=today, kind=kind)))


def statement_key(practice_id: int, patient_id: int, day: datetime.date, kind: str) -> str:
    return f"{practice_id}:{patient_id}:{day.isoformat()}:{kind}"


def statement_send(
    *, practice, patient, user=None, today=None, kind: str = StatementKind.STATEMENT, run: str = "", at=None
) -> Statement | None:
    """Render and record one statement for ``patient``; the patient's settled claims move to the
    patient-billed path. Returns None when one with the same key was already sent (nothing twice)."""
    today = today or timezone.localdate()
    key = statement_key(practice.pk, patient.pk, today, kind)
    if Statement.objects.filter(key=key).exists():
        return None
    context = statement_context(patient, today=today, kind=kind)
    pdf = html_to_pdf(statement_html(context))  # outside the transaction: rendering is the slow part
    try:
        with transaction.atomic():
            statement = Statement.objects.create(
                practice=practice,
                patient=patient,
                kind=kind,
                key=key,
                statement_date=today,
                balance=context["totals"]["owed"],
                credit=context["totals"]["credit"],
                claim_count=len(context["claims"]),
                pdf=pdf,
                sent_by=user if user is not None and user.is_authenticated else None,
                run=run,
                sent_at=at or timezone.now(),
            )
            claims_bill_patient(
                practice=practice, patient_ids=[patient.pk], user=user, reason="Statement sent", at=at
            )
            if current_context().enabled:  # data generators turn the log off
                audit_record(
                    action=AuditAction.CREATE,
                    practice=practice,
                    object_type="payment_plans.statement",
                    object_id=statement.pk,
                    changes={"patient": patient.pk, "balance": statement.balance, "kind": kind},
                    user=user,
                )
    except IntegrityError:
        return None  # the same statement was recorded meanwhile by another run
    return statement


@dataclasses.dataclass
class StatementRunResult:
    run: str
    dry_run: bool
    selected: list  # patients to bill (with .owed)
    skipped: dict  # patient id -> reason
    sent: int = 0

    @property
    def summary(self) -> str:
        held = f"{len(self.skipped)} held or within the statement cycle."
        if self.dry_run:
            return f"Dry run: {len(self.selected)} statement(s) would be sent; {held}"
        return f"{self.sent} statement(s) sent of {len(self.selected)} due; {held}"


def statement_candidates(practice, *, today=None) -> tuple[list[Patient], dict[int, str]]:
    """Patients with a balance of at least the practice's minimum, and the reasons others are left out
    (a statement within the cycle, an open hold, a hook's hold). Three queries plus the hooks'."""
    today = today or timezone.localdate()
    settings = collections_settings(practice)
    cycle_start = today - datetime.timedelta(days=settings.statement_cycle_days - 1)
    owed = (
        Patient.objects.filter(practice=practice)
        .annotate(
            owed=patient_owed(),
            last_statement=Max("statements__statement_date"),
        )
        .filter(owed__gte=max(settings.minimum_statement_balance, Decimal("0.01")))
        .order_by("last_name", "first_name", "id")
    )
    patients = list(owed)
    ids = [p.pk for p in patients]
    skipped: dict[int, str] = {}
    for patient in patients:
        if patient.last_statement and patient.last_statement >= cycle_start:
            skipped[patient.pk] = (
                f"statement sent {patient.last_statement:%m/%d/%Y}, "
                f"within the {settings.statement_cycle_days}-day cycle"
            )
    for hold in AccountHold.objects.filter(patient_id__in=ids, released_at__isnull=True):
        skipped.setdefault(hold.patient_id, f"on hold: {hold.get_kind_display().lower()}")
    for source in [_plan_current_holds, *STATEMENT_HOLD_SOURCES]:
        for patient_id, reason in source(practice, ids).items():
            skipped.setdefault(patient_id, reason)
    return [p for p in patients if p.pk not in skipped], skipped


def statement_run(
    *, practice, today=None, dry_run: bool = False, user=None, limit: int | None = None
) -> StatementRunResult:
    """The statement run of ``practice`` for ``today``: picks (``statement_candidates``) and, unless
    ``dry_run``, sends each statement (``statement_send``, one transaction per patient so one failure
    does not undo the others). Safe to run twice: the second run sends nothing."""
    today = today or timezone.localdate()
    selected, skipped = statement_candidates(practice, today=today)
    if limit is not None:
        selected = selected[:limit]
    run = f"run-{today:%Y%m%d}-{uuid.uuid4().hex[:8]}"
    result = StatementRunResult(run=run, dry_run=dry_run, selected=selected, skipped=skipped)
    if dry_run:
        return result
    for patient in selected:
        if statement_send(practice=practice, patient=patient, user=user, today=today, run=result.run):
            result.sent += 1
    return result


def statement_due_claims(patient):
    return Claim.objects.filter(patient=patient, patient_balance__gt=0).exclude(status=ClaimStatus.VOIDED)
