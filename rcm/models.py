"""The shared core: practices (tenants), users and their roles, and the audit log.

Reference data (providers, patients, payers, coverage, contracts) lives in ``rcm.reference``'s
models module, imported at the bottom so Django sees one ``rcm`` app.
"""

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.validators import RegexValidator
from django.db import models
from django.utils import timezone

from rcm.append_only import AppendOnlyModel
from rcm.auditable import Audited
from rcm.roles import Role


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
        "group NPI", max_length=10, blank=True, validators=[RegexValidator(r"^\d{10}$", "An NPI is 10 digits.")]
    )
    tax_id = models.CharField(
        "tax ID (EIN)", max_length=9, blank=True, validators=[RegexValidator(r"^\d{9}$", "An EIN is 9 digits.")]
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
        constraints = [models.UniqueConstraint(fields=["user", "practice"], name="membership_one_per_practice")]
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
