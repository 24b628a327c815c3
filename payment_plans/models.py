"""Models of the Payment plans app: patient payments and where they went, credit refunds, statements,
the practice's collections settings, and the collections worklist's notes and notices.

Money itself lives in the claims ledger (``claims.ledger``): every row here that moves money points at
the ledger transaction that moved it. Payments, allocations, refunds and statements are append-only.
"""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
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
