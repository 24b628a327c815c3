"""Models of the Payment plans app: patient payments and where they went, credit refunds, statements,
the practice's collections settings, and the collections worklist's notes and notices; payment plans (the
practice's plan policy, plans with their installments, status and modification history, plan payments and how
they were allocated to installments) and reminders (the log of every message sent to a patient, each under an
idempotency key).

Money itself lives in the claims ledger (``claims.ledger``): every row here that moves money points at
the ledger transaction that moved it. Payments, allocations, refunds and statements are append-only.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone

from claims.models import Claim, ClaimLine, Transaction
from rcm.append_only import AppendOnlyModel
from rcm.models import Patient, Practice, PracticeScoped

ZERO = Decimal("0.00")


class PaymentMethod(models.TextChoices):
    CASH = "cash", "Cash"
    CHECK = "check", "Check"
    CARD = "card", "Card"
    ONLINE = "online", "Online"


class PatientPayment(AppendOnlyModel):
    """Money received from (or for) a patient. Where it went is in ``allocations``; the part that found
    no balance is a credit, held on the ledger as a negative patient balance on one of the patient's
    lines (see ``payment_plans.payments``). Never changed: a correction is a refund or a reversal."""

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="payments")
    receipt_number = models.CharField(max_length=20, help_text="Our receipt number, e.g. R-000123.")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    method = models.CharField(max_length=10, choices=PaymentMethod.choices)
    reference = models.CharField(
        max_length=64,
        blank=True,
        help_text="Check number, card authorisation or online transaction id. Never a card number.",
    )
    received_on = models.DateField()
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-received_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="patient_payment_positive"),
            models.UniqueConstraint(fields=["practice", "receipt_number"], name="patient_payment_receipt"),
        ]
        indexes = [models.Index(fields=["patient", "received_on"], name="patient_payment_patient")]

    def __str__(self) -> str:
        return f"{self.receipt_number} {self.amount}"


class CreditRefund(AppendOnlyModel):
    """A credit given back to the patient; the ledger rows are REFUND transactions on the credit lines."""

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="credit_refunds")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    method = models.CharField(max_length=10, choices=PaymentMethod.choices)
    reference = models.CharField(max_length=64, blank=True)
    refunded_on = models.DateField()
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-refunded_on", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="credit_refund_positive")
        ]

    def __str__(self) -> str:
        return f"Refund {self.amount}"


class AllocationKind(models.TextChoices):
    APPLIED = "applied", "Applied to a balance"
    CREDIT = "credit", "Held as credit"
    CREDIT_USED = "credit_used", "Credit used on a later balance"
    REFUNDED = "refunded", "Credit refunded"


class PaymentAllocation(AppendOnlyModel):
    """One movement of a payment's money, tied to the ledger row that made it.

    APPLIED: a PATIENT_PAYMENT on a line with a balance. CREDIT: the remainder, a PATIENT_PAYMENT that
    takes a line's patient balance below zero. CREDIT_USED: a REFUND on a credit line paired with an
    APPLIED row on the line that consumed it. REFUNDED: a REFUND on a credit line for ``refund``.
    ``installment_id`` is free for the payment-plan side to say which installment a payment paid."""

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    payment = models.ForeignKey(
        PatientPayment, null=True, blank=True, on_delete=models.PROTECT, related_name="allocations"
    )
    refund = models.ForeignKey(
        CreditRefund, null=True, blank=True, on_delete=models.PROTECT, related_name="allocations"
    )
    kind = models.CharField(max_length=12, choices=AllocationKind.choices)
    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="+")
    line = models.ForeignKey(ClaimLine, on_delete=models.PROTECT, related_name="+")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    transaction = models.OneToOneField(Transaction, on_delete=models.PROTECT, related_name="+")
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="allocation_positive")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} on line {self.line_id}"


class CollectionsSettings(PracticeScoped):
    """The practice's statement and collections rules (one row per practice, defaults until edited)."""

    statement_cycle_days = models.PositiveSmallIntegerField(
        default=30, validators=[MinValueValidator(1)], help_text="No two statements within this many days."
    )
    minimum_statement_balance = models.DecimalField(
        max_digits=12, decimal_places=2, default=Decimal("5.00"), validators=[MinValueValidator(ZERO)]
    )
    worklist_age_days = models.PositiveSmallIntegerField(
        default=60, help_text="A balance older than this without a plan goes on the collections worklist."
    )
    notices_before_agency = models.PositiveSmallIntegerField(
        default=3, help_text="Statements or final notices to send before an account may go to an agency."
    )
    final_notice_required = models.BooleanField(
        default=True, help_text="One of the notices must be a final notice before an agency hand-off."
    )
    pay_by_phone = models.CharField(max_length=30, blank=True)
    pay_online_url = models.CharField(max_length=200, blank=True)
    pay_by_mail_to = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["practice"], name="collections_settings_one")]

    def __str__(self) -> str:
        return f"Collections settings of {self.practice_id}"


