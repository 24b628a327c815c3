"""The shared core: practices (tenants), users and their roles, and the audit log.

and the reference data the revenue cycle runs on: providers, patients and their contact consents,
payers, coverage, payer contracts with fee schedules, and the practice's charge master.
"""

from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.utils import timezone

from rcm.append_only import AppendOnlyModel
from rcm.auditable import Audited
from rcm.roles import Role
from rcm.validators import validate_npi, validate_procedure_code


class User(AbstractUser):
    """A person who signs in. What they may do depends on their membership in each practice."""

    class Meta:
        ordering = ["username"]

    def memberships_active(self):
        return self.memberships.filter(is_active=True, practice__is_active=True).select_related("practice")


class Practice(Audited, models.Model):
    """The tenant. Every domain row belongs to exactly one practice."""

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=60, unique=True)
    npi = models.CharField(
        "group NPI",
        max_length=10,
        blank=True,
        validators=[RegexValidator(r"^\d{10}$", "An NPI is 10 digits.")],
    )
    tax_id = models.CharField(
        "tax ID (EIN)",
        max_length=9,
        blank=True,
        validators=[RegexValidator(r"^\d{9}$", "An EIN is 9 digits.")],
    )
    address_line1 = models.CharField(max_length=120, blank=True)
    address_line2 = models.CharField(max_length=120, blank=True)
    city = models.CharField(max_length=60, blank=True)
    state = models.CharField(max_length=2, blank=True)
    postal_code = models.CharField(max_length=10, blank=True)
    phone = models.CharField(max_length=20, blank=True)
    time_zone = models.CharField(max_length=64, default="America/New_York")
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)
    # Sign-in policy (docs/security.md).
    idle_timeout_minutes = models.PositiveSmallIntegerField(
        default=15,
        validators=[MinValueValidator(1), MaxValueValidator(480)],
        help_text="A session with no request for this many minutes is signed out.",
    )
    require_two_factor = models.BooleanField(
        default=False,
        help_text="Practice managers and administrators must sign in with a one-time code (TOTP).",
    )
    viewers_download_batches = models.BooleanField(
        default=False,
        help_text="Collections specialists and practice managers may download 837 batch files "
        "(full PHI and diagnoses); billers and administrators always may.",
    )

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Membership(Audited, models.Model):
    """A user's place in a practice: one role per practice. A billing-company user may have several."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    is_active = models.BooleanField(default=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["user", "practice"], name="membership_one_per_practice")
        ]
        ordering = ["practice__name"]

    def __str__(self) -> str:
        return f"{self.user} · {self.practice} · {self.get_role_display()}"


class PracticeScopedQuerySet(models.QuerySet):
    def for_practice(self, practice):
        return self.filter(practice=practice)


class PracticeScoped(Audited, models.Model):
    """Abstract base for every domain row: it carries its practice, and is read through the scoping
    helpers in ``rcm.tenancy``."""

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")

    objects = PracticeScopedQuerySet.as_manager()

    class Meta:
        abstract = True


class AuditAction(models.TextChoices):
    CREATE = "create", "Created"
    UPDATE = "update", "Updated"
    DELETE = "delete", "Deleted"
    VIEW = "view", "Viewed"
    EXPORT = "export", "Exported"
    LOGIN = "login", "Signed in"
    LOGOUT = "logout", "Signed out"
    LOGIN_FAILED = "login_failed", "Failed sign-in"
    TOKEN = "token", "API token issued"


class AuditEvent(AppendOnlyModel):
    """Who did what, when, from where. Append-only: the app can add rows and read them, nothing else."""

    at = models.DateTimeField(default=timezone.now, db_index=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    username = models.CharField(max_length=150, blank=True, help_text="Kept as written at the time.")
    practice = models.ForeignKey(Practice, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    action = models.CharField(max_length=20, choices=AuditAction.choices)
    object_type = models.CharField(max_length=100, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    changes = models.JSONField(default=dict, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    source = models.CharField(max_length=30, default="web", help_text="web, api, command, task, admin")

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["practice", "-at"], name="audit_practice_at"),
            models.Index(fields=["object_type", "object_id"], name="audit_object"),
        ]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.username} {self.action} {self.object_type} {self.object_id}"


class ApiToken(models.Model):
    """An API token: only its SHA-256 is stored (the key is shown once, when issued). It stops working when
    it expires or is revoked; a token issued for a browser session is revoked when that session signs out."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="api_tokens")
    key_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=8, help_text="The key's first characters, to tell tokens apart.")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    session_key = models.CharField(
        max_length=40, blank=True, help_text="The browser session it belongs to (revoked at its sign-out)."
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "revoked_at"], name="api_token_user")]

    def __str__(self) -> str:
        return f"{self.user} {self.prefix}…"

    def is_usable(self, now=None) -> bool:
        now = now or timezone.now()
        return self.revoked_at is None and self.expires_at > now


