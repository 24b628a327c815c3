"""Denials: a line or claim the payer refused to pay, with its reason codes, its root cause and owner,
its work status (with history), notes and appeal letters; and the practice's editable root-cause rules
(CARC → category, owner, preventable, what to do), which fall back to ``denials.reference``."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.db.models.functions import Now
from django.utils import timezone

from claims.models import Claim, ClaimLine, RemittanceClaim
from denials.reference import CATEGORY_CHOICES, OWNER_CHOICES
from rcm.append_only import AppendOnlyModel
from rcm.models import Practice, PracticeScoped

ZERO = Decimal("0.00")


class DenialStatus(models.TextChoices):
    NEW = "new", "New"
    IN_REVIEW = "in_review", "In review"
    CORRECTED = "corrected", "Corrected and resubmitted"
    APPEALED = "appealed", "Appealed"
    OVERTURNED = "overturned", "Overturned"
    PARTLY_OVERTURNED = "partly_overturned", "Partly overturned"
    UPHELD = "upheld", "Upheld"
    WRITTEN_OFF = "written_off", "Written off"
    VOIDED = "voided", "Voided"


# Still to be worked (the work queue). ``denials.state_machine`` derives the same set from its transitions
# and checks it at import; it is spelled out here for the queue's partial indexes.
OPEN_STATUS_VALUES = (
    DenialStatus.APPEALED,
    DenialStatus.CORRECTED,
    DenialStatus.IN_REVIEW,
    DenialStatus.NEW,
    DenialStatus.PARTLY_OVERTURNED,
    DenialStatus.UPHELD,
)
OPEN = Q(status__in=OPEN_STATUS_VALUES)


class Denial(PracticeScoped):
    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="denials")
    line = models.ForeignKey(
        ClaimLine, null=True, blank=True, on_delete=models.PROTECT, related_name="denials"
    )
    remittance_claim = models.ForeignKey(RemittanceClaim, on_delete=models.PROTECT, related_name="denials")
    group_code = models.CharField(max_length=2)
    reason_code = models.CharField(max_length=5, help_text="CARC")
    remark_codes = models.JSONField(default=list, blank=True, help_text="RARCs")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    unknown_code = models.BooleanField(
        default=False,
        db_default=False,
        help_text="The CARC (or a RARC) is not in our reference: stored as sent, flagged.",
    )
    category = models.CharField(
        max_length=30,
        choices=CATEGORY_CHOICES,
        default="other",
        db_default="other",
        help_text="Root-cause category.",
    )
    owner = models.CharField(max_length=20, choices=OWNER_CHOICES, default="billing", db_default="billing")
    preventable = models.BooleanField(default=False, db_default=False)
    status = models.CharField(max_length=20, choices=DenialStatus.choices, default=DenialStatus.NEW)
    status_changed_at = models.DateTimeField(default=timezone.now, db_default=Now())
    remit_date = models.DateField(null=True, blank=True, help_text="The date of the remittance (BPR16).")
    appeal_deadline = models.DateField(
        null=True,
        blank=True,
        help_text="Remit date + the appeal limit of the payer contract in force on the date of service.",
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    recovered_amount = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO, db_default=ZERO)
    # What is still to win back, kept by the database: the queue sorts on it through an index.
    recoverable = models.GeneratedField(
        expression=F("amount") - F("recovered_amount"),
        output_field=models.DecimalField(max_digits=12, decimal_places=2),
        db_persist=True,
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["practice", "status", "reason_code"], name="denial_status_carc"),
            models.Index(fields=["practice", "status", "appeal_deadline"], name="denial_status_deadline"),
            models.Index(fields=["practice", "assignee", "status"], name="denial_assignee_status"),
            models.Index(fields=["practice", "category", "status"], name="denial_category_status"),
            # The KPI dashboard's denial Pareto and its drill-down: the denials recorded in a date range.
            models.Index(fields=["practice", "created_at"], name="denial_created"),
            # The work queue's two orders over the open denials: a page is the first rows of one of these.
            models.Index(
                F("practice"),
                F("recoverable").desc(),
                F("appeal_deadline"),  # ascending: nulls last on PostgreSQL, as the queue sorts
                F("id"),
                name="denial_open_recoverable",
                condition=OPEN,
            ),
            models.Index(
                F("practice"),
                F("appeal_deadline"),  # ascending: nulls last on PostgreSQL, as the queue sorts
                F("recoverable").desc(),
                F("id"),
                name="denial_open_deadline",
                condition=OPEN,
            ),
        ]

    def __str__(self) -> str:
        return f"{self.group_code}-{self.reason_code} {self.amount} on claim {self.claim_id}"


class DenialStatusChange(AppendOnlyModel):
    """One move of a denial's status: who, when, from, to, why (written by ``denials.state_machine``)."""

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    denial = models.ForeignKey(Denial, on_delete=models.PROTECT, related_name="status_history")
    from_status = models.CharField(max_length=20, choices=DenialStatus.choices)
    to_status = models.CharField(max_length=20, choices=DenialStatus.choices)
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["denial", "at", "id"]
        indexes = [models.Index(fields=["practice", "to_status", "at"], name="denial_change_to_at")]

    def __str__(self) -> str:
        return f"{self.denial_id}: {self.from_status} → {self.to_status}"


