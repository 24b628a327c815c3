"""Scrubber rule settings and the NCCI tables it reads."""

from django.db import models

from rcm.models import Payer, PracticeScoped


class ScrubRuleSetting(PracticeScoped):
    """Turns a scrubber rule off (or back on) for the practice, or for one payer of it."""

    rule_code = models.CharField(max_length=40)
    payer = models.ForeignKey(Payer, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    enabled = models.BooleanField(default=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "rule_code", "payer"], name="scrub_rule_setting_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.rule_code} {'on' if self.enabled else 'off'} for {self.payer or 'all payers'}"


class NcciPtpEdit(models.Model):
    """A CMS NCCI procedure-to-procedure edit (practitioner table): column 2 is not paid with column 1
    on the same day, unless the modifier indicator is 1 and an NCCI-associated modifier applies.
    National reference data, the same for every practice."""

    column1 = models.CharField(max_length=5)
    column2 = models.CharField(max_length=5)
    effective_date = models.DateField()
    deletion_date = models.DateField(null=True, blank=True)
    modifier_indicator = models.CharField(
        max_length=1, help_text="0 never allowed, 1 allowed with modifier, 9 n/a"
    )
    rationale = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["column1", "column2", "effective_date"], name="ncci_ptp_unique"),
        ]
        indexes = [models.Index(fields=["column1", "column2"], name="ncci_ptp_pair")]

    def __str__(self) -> str:
        return f"{self.column1}/{self.column2} ({self.modifier_indicator})"


class MueLimit(models.Model):
    """A CMS Medically Unlikely Edit (practitioner table): most units of a code per patient per day."""

    procedure_code = models.CharField(max_length=5, unique=True)
    max_units = models.PositiveIntegerField()
    adjudication_indicator = models.CharField(max_length=60, blank=True)
    rationale = models.CharField(max_length=120, blank=True)

    def __str__(self) -> str:
        return f"{self.procedure_code} ≤ {self.max_units}"
