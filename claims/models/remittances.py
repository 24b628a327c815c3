"""Remittances (ERA 835): payments received, their claims, lines, adjustments and exceptions."""

from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone

from claims.models.claims import ZERO, Claim, ClaimLine
from claims.models.edi import X12File
from rcm.models import Payer, PracticeScoped


class RemittanceStatus(models.TextChoices):
    POSTED = "posted", "Posted"
    EXCEPTIONS = "exceptions", "Posted with exceptions"


class Remittance(PracticeScoped):
    """One 835 transaction set: a payment (check or EFT) and the claims it pays."""

    x12_file = models.ForeignKey(X12File, on_delete=models.PROTECT, related_name="remittances")
    payer = models.ForeignKey(
        Payer, null=True, blank=True, on_delete=models.PROTECT, related_name="remittances"
    )
    payer_name = models.CharField(max_length=120)
    payer_identifier = models.CharField(max_length=50, help_text="TRN03 (or N1*PR id): who paid.")
    trace_number = models.CharField(max_length=50, help_text="TRN02: the check or EFT trace number.")
    handling_code = models.CharField(max_length=2)
    payment_method = models.CharField(max_length=3, blank=True, help_text="BPR04: ACH, CHK, NON...")
    payment_amount = models.DecimalField(max_digits=14, decimal_places=2, help_text="BPR02")
    payment_date = models.DateField(null=True, blank=True)
    production_date = models.DateField(null=True, blank=True)
    payee_name = models.CharField(max_length=120, blank=True)
    payee_npi = models.CharField(max_length=10, blank=True)
    payee_tax_id = models.CharField(max_length=20, blank=True)
    posted_payments = models.DecimalField(max_digits=14, decimal_places=2, default=ZERO)
    interest = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO)
    provider_adjustment_total = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO)
    claim_count = models.PositiveIntegerField(default=0)
    exception_count = models.PositiveIntegerField(default=0)
    status = models.CharField(
        max_length=12, choices=RemittanceStatus.choices, default=RemittanceStatus.POSTED
    )
    received_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "payer_identifier", "trace_number"], name="remittance_trace_once"
            ),
        ]
        indexes = [models.Index(fields=["practice", "-received_at"], name="remittance_recent")]

    def __str__(self) -> str:
        return f"{self.payer_name} {self.trace_number}"


class RemittanceClaim(models.Model):
    """One CLP: what the payer did with one claim."""

    remittance = models.ForeignKey(Remittance, on_delete=models.PROTECT, related_name="claim_payments")
    claim = models.ForeignKey(
        Claim, null=True, blank=True, on_delete=models.PROTECT, related_name="remittance_claims"
    )
    patient_control_number = models.CharField(max_length=38)
    status_code = models.CharField(max_length=2, help_text="CLP02")
    charge = models.DecimalField(max_digits=12, decimal_places=2)
    paid = models.DecimalField(max_digits=12, decimal_places=2)
    patient_responsibility = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO)
    interest = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO)
    payer_claim_number = models.CharField(max_length=50, blank=True)
    posted = models.BooleanField(default=False)
    reversed_by = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    remarks = models.JSONField(default=list, blank=True)
    position = models.PositiveIntegerField(default=0, help_text="Segment number of the CLP in the file.")
    raw = models.JSONField(default=dict, blank=True, help_text="The claim payment as read, for exceptions.")

    class Meta:
        ordering = ["remittance", "position"]
        indexes = [models.Index(fields=["claim", "posted"], name="remit_claim_posted")]

    def __str__(self) -> str:
        return f"CLP {self.patient_control_number} {self.paid}"


class RemittanceLine(models.Model):
    remittance_claim = models.ForeignKey(RemittanceClaim, on_delete=models.PROTECT, related_name="lines")
    claim_line = models.ForeignKey(
        ClaimLine, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    procedure_code = models.CharField(max_length=8)
    modifiers = models.JSONField(default=list, blank=True)
    charge = models.DecimalField(max_digits=12, decimal_places=2)
    paid = models.DecimalField(max_digits=12, decimal_places=2)
    allowed = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    expected_allowed = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    units = models.DecimalField(max_digits=9, decimal_places=3, default=Decimal("1"))
    service_date = models.DateField(null=True, blank=True)
    match_reason = models.CharField(max_length=120, blank=True)
    remarks = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["remittance_claim", "id"]

    def __str__(self) -> str:
        return f"SVC {self.procedure_code} {self.paid}"


class RemittanceAdjustment(models.Model):
    """One CAS reason: at claim level (no line) or on a line."""

    remittance_claim = models.ForeignKey(
        RemittanceClaim, on_delete=models.PROTECT, related_name="adjustments"
    )
    remittance_line = models.ForeignKey(
        RemittanceLine, null=True, blank=True, on_delete=models.PROTECT, related_name="adjustments"
    )
    group_code = models.CharField(max_length=2)
    reason_code = models.CharField(max_length=5)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    quantity = models.CharField(max_length=15, blank=True)

    def __str__(self) -> str:
        return f"{self.group_code}-{self.reason_code} {self.amount}"


class ProviderAdjustment(models.Model):
    """A PLB entry: money the payer adds or takes back at provider level, not against a claim."""

    remittance = models.ForeignKey(Remittance, on_delete=models.PROTECT, related_name="provider_adjustments")
    provider_identifier = models.CharField(max_length=50)
    fiscal_period_date = models.DateField(null=True, blank=True)
    reason_code = models.CharField(max_length=3)
    reference = models.CharField(max_length=50, blank=True)
    amount = models.DecimalField(max_digits=12, decimal_places=2)

    def __str__(self) -> str:
        return f"PLB {self.reason_code} {self.amount}"


class ExceptionKind(models.TextChoices):
    UNMATCHED = "unmatched", "No matching claim"
    UNMATCHED_LINE = "unmatched_line", "A line matches no claim line"
    UNBALANCED = "unbalanced", "Amounts do not balance"
    DUPLICATE = "duplicate", "Duplicate payment"
    REVERSAL_WITHOUT_ORIGINAL = "reversal_without_original", "Reversal of a payment never posted"
    UNPOSTABLE = "unpostable", "Cannot be posted as sent"
    CHECK_UNBALANCED = "check_unbalanced", "Check total does not balance"


class ExceptionStatus(models.TextChoices):
    OPEN = "open", "Open"
    POSTED = "posted", "Posted by hand"
    DISMISSED = "dismissed", "Dismissed"


class RemittanceException(PracticeScoped):
    """Something in an ERA that was not posted automatically, for a biller to resolve."""

    remittance = models.ForeignKey(Remittance, on_delete=models.PROTECT, related_name="exceptions")
    remittance_claim = models.ForeignKey(
        RemittanceClaim, null=True, blank=True, on_delete=models.PROTECT, related_name="exceptions"
    )
    kind = models.CharField(max_length=30, choices=ExceptionKind.choices)
    message = models.TextField()
    status = models.CharField(max_length=10, choices=ExceptionStatus.choices, default=ExceptionStatus.OPEN)
    created_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    resolution_note = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["practice", "status"], name="remit_exception_status")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.message[:60]}"
