"""Clearinghouses, 837P submission batches and their delivery."""

from django.conf import settings
from django.db import models
from django.utils import timezone

from claims.models.claims import Claim, FrequencyCode
from claims.models.edi import X12File
from rcm.models import Payer, PracticeScoped


class Clearinghouse(PracticeScoped):
    """Where a practice sends its claims: the EDI identities for the envelopes and the SFTP drop.

    The SFTP password or key passphrase is never stored here: ``sftp_secret_ref`` names where to
    find it (``env:VARIABLE`` or ``file:/path``), resolved only when connecting."""

    name = models.CharField(max_length=120)
    submitter_name = models.CharField(max_length=60, help_text="Loop 1000A: who sends the file.")
    submitter_id = models.CharField(
        max_length=15, help_text="ISA06 / 1000A NM109: our id at the clearinghouse."
    )
    contact_name = models.CharField(max_length=60)
    contact_phone = models.CharField(max_length=20)
    receiver_name = models.CharField(max_length=60, help_text="Loop 1000B: the clearinghouse's name.")
    receiver_id = models.CharField(max_length=15, help_text="ISA08 / 1000B NM109.")
    production = models.BooleanField(default=False, help_text="ISA15: P when on, T (test) when off.")
    sftp_host = models.CharField(max_length=255, blank=True)
    sftp_port = models.PositiveIntegerField(default=22)
    sftp_username = models.CharField(max_length=60, blank=True)
    sftp_secret_ref = models.CharField(
        max_length=255,
        blank=True,
        help_text="env:VARIABLE or file:/path holding the password; never the password.",
    )
    sftp_host_key = models.TextField(blank=True, help_text="The server's public host key (known_hosts line).")
    sftp_outbox = models.CharField(
        max_length=255, default="/inbound", help_text="Remote folder claims go to."
    )
    sftp_inbox = models.CharField(
        max_length=255, default="/outbound", help_text="Remote folder acks/ERAs come from."
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class BatchStatus(models.TextChoices):
    BUILT = "built", "Built"
    SENT = "sent", "Sent"
    SEND_FAILED = "send_failed", "Sending failed"
    ACCEPTED = "accepted", "Accepted (999)"
    PARTLY_ACCEPTED = "partly_accepted", "Partly accepted (999)"
    REJECTED = "rejected", "Rejected (999)"


class SubmissionBatch(PracticeScoped):
    """One 837P file: one interchange with one functional group and one transaction set of claims
    for one payer. Control numbers are unique and increasing per practice."""

    audit_digest = ("content",)  # the log keeps the file's SHA-256 and size, not its PHI

    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, related_name="batches")
    clearinghouse = models.ForeignKey(Clearinghouse, on_delete=models.PROTECT, related_name="batches")
    interchange_control_number = models.PositiveIntegerField()
    group_control_number = models.PositiveIntegerField()
    transaction_control_number = models.CharField(max_length=9)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    file_name = models.CharField(max_length=120)
    content = models.TextField()
    claim_count = models.PositiveIntegerField()
    total_charge = models.DecimalField(max_digits=14, decimal_places=2)
    validation_ok = models.BooleanField()
    validation_findings = models.JSONField(default=list, blank=True)
    status = models.CharField(max_length=20, choices=BatchStatus.choices, default=BatchStatus.BUILT)
    claims = models.ManyToManyField(Claim, through="BatchClaim", related_name="batches")
    downloaded_at = models.DateTimeField(
        null=True, blank=True, help_text="When the file was last downloaded."
    )
    downloaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    marked_sent_at = models.DateTimeField(
        null=True, blank=True, help_text="When a biller said the downloaded file was sent by hand."
    )
    marked_sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "interchange_control_number"], name="batch_isa13_unique"
            ),
            models.UniqueConstraint(fields=["practice", "group_control_number"], name="batch_gs06_unique"),
        ]

    def __str__(self) -> str:
        return self.file_name


class BatchClaim(models.Model):
    batch = models.ForeignKey(SubmissionBatch, on_delete=models.PROTECT, related_name="batch_claims")
    claim = models.ForeignKey(Claim, on_delete=models.PROTECT, related_name="batch_claims")
    frequency_code = models.CharField(max_length=1, choices=FrequencyCode.choices)
    charge = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["batch", "claim"], name="batch_claim_unique")]

    def __str__(self) -> str:
        return f"{self.batch_id}:{self.claim_id}"


class DeliveryAttempt(models.Model):
    """One try at sending a batch to the clearinghouse, with what happened."""

    batch = models.ForeignKey(SubmissionBatch, on_delete=models.PROTECT, related_name="delivery_attempts")
    at = models.DateTimeField(default=timezone.now)
    ok = models.BooleanField()
    message = models.CharField(max_length=500)

    class Meta:
        ordering = ["batch", "at", "id"]

    def __str__(self) -> str:
        return f"{self.batch_id} {'ok' if self.ok else 'failed'} {self.at:%Y-%m-%d %H:%M}"


class RemoteFile(models.Model):
    """A file seen in the clearinghouse's outbound folder: fetched once, imported once."""

    clearinghouse = models.ForeignKey(Clearinghouse, on_delete=models.PROTECT, related_name="remote_files")
    name = models.CharField(max_length=255)
    size = models.BigIntegerField()
    fetched_at = models.DateTimeField(default=timezone.now)
    x12_file = models.ForeignKey(X12File, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["clearinghouse", "name"], name="remote_file_once")]

    def __str__(self) -> str:
        return self.name