# --- Reference data: providers, patients, payers, coverage, contracts, charge master ----------

_STATE = RegexValidator(r"^[A-Z]{2}$", "Use the two-letter state code.")
_ZIP = RegexValidator(r"^\d{5}(\d{4})?$", "A ZIP code is 5 or 9 digits.")


class ProviderRole(models.TextChoices):
    RENDERING = "rendering", "Rendering"
    BILLING = "billing", "Billing"
    BOTH = "both", "Billing and rendering"


class Provider(PracticeScoped):
    """A clinician (or the group) billed on claims. The NPI passes the Luhn check."""

    first_name = models.CharField(max_length=60, blank=True)
    last_name = models.CharField(max_length=60, help_text="Last name, or the organization's name.")
    credentials = models.CharField(max_length=20, blank=True, help_text="MD, DO, NP, PA-C...")
    is_organization = models.BooleanField(default=False)
    npi = models.CharField("NPI", max_length=10, validators=[validate_npi])
    taxonomy_code = models.CharField(
        max_length=10, validators=[RegexValidator(r"^[0-9A-Z]{9}X$", "A taxonomy code is 9 characters + X.")]
    )
    role = models.CharField(max_length=10, choices=ProviderRole.choices, default=ProviderRole.RENDERING)
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["last_name", "first_name"]
        constraints = [
            models.UniqueConstraint(fields=["practice", "npi"], name="provider_npi_unique_in_practice")
        ]

    def __str__(self) -> str:
        if self.is_organization:
            return self.last_name
        name = f"{self.first_name} {self.last_name}".strip()
        return f"{name}, {self.credentials}" if self.credentials else name


class Sex(models.TextChoices):
    FEMALE = "F", "Female"
    MALE = "M", "Male"
    UNKNOWN = "U", "Unknown"


class Patient(PracticeScoped):
    account_number = models.CharField(max_length=20)
    first_name = models.CharField(max_length=60)
    middle_name = models.CharField(max_length=60, blank=True)
    last_name = models.CharField(max_length=60)
    date_of_birth = models.DateField()
    sex = models.CharField(max_length=1, choices=Sex.choices)
    address_line1 = models.CharField(max_length=120)
    address_line2 = models.CharField(max_length=120, blank=True)
    city = models.CharField(max_length=60)
    state = models.CharField(max_length=2, validators=[_STATE])
    postal_code = models.CharField(max_length=10, validators=[_ZIP])
    phone = models.CharField(max_length=20, blank=True)
    email = models.EmailField(blank=True)
    preferred_language = models.CharField(max_length=30, default="English")
    time_zone = models.CharField(max_length=64, default="America/New_York")
    guarantor = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="dependents",
        help_text="Who is responsible for the bill; empty when the patient is their own guarantor.",
    )
    guarantor_relationship = models.CharField(max_length=20, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["last_name", "first_name", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "account_number"], name="patient_account_unique_in_practice"
            )
        ]
        indexes = [models.Index(fields=["practice", "last_name", "first_name"], name="patient_name")]

    def __str__(self) -> str:
        return f"{self.last_name}, {self.first_name}"

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"

    def age_on(self, day) -> int:
        years = day.year - self.date_of_birth.year
        if (day.month, day.day) < (self.date_of_birth.month, self.date_of_birth.day):
            years -= 1
        return years


class Channel(models.TextChoices):
    EMAIL = "email", "Email"
    SMS = "sms", "Text message"
    MAIL = "mail", "Mail"
    PHONE = "phone", "Phone"


