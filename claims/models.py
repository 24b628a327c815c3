"""Claims, their lines and diagnoses, the append-only financial ledger, and the claim status history."""

from decimal import Decimal

from django.conf import settings
from django.core.validators import MinValueValidator
from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from rcm.append_only import AppendOnlyModel
from rcm.models import Coverage, Patient, Payer, Practice, PracticeScoped, Provider

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
            # Covering (PostgreSQL): status counts, A/R aging, patient A/R, list counts and the no-response and
            # deadline queues read the index alone (index-only scans), never the wide claim rows.
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
        SubmissionBatch, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
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


# --- Remittances (ERA 835) -------------------------------------------------------------------


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
