"""The collections worklist: who to call, in what order, and the specialist's writes (notes with
outcomes and promises to pay, follow-ups, holds, take next, the agency hand-off).

A patient is on the worklist when they owe and either the oldest balance is older than the practice's
``worklist_age_days`` with no payment plan, they broke a promise to pay, or their plan is delinquent or
defaulted (``WORKLIST_PLAN_SOURCES``: callables (practice) -> {patient_id: reason}). Patients sent to an
agency, or on hold, are off it.
"""

import dataclasses
import datetime
import io
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, DecimalField, Exists, Min, OuterRef, Q, Subquery
from django.utils import timezone

from payment_plans.models import (
    AccountHold,
    AccountNote,
    CallOutcome,
    CollectionAccount,
    PatientPayment,
    PaymentPlan,
    PlanStatus,
    Statement,
    StatementKind,
)
from payment_plans.payments import parse_amount
from payment_plans.selectors import collections_settings, patient_owed
from rcm.audit import audit_record, current_context
from rcm.exports import csv_writer
from rcm.models import AuditAction, Patient

ZERO = Decimal("0.00")
MONEY = DecimalField(max_digits=14, decimal_places=2)

# Hooks: (practice) -> {patient_id: reason}: patients whose plan puts them on the worklist (delinquent,
# defaulted) ...
WORKLIST_PLAN_SOURCES: list = []
# ... and (practice) -> set of patient ids on a plan in good standing (not "without a plan").
PATIENTS_ON_PLAN_SOURCES: list = []

SORTS = {"amount": "Largest balance first", "age": "Oldest balance first"}


@dataclasses.dataclass
class WorkItem:
    patient: Patient
    owed: Decimal
    oldest: datetime.date | None
    age_days: int
    reasons: list[str]
    assigned_to_id: int | None
    assigned_to_name: str


def _owing_patients(practice):
    promise = AccountNote.objects.filter(patient=OuterRef("pk"), outcome=CallOutcome.PROMISED).order_by(
        "-at", "-id"
    )
    return (
        Patient.objects.filter(practice=practice)
        .annotate(
            owed=patient_owed(),
            oldest=Min("claims__service_date", filter=Q(claims__patient_balance__gt=0)),
        )
        .filter(owed__gt=0)
        .annotate(
            promise_date=Subquery(promise.values("promise_date")[:1]),
            promise_at=Subquery(promise.values("at")[:1]),
            promise_amount=Subquery(promise.values("promise_amount")[:1]),
            assigned_to_id=Subquery(
                CollectionAccount.objects.filter(patient=OuterRef("pk")).values("assigned_to_id")[:1]
            ),
            assigned_to_name=Subquery(
                CollectionAccount.objects.filter(patient=OuterRef("pk")).values("assigned_to__username")[:1]
            ),
            at_agency=Exists(
                CollectionAccount.objects.filter(patient=OuterRef("pk"), sent_to_agency_at__isnull=False)
            ),
            on_hold=Exists(AccountHold.objects.filter(patient=OuterRef("pk"), released_at__isnull=True)),
        )
        .filter(at_agency=False, on_hold=False)
    )


def _plans_in_trouble(practice) -> dict[int, str]:
    """Patients whose plan is delinquent or defaulted, with the plan's state in words."""
    words = {PlanStatus.DELINQUENT: "Payment plan delinquent", PlanStatus.DEFAULTED: "Payment plan defaulted"}
    reasons: dict[int, str] = {}
    for patient_id, status in (
        PaymentPlan.objects.filter(
            practice=practice, status__in=[PlanStatus.DELINQUENT, PlanStatus.DEFAULTED]
        )
        .values_list("patient_id", "status")
        .order_by("status")
    ):
        reasons[patient_id] = words[status]  # defaulted sorts after delinquent: the worse one wins
    return reasons


def _patients_on_a_current_plan(practice) -> set[int]:
    return set(
        PaymentPlan.objects.filter(practice=practice, status=PlanStatus.ACTIVE).values_list(
            "patient_id", flat=True
        )
    )