class ConsentEvent(AppendOnlyModel):
    """Consent to be contacted on a channel, given or withdrawn: a history, the latest row per channel
    wins."""

    practice = models.ForeignKey(Practice, on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="consent_events")
    channel = models.CharField(max_length=10, choices=Channel.choices)
    granted = models.BooleanField()
    at = models.DateTimeField(default=timezone.now)
    method = models.CharField(max_length=40, help_text="written form, verbal, patient portal, STOP reply...")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["patient", "channel", "-at", "-id"]
        indexes = [models.Index(fields=["patient", "channel", "-at"], name="consent_latest")]


class PayerKind(models.TextChoices):
    MEDICARE = "medicare", "Medicare"
    MEDICAID = "medicaid", "Medicaid"
    COMMERCIAL = "commercial", "Commercial"
    WORKERS_COMP = "workers_comp", "Workers' compensation"
    SELF_PAY = "self_pay", "Self-pay"


# X12 claim filing indicator (SBR09) by payer kind.
CLAIM_FILING_INDICATOR = {
    PayerKind.MEDICARE: "MB",
    PayerKind.MEDICAID: "MC",
    PayerKind.COMMERCIAL: "CI",
    PayerKind.WORKERS_COMP: "WC",
    PayerKind.SELF_PAY: "ZZ",
}


class Payer(PracticeScoped):
    name = models.CharField(max_length=120)
    payer_id = models.CharField("payer ID (EDI)", max_length=20)
    kind = models.CharField(max_length=20, choices=PayerKind.choices)
    address_line1 = models.CharField(max_length=120, blank=True)
    city = models.CharField(max_length=60, blank=True)
    state = models.CharField(max_length=2, blank=True)
    postal_code = models.CharField(max_length=10, blank=True)
    phone = models.CharField(max_length=20, blank=True)
    no_response_days = models.PositiveIntegerField(
        default=30, help_text="A submitted claim with no answer after this many days needs follow-up."
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(fields=["practice", "payer_id"], name="payer_id_unique_in_practice")
        ]

    def __str__(self) -> str:
        return self.name


class CoveragePriority(models.IntegerChoices):
    PRIMARY = 1, "Primary"
    SECONDARY = 2, "Secondary"
    TERTIARY = 3, "Tertiary"


class SubscriberRelationship(models.TextChoices):
    # X12 individual relationship codes (SBR02 / PAT01)
    SELF = "18", "Self"
    SPOUSE = "01", "Spouse"
    CHILD = "19", "Child"
    OTHER = "G8", "Other"


class Coverage(PracticeScoped):
    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="coverages")
    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, related_name="coverages")
    priority = models.PositiveSmallIntegerField(
        choices=CoveragePriority.choices, default=CoveragePriority.PRIMARY
    )
    member_id = models.CharField(max_length=30)
    group_number = models.CharField(max_length=30, blank=True)
    relationship = models.CharField(
        "patient's relationship to subscriber",
        max_length=2,
        choices=SubscriberRelationship.choices,
        default=SubscriberRelationship.SELF,
    )
    subscriber_first_name = models.CharField(max_length=60, blank=True)
    subscriber_last_name = models.CharField(max_length=60, blank=True)
    subscriber_date_of_birth = models.DateField(null=True, blank=True)
    subscriber_sex = models.CharField(max_length=1, choices=Sex.choices, blank=True)
    effective_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)

    class Meta:
        ordering = ["patient", "priority", "-effective_date"]
        indexes = [models.Index(fields=["patient", "priority"], name="coverage_patient_priority")]

    def __str__(self) -> str:
        return f"{self.payer} ({self.get_priority_display().lower()}) {self.member_id}"

    def clean(self):
        errors = {}
        if self.end_date and self.effective_date and self.end_date < self.effective_date:
            errors["end_date"] = "The end date is before the effective date."
        if self.relationship != SubscriberRelationship.SELF and not (
            self.subscriber_first_name and self.subscriber_last_name and self.subscriber_date_of_birth
        ):
            errors["subscriber_last_name"] = (
                "When the patient is not the subscriber, the subscriber's name and date of birth "
                "are required."
            )
        if self.patient_id and self.practice_id and self.patient.practice_id != self.practice_id:
            errors["patient"] = "The patient belongs to another practice."
        if self.payer_id and self.practice_id and self.payer.practice_id != self.practice_id:
            errors["payer"] = "The payer belongs to another practice."
        if errors:
            raise ValidationError(errors)

    def is_active_on(self, day) -> bool:
        return self.effective_date <= day and (self.end_date is None or day <= self.end_date)


