"""X12 files received and sent, and the acknowledgments (999/277CA) they carry for claims."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from claims.models.claims import Claim
from rcm.models import PracticeScoped


class X12FileKind(models.TextChoices):
    ACK_999 = "999", "999 implementation acknowledgment"
    ACK_277CA = "277CA", "277CA claim acknowledgment"
    ERA_835 = "835", "835 remittance advice"
    UNKNOWN = "", "Unknown"


class X12FileStatus(models.TextChoices):
    APPLIED = "applied", "Applied"
    REFUSED = "refused", "Refused"


class X12File(PracticeScoped):
    """Every X12 file received, kept as it came, with what reading and applying it found.

    A file is applied whole or not at all; the same content (by SHA-256) is applied once per practice."""

    audit_digest = ("content",)  # the log keeps the file's SHA-256 and size, not its PHI

    kind = models.CharField(max_length=8, choices=X12FileKind.choices, blank=True)
    file_name = models.CharField(max_length=255)
    content = models.TextField()
    sha256 = models.CharField(max_length=64)
    received_at = models.DateTimeField(default=timezone.now)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    source = models.CharField(max_length=20, default="upload", help_text="upload, api, command, sftp")
    status = models.CharField(max_length=10, choices=X12FileStatus.choices)
    error = models.TextField(blank=True, help_text="Why the file was refused, in plain words.")
    warnings = models.JSONField(default=list, blank=True)
    validation_findings = models.JSONField(default=list, blank=True)
    validated_at = models.DateTimeField(
        null=True, blank=True, help_text="When pyx12 checked it (large files are checked in the background)."
    )
    outcome = models.JSONField(default=dict, blank=True, help_text="What applying the file did (counts).")

    class Meta:
        ordering = ["-received_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "sha256"],
                condition=models.Q(status="applied"),
                name="x12file_applied_once",
            ),
        ]

    def __str__(self) -> str:
        return self.file_name


class ClaimAcknowledgment(PracticeScoped):
    """What a 999 or 277CA said about a claim: accepted, or rejected with the reasons in plain words."""

    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="acknowledgments")
    x12_file = models.ForeignKey(X12File, on_delete=models.PROTECT, related_name="acknowledgments")
    batch = models.ForeignKey(
        "claims.SubmissionBatch", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    accepted = models.BooleanField()
    codes = models.JSONField(default=list, blank=True, help_text="Status/error codes as received.")
    reasons = models.JSONField(default=list, blank=True, help_text="The codes in plain words.")
    payer_claim_number = models.CharField(max_length=50, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{'accepted' if self.accepted else 'rejected'} {self.claim_id}"