def collections_worklist(practice, *, today=None, sort: str = "amount") -> list[WorkItem]:
    """The worklist rows, sorted by amount (largest first) or age (oldest balance first). One query for
    the patients, one for the payments after broken promises, two for the plans, plus the plan hooks."""
    today = today or timezone.localdate()
    settings = collections_settings(practice)
    old_before = today - datetime.timedelta(days=settings.worklist_age_days)
    patients = list(_owing_patients(practice))
    plan_reasons: dict[int, str] = _plans_in_trouble(practice)
    for source in WORKLIST_PLAN_SOURCES:
        plan_reasons.update(source(practice))
    on_plan: set[int] = _patients_on_a_current_plan(practice)
    for source in PATIENTS_ON_PLAN_SOURCES:
        on_plan |= set(source(practice))
    promised = {p.pk: p.promise_at for p in patients if p.promise_date and p.promise_date < today}
    paid_since = set()
    if promised:
        paid_since = {
            pid
            for pid, at in PatientPayment.objects.filter(patient_id__in=list(promised)).values_list(
                "patient_id", "recorded_at"
            )
            if at >= promised[pid]
        }
    items = []
    for patient in patients:
        reasons = []
        if patient.pk in plan_reasons:
            reasons.append(plan_reasons[patient.pk])
        if patient.pk in promised and patient.pk not in paid_since:
            amount = f"{patient.promise_amount} " if patient.promise_amount else ""
            reasons.append(f"Broke a promise to pay {amount}by {patient.promise_date:%m/%d/%Y}")
        if (
            patient.oldest
            and patient.oldest < old_before
            and patient.pk not in on_plan
            and patient.pk not in plan_reasons
        ):
            reasons.append(f"Balance over {settings.worklist_age_days} days old, no payment plan")
        if not reasons:
            continue
        items.append(
            WorkItem(
                patient=patient,
                owed=patient.owed,
                oldest=patient.oldest,
                age_days=(today - patient.oldest).days if patient.oldest else 0,
                reasons=reasons,
                assigned_to_id=patient.assigned_to_id,
                assigned_to_name=patient.assigned_to_name or "",
            )
        )
    if sort == "age":
        items.sort(key=lambda i: (-i.age_days, -i.owed, i.patient.pk))
    else:
        items.sort(key=lambda i: (-i.owed, -i.age_days, i.patient.pk))
    return items


def specialist_counts(practice, *, today=None) -> list[dict]:
    """Per specialist: accounts assigned, notes written today and follow-ups due."""
    today = today or timezone.localdate()
    assigned = {
        row["assigned_to__username"]: row["n"]
        for row in CollectionAccount.objects.filter(
            practice=practice, assigned_to__isnull=False, sent_to_agency_at__isnull=True
        )
        .values("assigned_to__username")
        .annotate(n=Count("id"))
    }
    notes = {
        row["by__username"]: (row["today"], row["due"])
        for row in AccountNote.objects.filter(practice=practice, by__isnull=False)
        .values("by__username")
        .annotate(
            today=Count("id", filter=Q(at__date=today)),
            due=Count("id", filter=Q(follow_up_on__lte=today)),
        )
    }
    names = sorted(set(assigned) | set(notes))
    return [
        {
            "username": n,
            "assigned": assigned.get(n, 0),
            "notes_today": notes.get(n, (0, 0))[0],
            "follow_ups": notes.get(n, (0, 0))[1],
        }
        for n in names
    ]


def follow_ups_due(practice, user, *, today=None):
    """The user's follow-ups due today or earlier that no later note on the same patient answered."""
    today = today or timezone.localdate()
    later = AccountNote.objects.filter(patient=OuterRef("patient"), at__gt=OuterRef("at"))
    return (
        AccountNote.objects.filter(practice=practice, by=user, follow_up_on__lte=today)
        .annotate(answered=Exists(later))
        .filter(answered=False)
        .select_related("patient")
        .order_by("follow_up_on", "id")
    )


# --- writes ------------------------------------------------------------------------------------