class StatementKind(models.TextChoices):
    STATEMENT = "statement", "Statement"
    FINAL_NOTICE = "final_notice", "Final notice"


class Statement(AppendOnlyModel):
    """A statement sent to a patient: what it said (the totals) and the PDF it was, kept as sent.
    ``key`` (practice + patient + date) makes a run that is repeated on the same day send nothing twice."""

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="statements")
    kind = models.CharField(max_length=15, choices=StatementKind.choices, default=StatementKind.STATEMENT)
    key = models.CharField(max_length=80, unique=True)
    statement_date = models.DateField()
    balance = models.DecimalField(max_digits=12, decimal_places=2)
    credit = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO)
    claim_count = models.PositiveIntegerField(default=0)
    pdf = models.BinaryField()
    sent_at = models.DateTimeField(default=timezone.now)
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    run = models.CharField(max_length=40, blank=True, help_text="The statement run that sent it.")

    class Meta:
        ordering = ["-statement_date", "-id"]
        indexes = [models.Index(fields=["practice", "patient", "statement_date"], name="statement_patient")]

    def __str__(self) -> str:
        return f"Statement {self.statement_date} {self.balance}"


class StatementRunSource(models.TextChoices):
    PAGE = "page", "Statement run page"
    BEAT = "beat", "Nightly run"
    COMMAND = "command", "Command line"
    API = "api", "API"


class StatementRun(PracticeScoped):
    """One statement run of a practice: who was due a statement when it started (``selected``), who was
    left out and why (``held``), and its chunks, each a Celery task of its own so that several workers share
    a long run. What was sent, not sent and failed is the sum of the chunks; the run is done when no chunk
    is pending. ``run`` is the name the statements it sent carry (``Statement.run``)."""

    run = models.CharField(max_length=40, unique=True)
    statement_date = models.DateField()
    source = models.CharField(max_length=10, choices=StatementRunSource.choices)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    started_at = models.DateTimeField(default=timezone.now)
    selected = models.PositiveIntegerField(
        default=0, help_text="Patients due a statement when the run started."
    )
    held = models.PositiveIntegerField(
        default=0, help_text="Patients left out: on hold, on a current plan or within the cycle."
    )
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-started_at", "-id"]
        indexes = [models.Index(fields=["practice", "-started_at"], name="statementrun_practice")]

    def __str__(self) -> str:
        return self.run


class StatementRunChunk(models.Model):
    """A slice of a run's patients (ids only) rendered by one task. ``done_at`` is set once, with the
    counts, in the transaction that finishes it: a chunk delivered twice is done once."""

    statement_run = models.ForeignKey(StatementRun, on_delete=models.CASCADE, related_name="chunks")
    number = models.PositiveIntegerField()
    patient_ids = models.JSONField()
    sent = models.PositiveIntegerField(default=0)
    not_sent = models.PositiveIntegerField(
        default=0, help_text="Sent already today, or nothing owed any more when its turn came."
    )
    failed = models.PositiveIntegerField(default=0)
    done_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["statement_run", "number"]
        constraints = [
            models.UniqueConstraint(fields=["statement_run", "number"], name="statementrunchunk_number")
        ]

    def __str__(self) -> str:
        return f"{self.statement_run_id} part {self.number}"


