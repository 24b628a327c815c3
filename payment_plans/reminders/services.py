"""The daily reminder job (``reminders_run``) and the patient's opt-out (``reminder_opt_out``).

One run for one practice: the missed-installment detection first (``plans_status_refresh``), then the
occasions of the day, each on every channel the patient consented to:

- an installment due within ``UPCOMING_DAYS`` days (``upcoming``);
- an installment unpaid 1, 7 and 14 days after its due date (``missed_1``, ``missed_7``, ``missed_14``: the
  latest that applies, so a job that did not run for a few days catches up with one message, not three);
- a balance the patient was sent a statement for, that no plan covers and no hold stops, at most once per
  the policy's ``statement_reminder_days`` (``balance``).

The rules: only channels with consent in force (the latest ``ConsentEvent``) and a contact; only between 8am
and 9pm in the patient's time zone (otherwise the row waits, deferred, for the next window); a patient without
a valid time zone is held and counted, never contacted; at most ``WEEKLY_CAP`` attempts per patient in any 7
days across channels (missed payments first).

Sent once: every message is a ``Reminder`` row under a unique (key, channel), inserted queued before anything
is sent; each is moved queued → sending by a compare-and-set update just before it goes out, then to sent.
Two runs at once, a second run the same day, or a retry after a crash send nothing twice.
"""

import dataclasses
import datetime
import zoneinfo
from collections import defaultdict
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from claims.models import Claim
from payment_plans.models import (
    AccountHold,
    Installment,
    InstallmentStatus,
    PlanStatus,
    Reminder,
    ReminderChannel,
    ReminderKind,
    ReminderStatus,
    Statement,
)
from payment_plans.plans.selectors import policy_for
from payment_plans.plans.services import plans_status_refresh
from payment_plans.reminders.messages import compose, language_of
from payment_plans.reminders.sms import sms_backend
from rcm.audit import audit_record, current_context
from rcm.bulk import bulk_update_values
from rcm.models import AuditAction, Channel, ConsentEvent, Patient, Practice
from rcm.services import consent_record

UPCOMING_DAYS = 3
MISSED_DAYS = (1, 7, 14)
MISSED_LOOKBACK = 20  # the 14-day reminder is still sent up to 20 days late (a job down for a week)
WINDOW_START, WINDOW_END = 8, 21  # 8am to 9pm local
WEEKLY_CAP = 7
STALE_QUEUED = datetime.timedelta(hours=12)
CHUNK = 500
ST = ReminderStatus
PRIORITY = {"missed_14": 0, "missed_7": 1, "missed_1": 2, "upcoming": 3, "balance": 4}
STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "ALTO", "PARAR"}


@dataclasses.dataclass
class Occasion:
    patient_id: int
    kind: str
    key_date: datetime.date
    key: str
    amount: Decimal
    date: datetime.date | None
    plan_id: int | None = None
    installment_id: int | None = None


@dataclasses.dataclass
class RunResult:
    practice: str
    today: datetime.date
    dry_run: bool = False
    sent: int = 0
    failed: int = 0
    deferred: int = 0
    already_sent: int = 0
    capped: int = 0
    no_consent: int = 0
    no_time_zone: int = 0
    skipped: int = 0
    status_changes: dict = dataclasses.field(default_factory=dict)
    would_send: list = dataclasses.field(default_factory=list)
    held_patient_ids: list = dataclasses.field(default_factory=list)

    def summary(self) -> str:
        verb = "would send" if self.dry_run else "sent"
        count = len(self.would_send) if self.dry_run else self.sent
        return (
            f"{self.practice} {self.today}: {verb} {count}, deferred {self.deferred}, failed {self.failed}, "
            f"already sent {self.already_sent}, over the weekly limit {self.capped}, without consent "
            f"{self.no_consent}, without a time zone {self.no_time_zone}; plans: "
            + ", ".join(f"{k} {v}" for k, v in self.status_changes.items())
        )


def _chunks(items: list, size: int = CHUNK):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _zone(name: str):
    try:
        return zoneinfo.ZoneInfo(name) if name else None
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


def _next_window(now: datetime.datetime, zone) -> datetime.datetime | None:
    """None when ``now`` is inside the patient's 8am–9pm window; else the start of the next one."""
    local = now.astimezone(zone)
    if WINDOW_START <= local.hour < WINDOW_END:
        return None
    day = local.date() if local.hour < WINDOW_START else local.date() + datetime.timedelta(days=1)
    return datetime.datetime.combine(day, datetime.time(WINDOW_START), tzinfo=zone)


