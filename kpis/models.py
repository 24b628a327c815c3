"""KPI snapshots (precomputed per practice, day and dimension) and each practice's target bands."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from rcm.models import Practice, PracticeScoped


class Dimension(models.TextChoices):
    PRACTICE = "practice", "Whole practice"
    PAYER = "payer", "Payer"
    PROVIDER = "provider", "Provider"
    PLACE_OF_SERVICE = "place_of_service", "Place of service"


class KpiSnapshot(models.Model):
    """One KPI's numerator and denominator for one practice, one day and one dimension value.

    Written only by ``kpis.services.kpi_snapshots_compute``, which replaces a practice's days whole
    (the unique key makes a duplicate impossible). ``dimension_value`` is "" for the whole practice,
    the payer's or provider's id, "self-pay" (no payer), or the place-of-service code. Rows whose
    numerator and denominator are both zero are not stored: a missing row reads as 0 ÷ 0."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    kpi = models.CharField(max_length=40)
    dimension = models.CharField(max_length=20, choices=Dimension.choices)
    dimension_value = models.CharField(max_length=20, blank=True)
    numerator = models.DecimalField(max_digits=16, decimal_places=2)
    denominator = models.DecimalField(max_digits=16, decimal_places=2)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["practice", "day", "kpi", "dimension", "dimension_value"]
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "day", "kpi", "dimension", "dimension_value"],
                name="kpi_snapshot_once_per_day",
            ),
        ]
        indexes = [
            # The dashboard: one practice, one dimension, a range of days, every KPI.
            models.Index(
                fields=["practice", "dimension", "dimension_value", "day"], name="kpi_snapshot_read"
            ),
            # Across one dimension's values on a day or a range of days: A/R aging by payer, the payer
            # comparison.
            models.Index(fields=["practice", "dimension", "day", "kpi"], name="kpi_snapshot_across"),
        ]

    def __str__(self) -> str:
        where = f"{self.dimension}={self.dimension_value}"
        return f"{self.kpi} {self.day} {where}: {self.numerator}/{self.denominator}"


class KpiClaimBalance(models.Model):
    """Each claim's balance on the practice's last computed day, as the snapshots of that day counted it:
    the claims behind a stock KPI (open A/R, aging, credit balances) read from here, paged in SQL, so a
    drill-down from the dashboard's default day lists exactly the claims its number adds up.

    Written only by ``kpis.services.kpi_snapshots_compute`` when it computes the practice's latest day
    (the rows of the day before are replaced whole). Claims at zero are not stored. ``dim_*`` are the
    claim's dimension values as the snapshots spell them (payer id or "self-pay", provider id, place of
    service)."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    claim = models.ForeignKey("claims.Claim", on_delete=models.CASCADE, related_name="kpi_balances")
    balance = models.DecimalField(max_digits=14, decimal_places=2)
    service_date = models.DateField()
    dim_payer = models.CharField(max_length=20)
    dim_provider = models.CharField(max_length=20, blank=True)
    dim_pos = models.CharField(max_length=2, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["practice", "day", "claim"], name="kpi_claim_balance_once"),
        ]
        indexes = [
            # The drill-down: one practice and day, newest date of service first. Its count and total are
            # read from the index alone (PostgreSQL: the balance and dimensions are carried in it).
            models.Index(
                fields=["practice", "day", "service_date", "claim"],
                name="kpi_claim_balance_read",
                include=["balance", "dim_payer", "dim_provider", "dim_pos"],
            ),
        ]

    def __str__(self) -> str:
        return f"claim {self.claim_id} on {self.day}: {self.balance}"


class KpiTarget(PracticeScoped):
    """A practice's own target band for one KPI, replacing the definition's default."""

    kpi = models.CharField(max_length=40)
    good = models.DecimalField(max_digits=10, decimal_places=2, help_text="At or past this is good.")
    warn = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="Between good and this is a warning; past it is bad. Empty: anything short of good is bad.",
    )

    class Meta:
        ordering = ["practice", "kpi"]
        constraints = [models.UniqueConstraint(fields=["practice", "kpi"], name="kpi_target_once")]

    def __str__(self) -> str:
        return f"{self.kpi}: {self.good}"


class KpiReport(PracticeScoped):
    """A practice's monthly PDF report, sent once: the row is the idempotency key of the email, written in
    the transaction that sends it (``kpis.services.kpi_report_send``), so a second run or a retry of the
    monthly task finds it and sends nothing."""

    month = models.DateField(help_text="The first day of the month reported on.")
    sent_at = models.DateTimeField(default=timezone.now)
    recipients = models.JSONField(default=list, help_text="The managers' addresses it was sent to.")

    class Meta:
        ordering = ["practice", "-month"]
        constraints = [models.UniqueConstraint(fields=["practice", "month"], name="kpi_report_once_a_month")]

    def __str__(self) -> str:
        return f"{self.practice_id} {self.month:%Y-%m}"


class KpiSavedView(PracticeScoped):
    """A user's named set of dashboard filters (dates and ids only, never PHI), to open again later."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=60)
    start = models.DateField()
    end = models.DateField()
    scope = models.CharField(max_length=40, blank=True, help_text='"", "payer:<id>" or "provider:<id>".')
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["practice", "user", "name"]
        constraints = [
            models.UniqueConstraint(fields=["practice", "user", "name"], name="kpi_saved_view_name_once")
        ]

    def __str__(self) -> str:
        return self.name


