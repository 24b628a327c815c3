"""Models of the Payment plans app.

Payment plans: the practice's plan policy, plans with their installments, status history and modification
history, plan payments and how they were allocated to installments; reminders (the log of every message sent
to a patient, each under an idempotency key).
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone

from rcm.append_only import AppendOnlyModel
from rcm.models import Patient, Practice, PracticeScoped

ZERO = Decimal("0.00")


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


class PaymentMethod(models.TextChoices):
    CASH = "cash", "Cash"
    CHECK = "check", "Check"
    CARD = "card", "Card"
    ONLINE = "online", "Online"
    AUTOPAY = "autopay", "Autopay"


class PlanPayment(AppendOnlyModel):
    """A patient payment made on a plan; the money itself is in the ledger (``ledger_reference`` names the
    source reference of its transactions)."""

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
