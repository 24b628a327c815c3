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