def _occasions(practice: Practice, today: datetime.date) -> list[Occasion]:
    occasions = []
    plan_open = (PlanStatus.ACTIVE, PlanStatus.DELINQUENT)
    upcoming = Installment.objects.filter(
        practice=practice,
        status__in=(InstallmentStatus.DUE, InstallmentStatus.PARTIAL),
        plan__status__in=plan_open,
        due_date__range=(today, today + datetime.timedelta(days=UPCOMING_DAYS)),
    ).values_list("pk", "plan_id", "plan__patient_id", "due_date", "amount", "paid_amount")
    for pk, plan_id, patient_id, due, amount, paid in upcoming:
        occasions.append(
            Occasion(patient_id, "upcoming", due, f"i{pk}:upcoming:{due}", amount - paid, due, plan_id, pk)
        )
    late = Installment.objects.filter(
        practice=practice,
        status__in=(InstallmentStatus.DUE, InstallmentStatus.PARTIAL, InstallmentStatus.MISSED),
        plan__status__in=plan_open,
        due_date__range=(
            today - datetime.timedelta(days=MISSED_LOOKBACK),
            today - datetime.timedelta(days=1),
        ),
    ).values_list("pk", "plan_id", "plan__patient_id", "due_date", "amount", "paid_amount")
    for pk, plan_id, patient_id, due, amount, paid in late:
        days = max(n for n in MISSED_DAYS if (today - due).days >= n)
        kind = f"missed_{days}"
        key_date = due + datetime.timedelta(days=days)
        occasions.append(
            Occasion(patient_id, kind, key_date, f"i{pk}:{kind}:{key_date}", amount - paid, due, plan_id, pk)
        )
    policy = policy_for(practice)
    recent = Reminder.objects.filter(
        practice=practice,
        kind=ReminderKind.BALANCE,
        key_date__gt=today - datetime.timedelta(days=policy.statement_reminder_days),
    ).values("patient_id")
    # A balance the patient was sent a statement for, no plan covers, and no hold (dispute...) stops.
    balances = (
        Claim.objects.filter(practice=practice, patient_balance__gt=0)
        .filter(patient_id__in=Statement.objects.filter(practice=practice).values("patient_id"))
        .exclude(patient_id__in=AccountHold.objects.filter(released_at__isnull=True).values("patient_id"))
        .exclude(patient__payment_plans__status__in=(*plan_open, PlanStatus.DEFAULTED))
        .exclude(patient_id__in=recent)
        .values("patient_id")
        .annotate(total=Sum("patient_balance"))
    )
    for row in balances:
        occasions.append(
            Occasion(
                row["patient_id"],
                "balance",
                today,
                f"p{row['patient_id']}:balance:{today}",
                row["total"],
                None,
            )
        )
    occasions.sort(key=lambda o: (PRIORITY[o.kind], o.key))
    return occasions


def _consents(patient_ids: list[int]) -> dict[int, set[str]]:
    """Patient -> channels (email, sms) with consent in force: the latest event per channel wins."""
    granted: dict[int, set[str]] = defaultdict(set)
    for ids in _chunks(patient_ids):
        seen = set()
        events = (
            ConsentEvent.objects.filter(patient_id__in=ids, channel__in=(Channel.EMAIL, Channel.SMS))
            .order_by("patient_id", "channel", "-at", "-id")
            .values_list("patient_id", "channel", "granted")
        )
        for patient_id, channel, ok in events:
            if (patient_id, channel) not in seen:
                seen.add((patient_id, channel))
                if ok:
                    granted[patient_id].add(channel)
    return granted


def _attempts(practice, patient_ids: list[int], now) -> dict[int, int]:
    since = now - datetime.timedelta(days=7)
    counts: dict[int, int] = {}
    for ids in _chunks(patient_ids):
        rows = (
            Reminder.objects.filter(practice=practice, patient_id__in=ids)
            .filter(Q(sent_at__gte=since) | Q(status__in=(ST.QUEUED, ST.SENDING), created_at__gte=since))
            .values("patient_id")
            .annotate(n=Count("id"))
        )
        counts.update({row["patient_id"]: row["n"] for row in rows})
    return counts