class AccountHoldKind(models.TextChoices):
    DISPUTE = "dispute", "Dispute"
    OTHER = "other", "Other"


class AccountHold(PracticeScoped):
    """A hold on statements and collections for a patient (a disputed bill, for instance)."""

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="account_holds")
    kind = models.CharField(max_length=10, choices=AccountHoldKind.choices, default=AccountHoldKind.DISPUTE)
    reason = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    released_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["patient", "released_at"], name="hold_patient_open")]


class CallOutcome(models.TextChoices):
    NO_ANSWER = "no_answer", "No answer"
    LEFT_MESSAGE = "left_message", "Left a message"
    PROMISED = "promised", "Promised to pay"
    PAID = "paid", "Paid"
    DISPUTE = "dispute", "Disputes the bill"
    WRONG_NUMBER = "wrong_number", "Wrong number"
    REFUSED = "refused", "Refused to pay"
    NOTE = "note", "Note"


class AccountNote(AppendOnlyModel):
    """A call note or note on a patient's account, with an optional promise to pay and a follow-up."""

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="account_notes")
    outcome = models.CharField(max_length=15, choices=CallOutcome.choices, default=CallOutcome.NOTE)
    text = models.TextField(blank=True)
    promise_amount = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    promise_date = models.DateField(null=True, blank=True)
    follow_up_on = models.DateField(null=True, blank=True)
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["practice", "promise_date"], name="note_promise"),
            models.Index(fields=["practice", "by", "follow_up_on"], name="note_follow_up"),
        ]


class CollectionAccount(PracticeScoped):
    """A patient's place in the collections worklist: who works it, and whether it went to an agency."""

    patient = models.OneToOneField(Patient, on_delete=models.PROTECT, related_name="collection_account")
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    assigned_at = models.DateTimeField(null=True, blank=True)
    sent_to_agency_at = models.DateTimeField(null=True, blank=True)
    agency_name = models.CharField(max_length=120, blank=True)

    class Meta:
        indexes = [models.Index(fields=["practice", "assigned_to"], name="collection_assignee")]


# --- Payment plans and reminders ---------------------------------------------------------------


def _money(**kwargs):
    return models.DecimalField(max_digits=12, decimal_places=2, **kwargs)


class PlanPolicy(PracticeScoped):
    """The practice's rules for payment plans, edited by the manager. One row per practice; a practice
    without a row uses the defaults below (``payment_plans.plans.selectors.policy_for``)."""

    minimum_balance = _money(default=Decimal("50.00"), validators=[MinValueValidator(ZERO)])
    maximum_term_months = models.PositiveSmallIntegerField(
        default=12, validators=[MinValueValidator(1), MaxValueValidator(60)]
    )
    minimum_monthly_payment = _money(default=Decimal("25.00"), validators=[MinValueValidator(ZERO)])
    down_payment_percent = models.DecimalField(
        "minimum down payment (%)",
        max_digits=5,
        decimal_places=2,
        default=ZERO,
        validators=[MinValueValidator(ZERO), MaxValueValidator(Decimal("100"))],
    )
    grace_days = models.PositiveSmallIntegerField(
        default=10, validators=[MaxValueValidator(60)], help_text="Days after a due date before it is missed."
    )
    missed_before_default = models.PositiveSmallIntegerField(
        "missed installments before default", default=3, validators=[MinValueValidator(1)]
    )
    statement_reminder_days = models.PositiveSmallIntegerField(
        default=30,
        validators=[MinValueValidator(1)],
        help_text="Days between two reminders of a balance without a plan.",
    )
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "plan policies"
        constraints = [models.UniqueConstraint(fields=["practice"], name="plan_policy_one_per_practice")]

    def __str__(self) -> str:
        return f"Plan policy of practice {self.practice_id}"


class PlanStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    DELINQUENT = "delinquent", "Delinquent"
    DEFAULTED = "defaulted", "Defaulted"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


class Frequency(models.TextChoices):
    MONTHLY = "monthly", "Monthly"
    BIWEEKLY = "biweekly", "Every two weeks"
    WEEKLY = "weekly", "Weekly"