class PayerScorecardMonth(models.Model):
    """One payer's figures for one calendar month, precomputed by ``kpis.scorecard.payer_scorecards_compute``
    (with the KPI snapshots) so the scorecard reads a few hundred rows whatever the practice's size.

    Counts and sums, not ratios, so any range of months adds up: rates are computed on reading. Days to
    pay keep their sum and count (the mean of a range) and the month's 90th percentile (a range shows the
    months' percentiles; a percentile does not add)."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    payer = models.ForeignKey("rcm.Payer", on_delete=models.CASCADE, related_name="+")
    month = models.DateField(help_text="The month's first day.")
    claims = models.PositiveIntegerField(default=0, help_text="Claims first submitted in the month.")
    clean_claims = models.PositiveIntegerField(default=0)
    charges = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    payments = models.DecimalField(max_digits=16, decimal_places=2, default=0, help_text="Net of refunds.")
    paid_claims = models.PositiveIntegerField(default=0, help_text="Claims first paid in the month.")
    days_to_pay_total = models.IntegerField(default=0)  # a payment dated before submission counts negative
    days_to_pay_p90 = models.IntegerField(null=True, blank=True)
    adjudicated = models.PositiveIntegerField(default=0, help_text="Claims first adjudicated in the month.")
    denied = models.PositiveIntegerField(default=0, help_text="Of those, denied fully or partly.")
    top_carcs = models.JSONField(default=list, blank=True, help_text='[["CARC", count], ...] most first.')
    expected = models.DecimalField(
        max_digits=16,
        decimal_places=2,
        default=0,
        help_text="Expected allowed of the lines paid in the month.",
    )
    underpaid = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    recovered = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    appeals_decided = models.PositiveIntegerField(default=0)
    appeals_won = models.PositiveIntegerField(default=0)
    computed_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["practice", "payer", "month"]
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "payer", "month"], name="payer_scorecard_once_per_month"
            )
        ]
        indexes = [models.Index(fields=["practice", "month"], name="payer_scorecard_read")]

    def __str__(self) -> str:
        return f"{self.payer_id} {self.month:%Y-%m}"


class RevenueCycleCost(PracticeScoped):
    """What running the practice's revenue cycle cost in one calendar month (billing staff, billing service,
    clearinghouse, software), entered by a manager: the numerator of the cost to collect. Written only by
    ``kpis.services.revenue_cycle_cost_set`` (one row per practice and month, corrected in place; every
    create and change is an audit event)."""

    month = models.DateField(help_text="The month's first day.")
    amount = models.DecimalField(max_digits=12, decimal_places=2)
    note = models.CharField(max_length=200, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    entered_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["practice", "-month"]
        constraints = [
            models.UniqueConstraint(fields=["practice", "month"], name="revenue_cycle_cost_once_a_month"),
            models.CheckConstraint(condition=models.Q(amount__gte=0), name="revenue_cycle_cost_not_negative"),
            models.CheckConstraint(condition=models.Q(month__day=1), name="revenue_cycle_cost_first_day"),
        ]

    def __str__(self) -> str:
        return f"{self.practice_id} {self.month:%Y-%m}: {self.amount}"
