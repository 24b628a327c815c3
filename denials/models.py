"""Denials: a line or claim the payer refused to pay, with its reason codes. The denial workflow
(root causes, appeals, letters) builds on this record."""

from django.db import models
from django.utils import timezone

from claims.models import Claim, ClaimLine, RemittanceClaim
from rcm.models import PracticeScoped


class DenialStatus(models.TextChoices):
    OPEN = "open", "Open"
    APPEALED = "appealed", "Appealed"
    RESOLVED = "resolved", "Resolved"
    WRITTEN_OFF = "written_off", "Written off"


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
    status = models.CharField(max_length=12, choices=DenialStatus.choices, default=DenialStatus.OPEN)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["practice", "status", "reason_code"], name="denial_status_carc")]

    def __str__(self) -> str:
        return f"{self.group_code}-{self.reason_code} {self.amount} on claim {self.claim_id}"