@transaction.atomic
def account_note_add(
    *,
    practice,
    patient,
    user,
    outcome: str = CallOutcome.NOTE,
    text: str = "",
    promise_amount=None,
    promise_date=None,
    follow_up_on=None,
    today=None,
    at=None,
) -> AccountNote:
    """A call note or note on the account. A promise to pay needs its date (today or later); a follow-up
    cannot be in the past. Nothing is saved when something is wrong."""
    today = today or timezone.localdate()
    if patient.practice_id != practice.pk:
        raise ValidationError("This patient belongs to another practice.")
    if outcome not in CallOutcome.values:
        raise ValidationError({"outcome": f"Unknown call outcome {outcome!r}."})
    text = (text or "").strip()
    if promise_amount in (None, ""):
        promise_amount = None
    if outcome == CallOutcome.PROMISED:
        if promise_date is None:
            raise ValidationError(
                {"promise_date": "A promise to pay needs the date the patient promised to pay by."}
            )
        if promise_date < today:
            raise ValidationError(
                {"promise_date": f"The promised date {promise_date:%m/%d/%Y} is in the past."}
            )
        if promise_amount not in (None, ""):
            promise_amount = parse_amount(promise_amount, field="promise_amount")
        else:
            promise_amount = None
    elif promise_date or promise_amount is not None:
        raise ValidationError(
            {"outcome": "A promised date or amount goes with the outcome “Promised to pay”."}
        )
    if follow_up_on is not None and follow_up_on < today:
        raise ValidationError({"follow_up_on": f"The follow-up date {follow_up_on:%m/%d/%Y} is in the past."})
    if outcome == CallOutcome.NOTE and not text:
        raise ValidationError({"text": "Write the note."})
    note = AccountNote.objects.create(
        practice=practice,
        patient=patient,
        outcome=outcome,
        text=text,
        promise_amount=promise_amount,
        promise_date=promise_date if outcome == CallOutcome.PROMISED else None,
        follow_up_on=follow_up_on,
        by=user if user is not None and user.is_authenticated else None,
        at=at or timezone.now(),
    )
    if current_context().enabled:  # data generators turn the log off
        audit_record(
            action=AuditAction.CREATE,
            practice=practice,
            object_type="payment_plans.accountnote",
            object_id=note.pk,
            changes={"patient": patient.pk, "outcome": outcome},
            user=user,
        )
    if outcome == CallOutcome.DISPUTE:
        account_hold_set(
            practice=practice, patient=patient, user=user, kind="dispute", reason="Disputed on a call"
        )
    return note


@transaction.atomic
def account_hold_set(
    *, practice, patient, user, kind: str = "dispute", reason: str = "", at=None
) -> AccountHold:
    """Hold statements and collections for the patient (one open hold at a time)."""
    if patient.practice_id != practice.pk:
        raise ValidationError("This patient belongs to another practice.")
    existing = AccountHold.objects.filter(patient=patient, released_at__isnull=True).first()
    if existing:
        return existing
    return AccountHold.objects.create(
        practice=practice,
        patient=patient,
        kind=kind,
        reason=reason[:255],
        created_by=user if user is not None and user.is_authenticated else None,
        created_at=at or timezone.now(),
    )


@transaction.atomic
def account_hold_release(*, practice, patient, user) -> int:
    holds = list(
        AccountHold.objects.select_for_update().filter(
            practice=practice, patient=patient, released_at__isnull=True
        )
    )
    for hold in holds:
        hold.released_at = timezone.now()
        hold.save(update_fields=["released_at"])
    return len(holds)


@transaction.atomic
def collections_assign(*, practice, patient, user) -> CollectionAccount:
    account, _created = CollectionAccount.objects.select_for_update().get_or_create(
        practice=practice, patient=patient
    )
    account.assigned_to = user
    account.assigned_at = timezone.now()
    account.save(update_fields=["assigned_to", "assigned_at"])
    return account