class DenialNote(AppendOnlyModel):
    """A note a biller adds while working a denial; notes are kept as written."""

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    denial = models.ForeignKey(Denial, on_delete=models.PROTECT, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    text = models.TextField()
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["denial", "at", "id"]


class RootCauseRule(PracticeScoped):
    """The practice's own reading of one CARC: category, owner, preventable, what to do. A CARC without a
    rule reads the defaults in ``denials.reference``; a manager edits these, and may apply a change to the
    open denials."""

    reason_code = models.CharField(max_length=5, help_text="CARC")
    category = models.CharField(max_length=30, choices=CATEGORY_CHOICES)
    owner = models.CharField(max_length=20, choices=OWNER_CHOICES)
    preventable = models.BooleanField(default=False)
    what_to_do = models.TextField(blank=True)
    updated_at = models.DateTimeField(default=timezone.now)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["practice", "reason_code"]
        constraints = [
            models.UniqueConstraint(fields=["practice", "reason_code"], name="root_cause_rule_unique_carc")
        ]

    def __str__(self) -> str:
        return f"CARC {self.reason_code} → {self.category} ({self.owner})"


class LetterChannel(models.TextChoices):
    MAIL = "mail", "Mail"
    FAX = "fax", "Fax"
    PORTAL = "portal", "Payer portal"
    EMAIL = "email", "Secure email"


class AppealOutcome(models.TextChoices):
    PENDING = "", "Pending"
    OVERTURNED = "overturned", "Overturned"
    PARTLY_OVERTURNED = "partly_overturned", "Partly overturned"
    UPHELD = "upheld", "Upheld"


class AppealLetter(PracticeScoped):
    """An appeal letter for a denial (and its claim): drafted from the category's template, editable until
    final, then rendered to PDF (kept here, with the denial), marked sent, its outcome recorded."""

    denial = models.ForeignKey(Denial, on_delete=models.PROTECT, related_name="letters")
    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="appeal_letters")
    template = models.CharField(max_length=30, help_text="The category template the letter started from.")
    body = models.TextField(help_text="The letter's text, editable until it is final.")
    after_deadline = models.BooleanField(
        default=False, help_text="Drafted after the appeal deadline: allowed, warned and recorded."
    )
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    finalized_at = models.DateTimeField(null=True, blank=True)
    pdf = models.BinaryField(null=True, blank=True, editable=False, help_text="The final letter as a PDF.")
    pdf_name = models.CharField(max_length=120, blank=True)
    sent_on = models.DateField(null=True, blank=True)
    channel = models.CharField(max_length=10, choices=LetterChannel.choices, blank=True)
    outcome = models.CharField(max_length=20, choices=AppealOutcome.choices, blank=True, default="")
    outcome_at = models.DateTimeField(null=True, blank=True)

    audit_exclude = ("pdf",)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"Appeal letter {self.pk} for denial {self.denial_id}"

    @property
    def is_final(self) -> bool:
        return self.finalized_at is not None


class DenialRisk(PracticeScoped):
    """The chance that a claim ready to submit is denied, learned from the practice's own remittances
    (``denials.risk``), with the reason in words. Derived data: the nightly run replaces it."""

    claim = models.OneToOneField(Claim, on_delete=models.CASCADE, related_name="denial_risk")
    score = models.DecimalField(max_digits=5, decimal_places=4, help_text="0 to 1: the chance of a denial.")
    reason = models.CharField(max_length=400)
    line_scores = models.JSONField(
        default=list, blank=True, help_text="Per line: line number, score and reason, the riskiest first."
    )
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        indexes = [models.Index(fields=["practice", "-score"], name="denial_risk_score")]

    def __str__(self) -> str:
        return f"Denial risk {self.score} on claim {self.claim_id}"
