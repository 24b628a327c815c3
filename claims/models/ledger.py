"""The append-only financial ledger and the claim status history."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from claims.models.claims import Claim, ClaimLine, ClaimStatus
from rcm.append_only import AppendOnlyModel
from rcm.models import Payer, Practice


class TransactionKind(models.TextChoices):
    CHARGE = "charge", "Charge"
    INSURANCE_PAYMENT = "insurance_payment", "Insurance payment"
    PATIENT_PAYMENT = "patient_payment", "Patient payment"
    CONTRACTUAL_ADJUSTMENT = "contractual_adjustment", "Contractual adjustment"
    OTHER_ADJUSTMENT = "other_adjustment", "Other adjustment"
    TRANSFER_TO_PATIENT = "transfer_to_patient", "Transfer to patient responsibility"
    WRITE_OFF = "write_off", "Write-off"
    REFUND = "refund", "Refund"
    REVERSAL = "reversal", "Reversal"


class Party(models.TextChoices):
    INSURANCE = "insurance", "Insurance"
    PATIENT = "patient", "Patient"


class TransactionSource(models.TextChoices):
    CHARGE_ENTRY = "charge_entry", "Charge entry"
    REMITTANCE = "remittance", "Remittance (ERA)"
    PAYMENT = "payment", "Payment"
    USER = "user", "User action"
    SYSTEM = "system", "System"


class PatientResponsibility(models.TextChoices):
    DEDUCTIBLE = "deductible", "Deductible (PR-1)"
    COINSURANCE = "coinsurance", "Coinsurance (PR-2)"
    COPAY = "copay", "Copay (PR-3)"
    OTHER = "other", "Other patient responsibility"


class Transaction(AppendOnlyModel):
    """One financial event on one claim line. Never changed or deleted: a correction is a reversal row.

    ``amount`` is always positive; what it does to the line's buckets is given by ``kind`` and
    ``party`` (see ``claims.ledger.EFFECTS``)."""

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="transactions")
    line = models.ForeignKey(ClaimLine, on_delete=models.PROTECT, related_name="transactions")
    kind = models.CharField(max_length=30, choices=TransactionKind.choices)
    party = models.CharField(max_length=10, choices=Party.choices)
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    effective_date = models.DateField()
    posted_at = models.DateTimeField(default=timezone.now)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    source = models.CharField(max_length=20, choices=TransactionSource.choices)
    source_reference = models.CharField(
        max_length=64, blank=True, help_text="Remittance, batch or receipt id."
    )
    payer = models.ForeignKey(Payer, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    group_code = models.CharField(max_length=2, blank=True, help_text="CAS group: CO, PR, OA, PI, CR.")
    reason_code = models.CharField(max_length=5, blank=True, help_text="CARC.")
    remark_codes = models.JSONField(default=list, blank=True, help_text="RARCs.")
    responsibility = models.CharField(max_length=12, choices=PatientResponsibility.choices, blank=True)
    note = models.CharField(max_length=255, blank=True)
    reverses = models.OneToOneField(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="reversed_by",
        help_text="For a reversal: the transaction it cancels (each can be reversed once).",
    )

    class Meta:
        ordering = ["line_id", "posted_at", "id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="transaction_amount_positive"),
            models.CheckConstraint(
                condition=models.Q(kind="reversal", reverses__isnull=False)
                | (~models.Q(kind="reversal") & models.Q(reverses__isnull=True)),
                name="transaction_reversal_has_original",
            ),
        ]
        indexes = [
            models.Index(fields=["practice", "kind", "effective_date"], name="txn_kind_date"),
            models.Index(fields=["claim", "posted_at"], name="txn_claim"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.amount} on line {self.line_id}"


class ClaimStatusChange(AppendOnlyModel):
    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="status_history")
    from_status = models.CharField(max_length=20, choices=ClaimStatus.choices)
    to_status = models.CharField(max_length=20, choices=ClaimStatus.choices)
    at = models.DateTimeField(default=timezone.now)
    by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(max_length=255, blank=True)

    class Meta:
        ordering = ["claim", "at", "id"]
        indexes = [models.Index(fields=["practice", "to_status", "at"], name="status_change_to_at")]

    def __str__(self) -> str:
        return f"{self.claim_id}: {self.from_status} → {self.to_status}"
