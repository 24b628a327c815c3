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

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import DecimalField, OuterRef, Subquery
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
    StatementRun,
    StatementRunChunk,
    StatementRunSource,
)
from payment_plans.plans.selectors import OPEN, plan_remaining
from payment_plans.selectors import (
    account_totals_of,
    claim_accounts_of,
    collections_settings,
    patient_owed,
)
from rcm.audit import audit_records_bulk
from rcm.models import AuditAction, Patient
from rcm.outbox import task_enqueue
from rcm.pdf import html_to_pdf

ZERO = Decimal("0.00")
logger = logging.getLogger(__name__)
# Patients per chunk of a run: one Celery task each (about 20-30 s of rendering on one worker).
RUN_CHUNK_SIZE = 100
RUN_STALE_AFTER = datetime.timedelta(hours=24)
# WeasyPrint logs every rendering step at INFO: seven lines per statement, nothing anyone reads.
logging.getLogger("weasyprint.progress").setLevel(logging.WARNING)
MONEY = DecimalField(max_digits=14, decimal_places=2)

# Hooks: callables (practice, patient_ids) -> {patient_id: reason} of patients not to bill now
# (payment plans register "plan current" here).
STATEMENT_HOLD_SOURCES: list = []
# Hooks: callables (patient) -> dict(status, next_due, next_amount, balance) or None: the plan block.
STATEMENT_PLAN_SOURCES: list = []


def plan_blocks_of(patients) -> dict[int, dict | None]:
    """Each patient's open payment plan as a statement shows it (None when there is none): status, what
    is left on it, and the next installment (what is still unpaid of it, and when it is due). Two
    queries whatever the number of patients: the plans, and their installments."""
    plans: dict[int, PaymentPlan] = {}
    for plan in (
        PaymentPlan.objects.filter(patient__in=[p.pk for p in patients], status__in=OPEN)
        .order_by("patient_id", "-created_at")
        .prefetch_related("installments")
    ):
        plans.setdefault(plan.patient_id, plan)  # the patient's newest open plan
    return {patient.pk: _plan_block(plans.get(patient.pk)) for patient in patients}


def _plan_block(plan) -> dict | None:
    if plan is None:
        return None
    open_ones = [i for i in plan.installments.all() if i.status in OPEN_INSTALLMENT_STATUSES]
    upcoming = min(open_ones, key=lambda i: (i.due_date, i.sequence), default=None)
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
        for pid in PaymentPlan.objects.filter(practice=practice, status=PlanStatus.ACTIVE).values_list(
            "patient_id", flat=True
        )
        if pid in patient_ids
    }


def statement_context(patient, *, today: datetime.date, kind: str = StatementKind.STATEMENT) -> dict:
    """What a statement says: practice header, each claim with what was billed, what insurance paid and
    adjusted, what the patient owes and why, the plan (if any), and how to pay."""
    return statement_contexts([patient], today=today, kind=kind)[patient.pk]


def statement_contexts(patients, *, today: datetime.date, kind: str = StatementKind.STATEMENT) -> dict:
    """``statement_context`` of several patients of one practice (a run's chunk): the accounts read in
    the same few queries whatever their number (and the installments of those on a plan)."""
    if not patients:
        return {}
    practice = patients[0].practice
    settings = collections_settings(practice)
    accounts = claim_accounts_of(patients)
    totals = account_totals_of(patients)
    plans = plan_blocks_of(patients)
    contexts = {}
    for patient in patients:
        claims = [account for account in accounts[patient.pk] if account.claim.patient_balance != 0]
        plan = plans[patient.pk]
        for source in STATEMENT_PLAN_SOURCES:
            plan = plan or source(patient)
        contexts[patient.pk] = {
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
            "totals": totals[patient.pk],
            "due_by": today + datetime.timedelta(days=settings.statement_cycle_days),
            "plan": plan,
            "settings": settings,
        }
    return contexts


def statement_html(context: dict) -> str:
    return render_to_string("payment_plans/statement_pdf.html", context)


STATEMENT_CSS = "payment_plans/statement_pdf.css"


def statement_html_to_pdf(html: str) -> bytes:
    """A statement's PDF: its stylesheet parsed once, and the lean HTML defaults (``rcm.pdf``)."""
    return html_to_pdf(html, css=STATEMENT_CSS, lean=True)