def _plan_messages(practice, occasions, now, today, result: RunResult):
    """Decide each (occasion, channel): new rows to insert, rows to take up again, and the counts."""
    existing = {
        (key, channel): (pk, status, not_before)
        for pk, key, channel, status, not_before in Reminder.objects.filter(
            practice=practice,
            key_date__range=(
                today - datetime.timedelta(days=MISSED_LOOKBACK + 1),
                today + datetime.timedelta(days=7),
            ),
        ).values_list("pk", "key", "channel", "status", "not_before")
    }
    patient_ids = sorted({o.patient_id for o in occasions})
    patients = {}
    for ids in _chunks(patient_ids):
        patients.update(
            Patient.objects.only("first_name", "email", "phone", "preferred_language", "time_zone").in_bulk(
                ids
            )
        )
    consents = _consents(patient_ids)
    attempts = _attempts(practice, patient_ids, now)
    new_rows, retake, held = [], [], set()
    wanted = set()
    for occasion in occasions:
        patient = patients[occasion.patient_id]
        channels = [
            channel
            for channel, contact in (
                (ReminderChannel.EMAIL, patient.email),
                (ReminderChannel.SMS, patient.phone),
            )
            if contact and channel in consents.get(patient.pk, ())
        ]
        if not channels:
            result.no_consent += 1
            continue
        zone = _zone(patient.time_zone)
        if zone is None:
            result.no_time_zone += 1
            held.add(patient.pk)
            continue
        wait_until = _next_window(now, zone)
        language = language_of(patient.preferred_language)
        for channel in channels:
            wanted.add((occasion.key, channel))
            found = existing.get((occasion.key, channel))
            if found is not None:
                pk, status, not_before = found
                if status in (ST.SENT, ST.SENDING, ST.SKIPPED, ST.QUEUED):
                    result.already_sent += 1
                    continue
                if wait_until is not None:  # deferred or failed, still outside the window
                    result.deferred += 1
                    continue
            elif wait_until is not None:
                result.deferred += 1
            if wait_until is None and attempts.get(patient.pk, 0) >= WEEKLY_CAP:
                result.capped += 1
                continue
            if wait_until is None:
                attempts[patient.pk] = attempts.get(patient.pk, 0) + 1
            if found is not None:
                retake.append(found[0])
                continue
            subject, body = compose(
                kind=occasion.kind,
                language=language,
                channel=channel,
                first_name=patient.first_name,
                practice=practice,
                amount=occasion.amount,
                date=occasion.date,
            )
            new_rows.append(
                Reminder(
                    practice=practice,
                    patient_id=patient.pk,
                    plan_id=occasion.plan_id,
                    installment_id=occasion.installment_id,
                    kind=occasion.kind,
                    key_date=occasion.key_date,
                    key=occasion.key,
                    channel=channel,
                    language=language,
                    status=ST.DEFERRED if wait_until else ST.QUEUED,
                    not_before=wait_until,
                    created_at=now,
                    body=f"{subject}\n\n{body}" if channel == ReminderChannel.EMAIL else body,
                )
            )
    # Rows waiting for a window whose occasion has gone (paid, plan changed, consent withdrawn): not sent.
    moot = [
        pk
        for (key, channel), (pk, status, _nb) in existing.items()
        if status in (ST.DEFERRED, ST.FAILED) and (key, channel) not in wanted
    ]
    result.held_patient_ids = sorted(held)
    return new_rows, retake, moot


def _send(row: Reminder, connection, backend) -> str:
    patient = row.patient
    if row.channel == ReminderChannel.EMAIL:
        subject, _blank, body = row.body.partition("\n\n")
        EmailMessage(
            subject, body, settings.DEFAULT_FROM_EMAIL, [patient.email], connection=connection
        ).send()
        return "email"
    return backend.send(to=patient.phone, body=row.body)


def reminders_run(
    *, practice: Practice, now: datetime.datetime | None = None, dry_run: bool = False
) -> RunResult:
    """The daily job for one practice: missed-payment detection and status changes, then the reminders due.
    With ``dry_run`` nothing is saved or sent: the result lists what would be sent."""
    now = now or timezone.now()
    today = now.astimezone(_zone(practice.time_zone) or datetime.UTC).date()
    result = RunResult(practice=practice.slug, today=today, dry_run=dry_run)
    with transaction.atomic():
        result.status_changes = plans_status_refresh(practice=practice, today=today, at=now)
        new_rows, retake, moot = _plan_messages(practice, _occasions(practice, today), now, today, result)
        if dry_run:
            result.would_send = sorted(
                [(row.key, row.channel) for row in new_rows if row.status == ST.QUEUED]
                + list(Reminder.objects.filter(pk__in=retake).values_list("key", "channel"))
            )
            transaction.set_rollback(True)
            return result
        Reminder.objects.bulk_create(new_rows, batch_size=1000, ignore_conflicts=True)
        for ids in _chunks(retake):
            Reminder.objects.filter(pk__in=ids, status__in=(ST.DEFERRED, ST.FAILED)).update(status=ST.QUEUED)
        for ids in _chunks(moot):
            result.skipped += Reminder.objects.filter(pk__in=ids, status__in=(ST.DEFERRED, ST.FAILED)).update(
                status=ST.SKIPPED, detail="No longer due, or no consent"
            )
        # Queued rows left by a crashed run long ago are not sent late.
        Reminder.objects.filter(
            practice=practice, status=ST.QUEUED, created_at__lt=now - STALE_QUEUED
        ).update(status=ST.SKIPPED, detail="Queued by a run that did not finish")
    _deliver(practice, result, now)
    if current_context().enabled:  # data generators turn the log off
        audit_record(
            action=AuditAction.CREATE,
            practice=practice,
            object_type="payment_plans.reminder",
            changes={
                "sent": result.sent,
                "failed": result.failed,
                "deferred": result.deferred,
                "on": str(today),
            },
        )
    return result