# A tokenised reference from the payment processor (e.g. "pm_1Nv..." or "tok_..."), never a card number.
_TOKEN = RegexValidator(
    r"^(?!.*\d{12,})[A-Za-z0-9_\-:.]{4,80}$",
    "Give the payment processor's token (letters, digits, _-:.), never a card number.",
)


class PaymentPlan(PracticeScoped):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="payment_plans")
    claims = models.ManyToManyField("claims.Claim", related_name="payment_plans", blank=True)
    status = models.CharField(max_length=12, choices=PlanStatus.choices, default=PlanStatus.ACTIVE)
    status_changed_at = models.DateTimeField(default=timezone.now)
    total_amount = _money(help_text="The balance the plan covers, down payment included.")
    down_payment = _money(default=ZERO)
    installment_amount = _money(help_text="The regular installment; the last one takes the remainder.")
    frequency = models.CharField(max_length=10, choices=Frequency.choices, default=Frequency.MONTHLY)
    term = models.PositiveSmallIntegerField(help_text="Number of regular installments.")
    start_date = models.DateField(help_text="The first installment's due date.")
    autopay = models.BooleanField(default=False)
    payment_method_token = models.CharField(max_length=80, blank=True, validators=[_TOKEN])
    # The affordability check the plan was built from (kept to show why the amount was chosen).
    monthly_income = _money(null=True, blank=True)
    household_size = models.PositiveSmallIntegerField(null=True, blank=True)
    essential_expenses = _money(null=True, blank=True)
    suggested_payment = _money(null=True, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["practice", "status"], name="plan_status")]

    def __str__(self) -> str:
        return f"Plan {self.pk}"


class InstallmentStatus(models.TextChoices):
    DUE = "due", "Due"
    PARTIAL = "partial", "Partly paid"
    PAID = "paid", "Paid"
    MISSED = "missed", "Missed"
    CANCELLED = "cancelled", "Cancelled"


OPEN_INSTALLMENT_STATUSES = (InstallmentStatus.DUE, InstallmentStatus.PARTIAL, InstallmentStatus.MISSED)


class Installment(PracticeScoped):
    """One due amount of a plan. Sequence 0 is the down payment (due on the day the plan is made)."""

    audit_exclude = ("paid_amount", "status", "paid_at")

    plan = models.ForeignKey(PaymentPlan, on_delete=models.CASCADE, related_name="installments")
    sequence = models.PositiveSmallIntegerField()
    due_date = models.DateField()
    amount = _money()
    paid_amount = _money(default=ZERO)
    status = models.CharField(max_length=10, choices=InstallmentStatus.choices, default=InstallmentStatus.DUE)
    paid_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["plan", "sequence"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "sequence"], name="installment_sequence_once"),
            models.CheckConstraint(
                condition=models.Q(paid_amount__lte=models.F("amount")), name="installment_not_overpaid"
            ),
        ]
        indexes = [models.Index(fields=["status", "due_date"], name="installment_open_due")]

    def __str__(self) -> str:
        return f"Installment {self.sequence} of plan {self.plan_id}"

    @property
    def remaining(self) -> Decimal:
        return self.amount - self.paid_amount


class PlanStatusChange(AppendOnlyModel):
    plan = models.ForeignKey(PaymentPlan, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=12, choices=PlanStatus.choices, blank=True)
    to_status = models.CharField(max_length=12, choices=PlanStatus.choices)
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["plan", "at", "id"]


class ModificationKind(models.TextChoices):
    MODIFIED = "modified", "Terms changed"
    BALANCE_ADDED = "balance_added", "Balance added"


class PlanModification(AppendOnlyModel):
    """A change of a plan's terms: what the schedule was and what it became."""

    plan = models.ForeignKey(PaymentPlan, on_delete=models.CASCADE, related_name="modifications")
    kind = models.CharField(max_length=20, choices=ModificationKind.choices)
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    before = models.JSONField(default=dict)
    after = models.JSONField(default=dict)
    reason = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["plan", "at", "id"]