def statement_pdf(patient, *, today: datetime.date, kind: str = StatementKind.STATEMENT) -> bytes:
    return statement_html_to_pdf(statement_html(statement_context(patient, today=today, kind=kind)))


def statement_key(practice_id: int, patient_id: int, day: datetime.date, kind: str) -> str:
    return f"{practice_id}:{patient_id}:{day.isoformat()}:{kind}"


def statement_send(
    *,
    practice,
    patient,
    user=None,
    today=None,
    kind: str = StatementKind.STATEMENT,
    at=None,
) -> Statement | None:
    """Render and record one statement for ``patient`` (the account page's button, the demo); the
    patient's settled claims move to the patient-billed path. Returns None when one with the same key
    was already sent: nothing twice."""
    today = today or timezone.localdate()
    key = statement_key(practice.pk, patient.pk, today, kind)
    if Statement.objects.filter(key=key).exists():
        return None
    context = statement_context(patient, today=today, kind=kind)
    # Outside the transaction: rendering is the slow part.
    statement = _statement_row(
        practice, patient, context, statement_html_to_pdf(statement_html(context)), key=key, user=user, at=at
    )
    try:
        _statements_record(practice, [statement], user=user, at=at)
    except IntegrityError:
        return None  # the same statement was recorded meanwhile by another run
    return statement


def _statement_row(practice, patient, context: dict, pdf: bytes, *, key: str, user, run: str = "", at=None):
    """The (unsaved) record of a rendered statement: what it said and the PDF as sent."""
    return Statement(
        practice=practice,
        patient=patient,
        kind=context["kind"],
        key=key,
        statement_date=context["today"],
        balance=context["totals"]["owed"],
        credit=context["totals"]["credit"],
        claim_count=len(context["claims"]),
        pdf=pdf,
        sent_by=user if user is not None and user.is_authenticated else None,
        run=run,
        sent_at=at or timezone.now(),
    )


def _statements_record(practice, statements: list[Statement], *, user, at=None) -> None:
    """Record rendered statements in one transaction: their rows, their patients' settled claims moved to
    patient-billed, one audit event each. Raises ``IntegrityError`` (and records none) when one of them was
    recorded meanwhile (its key)."""
    with transaction.atomic():
        Statement.objects.bulk_create(statements)
        claims_bill_patient(
            practice=practice,
            patient_ids=[statement.patient_id for statement in statements],
            user=user,
            reason="Statement sent",
            at=at,
        )
        audit_records_bulk(
            [
                {
                    "action": AuditAction.CREATE,
                    "practice_id": practice.pk,
                    "object_type": "payment_plans.statement",
                    "object_id": statement.pk,
                    "changes": {
                        "patient": statement.patient_id,
                        "balance": str(statement.balance),
                        "kind": statement.kind,
                    },
                }
                for statement in statements
            ],
            user=user,
        )


@dataclasses.dataclass(frozen=True, slots=True)
class DuePatient:
    """A patient due a statement, as the run's page lists them (no more is read for tens of thousands)."""

    pk: int
    account_number: str
    first_name: str
    last_name: str
    owed: Decimal
    last_statement: datetime.date | None


def statement_candidates(practice, *, today=None) -> tuple[list[DuePatient], dict[int, str]]:
    """Patients with a balance of at least the practice's minimum, and the reasons others are left out
    (a statement within the cycle, an open hold, a hook's hold). Three queries plus the hooks'."""
    today = today or timezone.localdate()
    settings = collections_settings(practice)
    cycle_start = today - datetime.timedelta(days=settings.statement_cycle_days - 1)
    # The last statement as a subquery: joined beside the claims, each claim would count once per statement.
    last_statement = (
        Statement.objects.filter(practice=practice, patient=OuterRef("pk"))
        .order_by("-statement_date")
        .values("statement_date")[:1]
    )
    owed = (
        Patient.objects.filter(practice=practice)
        .annotate(owed=patient_owed())
        .filter(owed__gte=max(settings.minimum_statement_balance, Decimal("0.01")))
        .annotate(last_statement=Subquery(last_statement))
        .order_by("last_name", "first_name", "id")
        .values_list("id", "account_number", "first_name", "last_name", "owed", "last_statement")
    )
    patients = [DuePatient(*row) for row in owed]
    ids = {p.pk for p in patients}
    skipped: dict[int, str] = {}
    for patient in patients:
        if patient.last_statement and patient.last_statement >= cycle_start:
            skipped[patient.pk] = (
                f"statement sent {patient.last_statement:%m/%d/%Y}, "
                f"within the {settings.statement_cycle_days}-day cycle"
            )
    # The practice's open holds and current plans are few: read them all rather than send every id.
    for hold in AccountHold.objects.filter(practice=practice, released_at__isnull=True):
        if hold.patient_id in ids:
            skipped.setdefault(hold.patient_id, f"on hold: {hold.get_kind_display().lower()}")
    for source in [_plan_current_holds, *STATEMENT_HOLD_SOURCES]:
        for patient_id, reason in source(practice, ids).items():
            if patient_id in ids:
                skipped.setdefault(patient_id, reason)
    return [p for p in patients if p.pk not in skipped], skipped