def collections_take_next(*, practice, user, today=None) -> Patient | None:
    """Assign the first worklist row nobody else works (the user's own first) to ``user``."""
    for item in collections_worklist(practice, today=today):
        if item.assigned_to_id in (None, user.pk):
            with transaction.atomic():
                account, _ = CollectionAccount.objects.select_for_update().get_or_create(
                    practice=practice, patient=item.patient
                )
                if account.assigned_to_id not in (None, user.pk):
                    continue  # taken meanwhile
                account.assigned_to = user
                account.assigned_at = timezone.now()
                account.save(update_fields=["assigned_to", "assigned_at"])
            return item.patient
    return None


def agency_notices(practice, patient_ids) -> dict[int, dict]:
    """Per patient: statements and final notices sent (dates), and whether the practice's required
    notices are complete."""
    settings = collections_settings(practice)
    sent: dict[int, dict] = {pid: {"statements": [], "final": []} for pid in patient_ids}
    for pid, kind, day in Statement.objects.filter(
        practice=practice, patient_id__in=list(patient_ids)
    ).values_list("patient_id", "kind", "statement_date"):
        sent[pid]["final" if kind == StatementKind.FINAL_NOTICE else "statements"].append(day)
    for info in sent.values():
        total = len(info["statements"]) + len(info["final"])
        missing = []
        if total < settings.notices_before_agency:
            missing.append(f"{total} of {settings.notices_before_agency} notices sent")
        if settings.final_notice_required and not info["final"]:
            missing.append("no final notice sent")
        info["missing"] = missing
        info["ready"] = not missing
    return sent


AGENCY_COLUMNS = [
    "Account",
    "Last name",
    "First name",
    "Date of birth",
    "Address",
    "City",
    "State",
    "ZIP",
    "Phone",
    "Balance",
    "Oldest date of service",
    "Notices sent",
    "Final notice",
]


@transaction.atomic
def collections_agency_handoff(*, practice, patient_ids, user, agency_name: str, today=None) -> str:
    """The CSV for an outside agency of the patients given, only when every one of them was sent the
    practice's required notices; their accounts are marked as sent to the agency. Refused whole (nothing
    marked) when one is not ready, naming who and why."""
    today = today or timezone.localdate()
    agency_name = (agency_name or "").strip()
    if not agency_name:
        raise ValidationError({"agency_name": "Name the agency the accounts go to."})
    patients = {p.pk: p for p in _owing_patients(practice).filter(pk__in=list(patient_ids))}
    if not patients:
        raise ValidationError({"patients": "Choose at least one patient who owes a balance."})
    missing = [pid for pid in patient_ids if pid not in patients]
    if missing:
        raise ValidationError(
            {"patients": "Some chosen patients owe nothing, are on hold or were already sent."}
        )
    notices = agency_notices(practice, list(patients))
    not_ready = [
        f"{patients[pid].account_number}: {', '.join(info['missing'])}"
        for pid, info in notices.items()
        if not info["ready"]
    ]
    if not_ready:
        raise ValidationError({"patients": "Required notices not sent yet — " + "; ".join(not_ready)})
    out = io.StringIO()
    writer = csv_writer(out)
    writer.writerow(AGENCY_COLUMNS)
    now = timezone.now()
    for pid, patient in sorted(patients.items()):
        info = notices[pid]
        writer.writerow(
            [
                v
                for v in (
                    patient.account_number,
                    patient.last_name,
                    patient.first_name,
                    patient.date_of_birth,
                    patient.address_line1,
                    patient.city,
                    patient.state,
                    patient.postal_code,
                    patient.phone,
                    patient.owed,
                    patient.oldest,
                    " ".join(d.isoformat() for d in sorted(info["statements"] + info["final"])),
                    max(info["final"]).isoformat() if info["final"] else "",
                )
            ]
        )
        account, _ = CollectionAccount.objects.select_for_update().get_or_create(
            practice=practice, patient=patient
        )
        account.sent_to_agency_at = now
        account.agency_name = agency_name[:120]
        account.save(update_fields=["sent_to_agency_at", "agency_name"])
    if current_context().enabled:  # data generators turn the log off
        audit_record(
            action=AuditAction.EXPORT,
            practice=practice,
            object_type="payment_plans.agency_handoff",
            changes={"patients": sorted(patients), "agency": agency_name},
            user=user,
        )
    return out.getvalue()
