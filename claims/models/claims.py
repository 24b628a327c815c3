"""Claims, their lines and statuses, and the balances kept on both."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from rcm.models import Coverage, Patient, Payer, PracticeScoped, Provider

ZERO = Decimal("0.00")


class ClaimStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    READY = "ready", "Ready to submit"
    SUBMITTED = "submitted", "Submitted"
    ACCEPTED = "accepted", "Accepted by payer"
    REJECTED = "rejected", "Rejected"
    CORRECTED = "corrected", "Being corrected"
    PAID = "paid", "Paid"
    PARTIALLY_PAID = "partially_paid", "Partially paid"
    DENIED = "denied", "Denied"
    FORWARDED = "forwarded", "Forwarded to secondary"
    APPEALED = "appealed", "Appealed"
    WRITTEN_OFF = "written_off", "Written off"
    PATIENT_BILLED = "patient_billed", "Billed to patient"
    VOIDED = "voided", "Voided"


class ScrubStatus(models.TextChoices):
    NOT_SCRUBBED = "", "Not scrubbed"
    CLEAN = "clean", "Clean"
    WARNINGS = "warnings", "Warnings only"
    ERRORS = "errors", "Errors"


class FrequencyCode(models.TextChoices):
    ORIGINAL = "1", "Original"
    CORRECTED = "7", "Replacement of prior claim"
    VOID = "8", "Void of prior claim"


class Balances(models.Model):
    """Cached money buckets, derived from the ledger (``claims.ledger`` keeps them and can rebuild them).

    Identity, always: charge = insurance_paid + patient_paid + adjustments + write_offs
    + insurance_balance + patient_balance.
    """

    charge_total = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO)
    insurance_paid = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO)
    patient_paid = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO)
    adjustments = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO)
    write_offs = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO)
    insurance_balance = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO)
    patient_balance = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO)

    BUCKETS = (
        "charge_total",
        "insurance_paid",
        "patient_paid",
        "adjustments",
        "write_offs",
        "insurance_balance",
        "patient_balance",
    )

    class Meta:
        abstract = True

    @property
    def balance(self) -> Decimal:
        return self.insurance_balance + self.patient_balance


class Claim(Balances, PracticeScoped):
    audit_exclude = (*Balances.BUCKETS, "status_changed_at", "scrubbed_at", "scrub_findings", "scrub_status")

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="claims")
    coverage = models.ForeignKey(
        Coverage,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="claims",
        help_text="Empty for a self-pay claim.",
    )
    payer = models.ForeignKey(
        Payer,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="claims",
        help_text="The coverage's payer, kept on the claim for queues and reports.",
    )
    billing_provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="billed_claims")
    rendering_provider = models.ForeignKey(
        Provider, null=True, blank=True, on_delete=models.PROTECT, related_name="rendered_claims"
    )
    place_of_service = models.CharField(max_length=2, default="11")
    frequency_code = models.CharField(
        max_length=1, choices=FrequencyCode.choices, default=FrequencyCode.ORIGINAL
    )
    original_claim = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="replacements",
        help_text="For a corrected (7) or void (8) claim: the claim it replaces.",
    )
    prior_authorization = models.CharField(max_length=50, blank=True)
    patient_control_number = models.CharField(
        max_length=20, help_text="Our claim number (CLM01), echoed back by the payer in CLP01."
    )
    payer_claim_number = models.CharField(max_length=50, blank=True, help_text="The payer's number (CLP07).")
    diagnosis_codes = models.JSONField(default=list, help_text="ICD-10-CM codes in order, 1 to 12.")
    status = models.CharField(max_length=20, choices=ClaimStatus.choices, default=ClaimStatus.DRAFT)
    status_changed_at = models.DateTimeField(default=timezone.now)
    service_date = models.DateField(help_text="The earliest date of service on the claim.")
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    first_submitted_at = models.DateTimeField(null=True, blank=True)
    last_submitted_at = models.DateTimeField(null=True, blank=True)
    adjudicated_at = models.DateTimeField(null=True, blank=True)
    # The claim's first adjudication (paid, partly paid, denied or forwarded) and its outcome, set once by
    # ``claims.state_machine``: what the initial denial and first-pass KPIs count, read without searching
    # the status history for each claim.
    first_adjudicated_at = models.DateTimeField(null=True, blank=True)
    first_adjudication_status = models.CharField(
        max_length=20, choices=ClaimStatus.choices, blank=True, default="", db_default=""
    )
    scrub_status = models.CharField(
        max_length=10, choices=ScrubStatus.choices, default=ScrubStatus.NOT_SCRUBBED
    )
    scrubbed_at = models.DateTimeField(null=True, blank=True)
    scrub_findings = models.JSONField(default=list, blank=True, help_text="The scrubber's last findings.")
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_claims",
        help_text="Who works this claim in the queues.",
    )
    underpaid_amount = models.DecimalField(
        max_digits=12,
        decimal_places=2,
        default=ZERO,
        help_text="Expected allowed minus paid allowed, where short by more than the contract's tolerance.",
    )
    secondary_pending = models.BooleanField(
        default=False,
        help_text="The primary has paid; the balance is to be billed to the secondary coverage.",
    )
    edited_after_scrub = models.BooleanField(
        default=False,
        help_text="A person changed the claim after the scrubber first found errors (clean claim rate).",
    )

    class Meta:
        ordering = ["-service_date", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "patient_control_number"], name="claim_pcn_unique_in_practice"
            ),
        ]
        indexes = [
            # Covering (PostgreSQL): status counts, A/R aging, patient A/R, list counts and the
            # no-response and deadline queues read the index alone (index-only scans), never the wide
            # claim rows.
            models.Index(
                fields=["practice", "status", "service_date"],
                name="claim_status_dos_cover",
                include=[
                    "id",
                    "charge_total",
                    "insurance_balance",
                    "patient_balance",
                    "patient",
                    "payer",
                    "last_submitted_at",
                    "adjudicated_at",
                ],
            ),
            models.Index(fields=["practice", "service_date"], name="claim_dos"),
            models.Index(
                fields=["practice", "first_adjudicated_at"],
                condition=Q(first_adjudicated_at__isnull=False),
                name="claim_first_adjudicated",
            ),
            models.Index(fields=["practice", "payer", "status"], name="claim_payer_status"),
            models.Index(fields=["patient", "service_date"], name="claim_patient_dos"),
            models.Index(fields=["practice", "assigned_to", "status"], name="claim_assignee_status"),
            # The claim list sorted by balance: walked in order, stopped after a page.
            models.Index(
                F("practice"), F("insurance_balance") + F("patient_balance"), F("id"), name="claim_balance"
            ),
            # Small queues over big tables: only their rows are in the index.
            models.Index(
                fields=["practice", "status"], condition=Q(scrub_status="errors"), name="claim_scrub_errors"
            ),
            models.Index(
                fields=["practice", "underpaid_amount", "id"],
                include=["status"],
                condition=Q(underpaid_amount__gt=0),
                name="claim_underpaid",
            ),
            # The biller's landing: claims waiting on the payer or on us, the longest-waiting first.
            models.Index(
                fields=["practice", "status_changed_at", "id"],
                name="claim_needs_work",
                condition=Q(status__in=["rejected", "denied", "submitted", "accepted"]),
            ),
        ]

    def __str__(self) -> str:
        return f"Claim {self.patient_control_number}"


class ClaimLine(Balances, PracticeScoped):
    audit_exclude = Balances.BUCKETS

    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="lines")
    line_number = models.PositiveSmallIntegerField()
    procedure_code = models.CharField(max_length=5)
    modifiers = models.JSONField(default=list, blank=True, help_text="Up to four two-character modifiers.")
    units = models.DecimalField(
        max_digits=9, decimal_places=3, default=Decimal("1"), validators=[MinValueValidator(Decimal("1"))]
    )
    charge = models.DecimalField(
        max_digits=12, decimal_places=2, help_text="Charge for the line (all units)."
    )
    service_date_from = models.DateField()
    service_date_to = models.DateField()
    diagnosis_pointers = models.JSONField(
        default=list, help_text="1 to 4 positions in the claim's diagnoses."
    )
    line_control_number = models.CharField(
        max_length=30, help_text="Our line number (REF*6R), echoed in the ERA."
    )
    removed = models.BooleanField(
        default=False,
        help_text="Taken off the claim while editing: its charge is reversed, it is never billed.",
    )

    class Meta:
        ordering = ["claim", "line_number"]
        constraints = [
            models.UniqueConstraint(fields=["claim", "line_number"], name="claim_line_number_unique"),
            models.UniqueConstraint(
                fields=["practice", "line_control_number"], name="claim_line_control_unique"
            ),
        ]

    def __str__(self) -> str:
        modifiers = "".join(f"-{m}" for m in self.modifiers)
        return f"{self.line_number}: {self.procedure_code}{modifiers} × {self.units.normalize()}"