@dataclasses.dataclass
class StatementRunResult:
    run: str
    dry_run: bool
    selected: list[DuePatient]  # patients to bill
    skipped: dict  # patient id -> reason
    sent: int = 0
    not_sent: int = 0
    failed: int = 0
    record: StatementRun | None = None

    @property
    def summary(self) -> str:
        held = f"{len(self.skipped)} held or within the statement cycle."
        if self.dry_run:
            return f"Dry run: {len(self.selected)} statement(s) would be sent; {held}"
        words = [f"{self.sent} statement(s) sent of {len(self.selected)} due; {held}"]
        if self.not_sent:
            words.append(f"{self.not_sent} not sent (sent already, or nothing owed any more).")
        if self.failed:
            words.append(f"{self.failed} failed (the log names each patient id).")
        return " ".join(words)


def statement_run_in_progress(practice) -> StatementRun | None:
    """The practice's run that still has chunks to render (started within a day: a run whose worker
    died long ago does not block the next one; its statements' keys still keep anything from going twice)."""
    return (
        StatementRun.objects.filter(
            practice=practice,
            finished_at__isnull=True,
            started_at__gte=timezone.now() - RUN_STALE_AFTER,
        )
        .order_by("-started_at")
        .first()
    )


def _run_record(
    practice, today, selected, skipped, user, source, chunk_size
) -> tuple[StatementRun, list[int]]:
    """Write the run and its chunks (the patients' ids, in the run's order); a run with nobody due is
    finished at once. Returns the run and its chunks' ids."""
    now = timezone.now()
    record = StatementRun.objects.create(
        practice=practice,
        run=f"run-{today:%Y%m%d}-{uuid.uuid4().hex[:8]}",
        statement_date=today,
        source=source,
        started_by=user if user is not None and user.is_authenticated else None,
        started_at=now,
        selected=len(selected),
        held=len(skipped),
        finished_at=None if selected else now,
    )
    ids = [patient.pk for patient in selected]
    StatementRunChunk.objects.bulk_create(
        StatementRunChunk(statement_run=record, number=n, patient_ids=ids[start : start + chunk_size])
        for n, start in enumerate(range(0, len(ids), chunk_size), start=1)
    )
    return record, list(record.chunks.order_by("number").values_list("pk", flat=True))