class PricingMethod(models.TextChoices):
    FEE_SCHEDULE = "fee_schedule", "Fee schedule"
    PERCENT_OF_BASE = "percent_of_base", "% of a base payer's fee schedule"
    PERCENT_OF_CHARGES = "percent_of_charges", "% of billed charges"


class PayerContract(PracticeScoped):
    payer = models.ForeignKey(Payer, on_delete=models.PROTECT, related_name="contracts")
    name = models.CharField(max_length=120)
    effective_date = models.DateField()
    end_date = models.DateField(null=True, blank=True)
    in_network = models.BooleanField(default=True)
    timely_filing_days = models.PositiveIntegerField(default=365)
    appeal_limit_days = models.PositiveIntegerField(default=180)
    prior_auth_codes = models.JSONField(
        default=list,
        blank=True,
        help_text="Procedure codes that need prior authorization under this contract.",
    )
    pricing_method = models.CharField(
        max_length=20, choices=PricingMethod.choices, default=PricingMethod.FEE_SCHEDULE
    )
    base_payer = models.ForeignKey(
        Payer,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="derived_contracts",
        help_text=(
            "For % of a base schedule: the payer whose fee schedule is the base (e.g. Medicare). A line is "
            "priced from the base payer's contract in force on its date of service, so a new rate year of "
            "the base payer prices later lines without changing earlier ones."
        ),
    )
    percent = models.DecimalField(
        max_digits=6,
        decimal_places=2,
        null=True,
        blank=True,
        help_text="For the percentage methods: 110.00 means 110%.",
    )
    multiple_procedure_reduction_percent = models.DecimalField(
        max_digits=5,
        decimal_places=2,
        null=True,
        blank=True,
        validators=[MinValueValidator(Decimal("0")), MaxValueValidator(Decimal("100"))],
        help_text=(
            "The second and later procedures on a claim are allowed at this % of their amount "
            "(50.00 means half); empty when the contract has no multiple-procedure reduction."
        ),
    )
    underpayment_tolerance_amount = models.DecimalField(
        max_digits=10,
        decimal_places=2,
        default=Decimal("1.00"),
        help_text="A line paid short by at most this much is not flagged as underpaid.",
    )
    underpayment_tolerance_percent = models.DecimalField(
        max_digits=5, decimal_places=2, default=Decimal("0.00")
    )
    notes = models.TextField(blank=True)
    renegotiation_date = models.DateField(
        null=True, blank=True, help_text="When to reopen the contract with the payer (a reminder, no effect)."
    )

    class Meta:
        ordering = ["payer", "-effective_date"]

    def __str__(self) -> str:
        return f"{self.payer}: {self.name}"

    def clean(self):
        errors = {}
        if self.end_date and self.effective_date and self.end_date < self.effective_date:
            errors["end_date"] = "The end date is before the effective date."
        if self.pricing_method != PricingMethod.FEE_SCHEDULE and self.percent is None:
            errors["percent"] = "A percentage method needs the percentage."
        if self.pricing_method == PricingMethod.PERCENT_OF_BASE:
            # Only the base payer is checked: which of its contracts is the base (and whether that one is
            # priced by a fee schedule) is judged per date of service when pricing.
            if self.base_payer_id is None:
                errors["base_payer"] = "The % of a base schedule method needs the base payer."
            elif self.practice_id and self.base_payer.practice_id != self.practice_id:
                errors["base_payer"] = "The base payer belongs to another practice."
            elif self.base_payer_id == self.payer_id:
                errors["base_payer"] = (
                    f"The base payer cannot be the contract's own payer ({self.payer.name}): choose the "
                    "payer whose schedule is the base (e.g. Medicare)."
                )
        if errors:
            raise ValidationError(errors)


