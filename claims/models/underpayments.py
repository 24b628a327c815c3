"""Underpayments: each adjudicated line compared with its contract (``LineVariance``, recomputed whole
from the remittances by ``claims.underpayments.variances``), and the claims found short beyond tolerance
(``Underpayment``), worked through a small state machine with a history row per move."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from claims.models.claims import ZERO, Claim, ClaimLine
from claims.models.remittances import RemittanceLine
from rcm.models import FeeScheduleRow, Payer, PayerContract, Practice, PracticeScoped, PricingMethod


class VarianceKind(models.TextChoices):
    UNDERPAID = "underpaid", "Underpaid"
    OVERPAID = "overpaid", "Overpaid (credit to resolve)"
    WITHIN = "within", "Within tolerance"
    UNKNOWN = "unknown", "Expected amount unknown"


class LineVariance(models.Model):
    """One claim line adjudicated by its primary payer (the latest posted payment not reversed), and how
    the payer's allowed amount (paid + patient responsibility) compares with the contract in force on the
    date of service. ``variance`` = expected − allowed: positive is short. With no contract or fee row the
    expected amount, the variance and the contract stay empty and the kind is unknown: never guessed.

    Derived data: the whole table (or a practice's, or a set of claims') is rebuilt by
    ``variances_recompute``; nothing else writes it, so it is not audited row by row."""

    # Derived rows written by one service from the rows it has just read, in the same transaction: no
    # database constraint checks them (PostgreSQL checked seven keys per row at commit, locking every
    # claim, line and remittance line: 45 s for 577,270 lines, as long as the recompute itself), and only
    # the claim's and the line's keys are indexed (the reads go by practice through the two indexes
    # below). Deleting a referenced row still removes its variances: Django's collector cascades.
    practice = models.ForeignKey(
        Practice, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    claim = models.ForeignKey(
        Claim, on_delete=models.CASCADE, related_name="line_variances", db_constraint=False
    )
    claim_line = models.OneToOneField(
        ClaimLine, on_delete=models.CASCADE, related_name="variance", db_constraint=False
    )
    remittance_line = models.ForeignKey(
        RemittanceLine, on_delete=models.CASCADE, related_name="+", db_constraint=False, db_index=False
    )
    payer = models.ForeignKey(
        Payer,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    procedure_code = models.CharField(max_length=5)
    service_date = models.DateField()
    paid_date = models.DateField(help_text="The remittance's payment date.")
    units = models.DecimalField(max_digits=9, decimal_places=3)
    contract = models.ForeignKey(
        PayerContract,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    fee_row = models.ForeignKey(
        FeeScheduleRow,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    expected_allowed = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    allowed = models.DecimalField(max_digits=12, decimal_places=2)
    paid = models.DecimalField(max_digits=12, decimal_places=2)
    variance = models.DecimalField(max_digits=12, decimal_places=2, null=True, blank=True)
    kind = models.CharField(max_length=10, choices=VarianceKind.choices)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["claim", "claim_line"]
        indexes = [
            models.Index(fields=["practice", "kind", "claim"], name="variance_kind"),
            models.Index(
                fields=["practice", "payer", "procedure_code", "service_date"], name="variance_drift"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.procedure_code} {self.kind} {self.variance}"

    @property
    def basis(self) -> str:
        """Where the expected amount came from, as the evidence shows it: the contract's own fee row, the
        base payer's row (its contract of that date) and the percentage, or the percentage of charges. Reads
        ``contract`` and ``fee_row__contract__payer``: select them with the rows."""
        contract, row = self.contract, self.fee_row
        if contract is None:
            return "no contract in force"
        if row is None:
            if contract.pricing_method == PricingMethod.PERCENT_OF_CHARGES:
                return f"{contract.percent}% of charges"
            return contract.get_pricing_method_display()
        if row.contract_id != contract.id:  # % of a base schedule: the base payer's contract of that date
            return f"{contract.percent}% of {row.contract.payer.name} ({row.contract.name}): row {row}"
        return f"row {row}"


class UnderpaymentStatus(models.TextChoices):
    OPEN = "open", "Open"
    APPEALED = "appealed", "Appealed"
    ACCEPTED = "accepted", "Accepted"
    RECOVERED = "recovered", "Recovered"


class Underpayment(PracticeScoped):
    """A claim its primary payer paid short of the contract beyond tolerance: found by the variance
    recompute, worked by people (appeal, accept with a reason, mark recovered) and recovered on its own
    when a later payment brings the lines up to the contract."""

    claim = models.OneToOneField(Claim, on_delete=models.PROTECT, related_name="underpayment")
    payer = models.ForeignKey(Payer, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        max_length=10, choices=UnderpaymentStatus.choices, default=UnderpaymentStatus.OPEN
    )
    shortfall = models.DecimalField(
        max_digits=12, decimal_places=2, help_text="The short lines' variance now (zero once paid up)."
    )
    found_shortfall = models.DecimalField(
        max_digits=12, decimal_places=2, help_text="The largest shortfall seen: what was owed when found."
    )
    recovered_amount = models.DecimalField(max_digits=12, decimal_places=2, default=ZERO)
    found_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True, help_text="The last action's reason.")

    class Meta:
        ordering = ["-shortfall", "-id"]
        indexes = [models.Index(fields=["practice", "status", "shortfall"], name="underpayment_status")]

    def __str__(self) -> str:
        return f"Underpayment of claim {self.claim_id}: {self.shortfall} ({self.status})"


class UnderpaymentChange(models.Model):
    """History: one row per status move of an underpayment (who, when, from, to, why)."""

    underpayment = models.ForeignKey(Underpayment, on_delete=models.CASCADE, related_name="changes")
    from_status = models.CharField(max_length=10, choices=UnderpaymentStatus.choices, blank=True)
    to_status = models.CharField(max_length=10, choices=UnderpaymentStatus.choices)
    at = models.DateTimeField(default=timezone.now)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reason = models.CharField(max_length=500)

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_status or '-'} -> {self.to_status}"