def statement_run_chunk(chunk_id: int) -> StatementRunChunk:
    """Render the statements of one chunk (its accounts read together), record them in one transaction
    (each in its own when that one is refused, so one failure does not undo the others), then mark the
    chunk done with its counts, and the run finished when it was the last. A chunk delivered twice does its
    work once: a done chunk returns at once, and a statement already recorded is not sent again."""
    chunk = StatementRunChunk.objects.select_related(
        "statement_run__practice", "statement_run__started_by"
    ).get(pk=chunk_id)
    if chunk.done_at is not None:
        return chunk
    record = chunk.statement_run
    order = {pk: n for n, pk in enumerate(chunk.patient_ids)}
    patients = sorted(
        Patient.objects.filter(practice=record.practice, pk__in=chunk.patient_ids).select_related("practice"),
        key=lambda patient: order[patient.pk],
    )
    practice, day, kind = record.practice, record.statement_date, StatementKind.STATEMENT
    keys = {patient.pk: statement_key(practice.pk, patient.pk, day, kind) for patient in patients}
    recorded = set(Statement.objects.filter(key__in=keys.values()).values_list("key", flat=True))
    contexts = statement_contexts(patients, today=day)
    sent = not_sent = failed = 0
    rendered = []  # (patient, context, pdf)
    for patient in patients:
        context = contexts[patient.pk]
        if keys[patient.pk] in recorded or context["totals"]["owed"] <= 0:
            not_sent += 1  # sent already (a chunk delivered twice), or paid since the run picked the patient
            continue
        try:
            rendered.append((patient, context, statement_html_to_pdf(statement_html(context))))
        except Exception:  # one patient's bad data must not stop the practice's run: counted and logged
            logger.exception(
                "Statement run %s: the statement of patient id %s failed", record.run, patient.pk
            )
            failed += 1

    def rows(items):
        user = record.started_by
        return [
            _statement_row(practice, p, c, pdf, key=keys[p.pk], user=user, run=record.run)
            for p, c, pdf in items
        ]

    # The chunk's statements recorded together; if the batch is refused (one recorded meanwhile by another
    # run, one patient's claims that cannot move), each on its own, so one does not undo the others.
    try:
        _statements_record(practice, rows(rendered), user=record.started_by)
        sent += len(rendered)
    except Exception:
        for item in rendered:
            try:
                _statements_record(practice, rows([item]), user=record.started_by)
            except IntegrityError:
                not_sent += 1  # the same statement was recorded meanwhile by another run
            except Exception:
                logger.exception(
                    "Statement run %s: the statement of patient id %s failed", record.run, item[0].pk
                )
                failed += 1
            else:
                sent += 1
    now = timezone.now()
    with transaction.atomic():
        StatementRun.objects.select_for_update().filter(pk=record.pk).first()  # one chunk finishes at a time
        done = StatementRunChunk.objects.filter(pk=chunk.pk, done_at__isnull=True).update(
            sent=sent, not_sent=not_sent, failed=failed, done_at=now
        )
        if done and not StatementRunChunk.objects.filter(statement_run=record, done_at__isnull=True).exists():
            StatementRun.objects.filter(pk=record.pk, finished_at__isnull=True).update(finished_at=now)
    chunk.refresh_from_db()
    return chunk


def statement_run(
    *,
    practice,
    today=None,
    dry_run: bool = False,
    user=None,
    source: str = StatementRunSource.COMMAND,
    chunk_size: int = RUN_CHUNK_SIZE,
    progress=None,
) -> StatementRunResult:
    """The statement run of ``practice`` for ``today``, here and now (the command): picks
    (``statement_candidates``), records the run, and unless ``dry_run`` renders its chunks one after the
    other (``statement_run_chunk``), calling ``progress(chunk)`` after each. Safe to run twice: the second
    run sends nothing."""
    today = today or timezone.localdate()
    selected, skipped = statement_candidates(practice, today=today)
    result = StatementRunResult(run="", dry_run=dry_run, selected=selected, skipped=skipped)
    if dry_run:
        return result
    with transaction.atomic():
        record, chunk_ids = _run_record(practice, today, selected, skipped, user, source, chunk_size)
    result.run, result.record = record.run, record
    for chunk_id in chunk_ids:
        chunk = statement_run_chunk(chunk_id)
        result.sent += chunk.sent
        result.not_sent += chunk.not_sent
        result.failed += chunk.failed
        if progress is not None:
            progress(chunk)
    return result


def statement_run_queue(
    *,
    practice,
    today=None,
    user=None,
    source: str = StatementRunSource.PAGE,
    chunk_size: int = RUN_CHUNK_SIZE,
) -> StatementRun:
    """Start the statement run of ``practice`` in the background (the page and the nightly task): records
    the run and queues one Celery task per chunk through the outbox, in one transaction, so that the
    workers share a long run and the page shows its progress. Refused while another run of the practice
    is still going."""
    from payment_plans.tasks import statement_run_chunk_task  # tasks import this module

    today = today or timezone.localdate()
    going = statement_run_in_progress(practice)
    if going is not None:
        raise ValidationError(
            f"A statement run started at {timezone.localtime(going.started_at):%H:%M} is still going: "
            "wait for it to finish."
        )
    selected, skipped = statement_candidates(practice, today=today)
    with transaction.atomic():
        record, chunk_ids = _run_record(practice, today, selected, skipped, user, source, chunk_size)
        for chunk_id in chunk_ids:
            task_enqueue(statement_run_chunk_task, chunk_id)
    return record


def statement_due_claims(patient):
    return Claim.objects.filter(patient=patient, patient_balance__gt=0).exclude(status=ClaimStatus.VOIDED)