class FeeScheduleRow(PracticeScoped):
    contract = models.ForeignKey(PayerContract, on_delete=models.CASCADE, related_name="fee_rows")
    procedure_code = models.CharField(max_length=5, validators=[validate_procedure_code])
    modifier = models.CharField(max_length=2, blank=True)
    facility = models.BooleanField(
        default=False, help_text="Facility rate (e.g. hospital) vs non-facility (office)."
    )
    allowed_amount = models.DecimalField(
        max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0"))]
    )

    class Meta:
        ordering = ["procedure_code", "modifier"]
        constraints = [
            models.UniqueConstraint(
                fields=["contract", "procedure_code", "modifier", "facility"], name="fee_row_unique"
            )
        ]

    def __str__(self) -> str:
        modifier = f"-{self.modifier}" if self.modifier else ""
        setting = "facility" if self.facility else "non-facility"
        return f"{self.procedure_code}{modifier} {setting} ${self.allowed_amount}"


class FeeScheduleImportStatus(models.TextChoices):
    PREVIEWED = "previewed", "Previewed"
    APPLIED = "applied", "Applied"


class FeeScheduleImport(PracticeScoped):
    """A fee schedule file loaded into a contract, kept as it came (DESIGN.md: the original file is kept).
    A file that passed every check is kept as previewed until someone confirms it; refused files are not kept.
    ``counts`` says what applying it did: rows added, changed, removed and left as they were."""

    audit_exclude = ("content",)

    contract = models.ForeignKey(PayerContract, on_delete=models.PROTECT, related_name="fee_imports")
    file_name = models.CharField(max_length=255)
    content = models.BinaryField()
    sha256 = models.CharField(max_length=64)
    row_count = models.PositiveIntegerField()
    status = models.CharField(
        max_length=10, choices=FeeScheduleImportStatus.choices, default=FeeScheduleImportStatus.PREVIEWED
    )
    uploaded_at = models.DateTimeField(default=timezone.now)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    applied_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-uploaded_at", "-id"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display().lower()})"


class ChargeMasterEntry(PracticeScoped):
    """The practice's standard charge for a procedure code (and modifier)."""

    procedure_code = models.CharField(max_length=5, validators=[validate_procedure_code])
    modifier = models.CharField(max_length=2, blank=True)
    description = models.CharField(max_length=200, blank=True, help_text="The practice's own wording.")
    charge = models.DecimalField(
        max_digits=12, decimal_places=2, validators=[MinValueValidator(Decimal("0.01"))]
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["procedure_code", "modifier"]
        verbose_name_plural = "charge master entries"
        constraints = [
            models.UniqueConstraint(
                fields=["practice", "procedure_code", "modifier"], name="charge_master_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.procedure_code}{'-' + self.modifier if self.modifier else ''} ${self.charge}"


class NumberSequence(models.Model):
    """Per-practice counters for numbers we hand out (claim numbers, account numbers, X12 control numbers).
    Allocated under a row lock, so numbers are unique and increasing even with concurrent requests."""

    practice = models.ForeignKey(Practice, on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=40)
    last_value = models.BigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["practice", "name"], name="number_sequence_unique")]

    def __str__(self) -> str:
        return f"{self.practice_id}:{self.name}={self.last_value}"


# --- Background work: the task outbox ---------------------------------------------------------


class OutboxTask(models.Model):
    """A Celery task that must run, recorded in the transaction of the work that needs it (``rcm.outbox``):
    published after commit, and again by the sweep until the broker took it, so a broker outage delays
    the work but never loses it. Arguments are ids only (no PHI in the broker)."""

    task = models.CharField(max_length=100, help_text="The Celery task's name.")
    args = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    queued_at = models.DateTimeField(null=True, blank=True, help_text="When the broker accepted it.")
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=200, blank=True)

    class Meta:
        indexes = [
            models.Index(
                fields=["created_at"], condition=models.Q(queued_at__isnull=True), name="outbox_waiting"
            )
        ]

    def __str__(self) -> str:
        return f"{self.task}{tuple(self.args)} {'queued' if self.queued_at else 'waiting'}"