# Rows claimed and written back per transaction while sending: two commits per batch, not two per message
# (each commit waits for the disk). A crash mid-batch leaves at most this many rows "sending", none sent
# twice.
DELIVERY_BATCH = 200


def _deliver(practice: Practice, result: RunResult, now: datetime.datetime) -> None:
    """Send every queued row of the practice, each claimed queued → sending first (one winner per row:
    rows another run holds are skipped, and a row it claimed is no longer queued). ``sent_at`` is the run's
    clock, the one the weekly limit is counted on."""
    backend = sms_backend()
    queued = Reminder.objects.filter(practice=practice, status=ST.QUEUED).order_by("pk")
    queued = list(queued.values_list("pk", flat=True))
    with get_connection() as connection:
        for ids in _chunks(queued, DELIVERY_BATCH):
            with transaction.atomic():
                mine = list(
                    Reminder.objects.select_for_update(skip_locked=True)
                    .filter(pk__in=ids, status=ST.QUEUED)
                    .values_list("pk", flat=True)
                )
                Reminder.objects.filter(pk__in=mine).update(status=ST.SENDING)
            rows = (
                Reminder.objects.filter(pk__in=mine)
                .select_related("patient")
                .only("pk", "channel", "body", "patient__email", "patient__phone")
                .order_by("pk")
            )
            done = []
            try:
                for row in rows:
                    try:
                        row.detail, row.status, row.sent_at = _send(row, connection, backend), ST.SENT, now
                        result.sent += 1
                    except Exception as error:  # noqa: BLE001 - the provider's failure is recorded, the run goes on
                        row.detail, row.status, row.sent_at = type(error).__name__[:255], ST.FAILED, None
                        result.failed += 1
                    done.append(row)
            finally:  # a worker stopped mid-batch still records what it sent (the rest stay "sending")
                with transaction.atomic():
                    bulk_update_values(Reminder, done, ["status", "sent_at", "detail"])


@transaction.atomic
def reminder_opt_out(*, patient: Patient, channel: str, method: str = "STOP reply", user=None) -> int:
    """The patient withdrew consent on ``channel``: recorded at once, and reminders waiting for a window or a
    retry on that channel are not sent. Returns how many waiting reminders were dropped."""
    consent_record(patient=patient, channel=channel, granted=False, method=method, user=user)
    return Reminder.objects.filter(
        patient=patient, channel=channel, status__in=(ST.DEFERRED, ST.FAILED, ST.QUEUED)
    ).update(status=ST.SKIPPED, detail="Consent withdrawn")


def phone_digits(phone: str) -> str:
    """A US phone number's ten digits, however it is written ("412-555-0100", "+1 (412) 555-0100")."""
    digits = "".join(ch for ch in phone if ch.isdigit())
    return digits[-10:] if len(digits) >= 10 else digits


def _patients_with_phone(patients, phone: str) -> list[Patient]:
    """The patients whose number is ``phone`` written any way: narrowed in SQL by its last four digits."""
    digits = phone_digits(phone)
    if len(digits) < 4:
        return []
    return [p for p in patients.filter(phone__endswith=digits[-4:]) if phone_digits(p.phone) == digits]


def sms_inbound(*, practice: Practice | None, phone: str, body: str) -> int:
    """A text from a patient: STOP (and its usual synonyms, in English and Spanish) opts every patient with
    that number out of texts, at once: of ``practice``, or of every practice when the number the text was
    sent to is shared by all (``practice`` None: the provider's webhook). Returns the number of patients
    opted out."""
    if body.strip().upper() not in STOP_WORDS:
        return 0
    candidates = Patient.objects.all() if practice is None else Patient.objects.filter(practice=practice)
    patients = _patients_with_phone(candidates.select_related("practice"), phone)
    for patient in patients:
        reminder_opt_out(patient=patient, channel=Channel.SMS, method="STOP reply")
    return len(patients)


def reminders_run_all(
    *, practice_slug: str | None = None, dry_run: bool = False, now=None
) -> list[RunResult]:
    """``reminders_run`` for one practice (by slug) or every active practice."""
    practices = Practice.objects.filter(is_active=True).order_by("slug")
    if practice_slug:
        practices = Practice.objects.filter(slug=practice_slug)
        if not practices.exists():
            raise ValidationError(f"No practice has the slug {practice_slug!r}.")
    return [reminders_run(practice=practice, now=now, dry_run=dry_run) for practice in practices]