class PlanPayment(AppendOnlyModel):
    """A patient payment made on a plan: the money went through ``patient_payment_record`` (the
    ``patient_payment`` and its allocations say which ledger rows moved it); this row says which
    installments it paid."""

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    plan = models.ForeignKey(PaymentPlan, on_delete=models.PROTECT, related_name="payments")
    amount = _money()
    method = models.CharField(max_length=10, choices=PaymentMethod.choices)
    reference = models.CharField(max_length=60, blank=True, help_text="Check number, receipt, processor id.")
    received_on = models.DateField()
    recorded_at = models.DateTimeField(default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    ledger_reference = models.CharField(max_length=60, blank=True)
    patient_payment = models.OneToOneField(
        PatientPayment, null=True, blank=True, on_delete=models.PROTECT, related_name="plan_payment"
    )

    class Meta:
        ordering = ["plan", "received_on", "id"]


class InstallmentAllocation(AppendOnlyModel):
    payment = models.ForeignKey(PlanPayment, on_delete=models.PROTECT, related_name="allocations")
    installment = models.ForeignKey(Installment, on_delete=models.PROTECT, related_name="allocations")
    amount = _money()

    class Meta:
        ordering = ["payment", "installment"]


class ReminderKind(models.TextChoices):
    UPCOMING = "upcoming", "Payment due soon"
    MISSED_1 = "missed_1", "Missed payment (1 day)"
    MISSED_7 = "missed_7", "Missed payment (7 days)"
    MISSED_14 = "missed_14", "Missed payment (14 days)"
    BALANCE = "balance", "Balance without a plan"


class ReminderChannel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "Text message"


class ReminderStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    SENDING = "sending", "Sending (not confirmed)"
    SENT = "sent", "Sent"
    DEFERRED = "deferred", "Waiting for the contact window"
    FAILED = "failed", "Failed (will retry)"
    SKIPPED = "skipped", "Not sent"


class Reminder(PracticeScoped):
    """One message to a patient, and the log line of it on the patient's account.

    ``key`` (installment or patient + kind + date) and ``channel`` are unique together: a run inserts the row
    (queued) before anything is sent, then moves it queued → sending with a compare-and-set update just before
    the message goes out, and to sent after. A second run or a retry after a crash finds the row and sends
    nothing twice; a row left in sending means the outcome is unknown, and it is never sent again."""

    audit_exclude = ("status", "sent_at", "claimed_by", "detail", "not_before")

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="reminders")
    plan = models.ForeignKey(PaymentPlan, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    installment = models.ForeignKey(
        Installment, null=True, blank=True, on_delete=models.PROTECT, related_name="reminders"
    )
    kind = models.CharField(max_length=12, choices=ReminderKind.choices)
    key_date = models.DateField(help_text="The date of the occasion: a due date, or the day it fell due.")
    key = models.CharField(max_length=80)
    channel = models.CharField(max_length=6, choices=ReminderChannel.choices)
    language = models.CharField(max_length=2, default="en")
    status = models.CharField(max_length=10, choices=ReminderStatus.choices, default=ReminderStatus.QUEUED)
    not_before = models.DateTimeField(null=True, blank=True)
    claimed_by = models.CharField(max_length=32, blank=True, help_text="The run that claimed the row.")
    created_at = models.DateTimeField(default=timezone.now)
    sent_at = models.DateTimeField(null=True, blank=True)
    body = models.TextField(blank=True)
    detail = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [models.UniqueConstraint(fields=["key", "channel"], name="reminder_once_per_key")]
        indexes = [
            models.Index(fields=["patient", "-created_at"], name="reminder_patient"),
            models.Index(fields=["status", "not_before"], name="reminder_status"),
        ]

    def __str__(self) -> str:
        return self.key

    @property
    def subject(self) -> str:
        """An email's subject (the body's first paragraph); empty for a text message."""
        return self.body.partition("\n\n")[0] if self.channel == ReminderChannel.EMAIL else ""

    @property
    def text(self) -> str:
        return self.body.partition("\n\n")[2] if self.channel == ReminderChannel.EMAIL else self.body
