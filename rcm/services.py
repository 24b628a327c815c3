"""Writes for the shared core."""

import dataclasses
import datetime
import hashlib
import secrets

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from rcm.audit import audit_record
from rcm.models import ApiToken, AuditAction, Channel, ConsentEvent, Coverage, Membership, Patient, User
from rcm.roles import Role
from rcm.sequences import sequence_next


@dataclasses.dataclass(frozen=True)
class IssuedToken:
    """A token just issued: the key is here once and stored nowhere (only its hash is)."""

    token: ApiToken
    key: str


def api_token_hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


@transaction.atomic
def api_token_issue(*, user, session_key: str = "", days: int | None = None) -> IssuedToken:
    """Issue a new API token. A token for scripts (no ``session_key``) replaces the user's other script
    tokens (they stop working at once); a token for a browser session is revoked when that session signs
    out. Either expires after ``days`` (``RCM_API_TOKEN_DAYS`` by default)."""
    now = timezone.now()
    if not session_key:
        ApiToken.objects.filter(user=user, session_key="", revoked_at__isnull=True).update(revoked_at=now)
    key = secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        key_hash=api_token_hash(key),
        prefix=key[:8],
        created_at=now,
        expires_at=now + datetime.timedelta(days=days or settings.RCM_API_TOKEN_DAYS),
        last_used_at=now,
        session_key=session_key,
    )
    audit_record(
        action=AuditAction.TOKEN,
        object_type="rcm.apitoken",
        object_id=token.pk,
        changes={"prefix": token.prefix, "expires": token.expires_at, "session": bool(session_key)},
        user=user,
    )
    return IssuedToken(token=token, key=key)


@transaction.atomic
def api_token_revoke(*, token: ApiToken, user) -> ApiToken:
    """Revoke one of ``user``'s tokens (a no-op when it is already revoked)."""
    if token.user_id != user.pk:
        raise ValidationError("That token is not yours.")
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=token.revoked_at)
        audit_record(
            action=AuditAction.UPDATE,
            object_type="rcm.apitoken",
            object_id=token.pk,
            changes={"revoked": token.prefix},
            user=user,
        )
    return token


def api_tokens_revoke_for_session(*, session_key: str) -> int:
    """At sign-out: the tokens issued for that browser session stop working."""
    if not session_key:
        return 0
    return ApiToken.objects.filter(session_key=session_key, revoked_at__isnull=True).update(
        revoked_at=timezone.now()
    )


def _create(model, **fields):
    """Validate every field and model rule (``full_clean``), then save; ValidationError names the field."""
    instance = model(**fields)
    instance.full_clean()
    instance.save()
    return instance


@transaction.atomic
def patient_create(*, practice, **fields):
    """Create a patient in ``practice`` with the next account number when none is given."""
    if not fields.get("account_number"):
        (number,) = sequence_next(practice=practice, name="patient_account")
        fields["account_number"] = f"A{number:07d}"
    guarantor = fields.get("guarantor")
    if guarantor is not None and guarantor.practice_id != practice.pk:
        raise ValidationError({"guarantor": "The guarantor belongs to another practice."})
    if Patient.objects.filter(practice=practice, account_number=fields["account_number"]).exists():
        raise ValidationError(
            {"account_number": f"Account number {fields['account_number']} is already in use."}
        )
    try:
        with transaction.atomic():
            return _create(Patient, practice=practice, **fields)
    except IntegrityError:  # a concurrent request took the same number between the check and the insert
        raise ValidationError(
            {"account_number": f"Account number {fields['account_number']} is already in use."}
        ) from None


@transaction.atomic
def coverage_create(*, practice, patient, payer, **fields):
    """Create a coverage; the patient and payer must belong to ``practice``."""
    return _create(Coverage, practice=practice, patient=patient, payer=payer, **fields)


@transaction.atomic
def consent_record(*, patient, channel: str, granted: bool, method: str, user=None, at=None):
    """Record that the patient gave or withdrew consent to be contacted on ``channel`` (takes effect at
    once)."""
    return ConsentEvent.objects.create(
        practice_id=patient.practice_id,
        patient=patient,
        channel=channel,
        granted=granted,
        method=method,
        recorded_by=user if user is not None and getattr(user, "is_authenticated", False) else None,
        at=at or timezone.now(),
    )


def consents_current(patient) -> dict[str, bool]:
    """Channel -> consent in force (the latest event per channel; no event means no consent)."""
    state = dict.fromkeys(Channel.values, False)
    seen = set()
    for event in ConsentEvent.objects.filter(patient=patient).order_by("channel", "-at", "-id"):
        if event.channel not in seen:
            state[event.channel] = event.granted
            seen.add(event.channel)
    return state


# --- The practice's team: members and roles (the admin's own page, /settings/team/) -------------------


def _active_admins(practice):
    return Membership.objects.filter(practice=practice, role=Role.ADMIN, is_active=True, user__is_active=True)


@transaction.atomic
def team_member_add(
    *, practice, by, username: str, role: str, first_name="", last_name="", email="", password=""
) -> Membership:
    """Add a person to the practice with a role: a new user (with the first password given, checked by the
    password rules) or an existing one (a billing company's staff working for several practices). Refused,
    saving nothing, when they are already a member or the input is wrong."""
    username = username.strip()
    if role not in Role.values:
        raise ValidationError({"role": f"Pick one of: {', '.join(Role.labels)}."})
    user = User.objects.filter(username=username).first()
    if user is None:
        if not password:
            raise ValidationError(
                {"password": "A new user needs a first password (they can change it later)."}
            )
        user = User(username=username, first_name=first_name, last_name=last_name, email=email)
        user.full_clean(exclude=["password"])
        try:
            validate_password(password, user)
        except ValidationError as error:
            raise ValidationError({"password": error.messages}) from None
        user.set_password(password)
        user.save()
        audit_record(
            action=AuditAction.CREATE,
            practice=practice,
            object_type="rcm.user",
            object_id=user.pk,
            changes={"username": [None, username], "added_by": by.get_username()},
        )
    elif Membership.objects.filter(user=user, practice=practice).exists():
        raise ValidationError({"username": f"{username} is already a member of {practice.name}."})
    return Membership.objects.create(user=user, practice=practice, role=role)


@transaction.atomic
def membership_role_change(*, membership: Membership, role: str, by) -> Membership:
    """Give a member another role. The practice keeps at least one active administrator."""
    if role not in Role.values:
        raise ValidationError({"role": f"Pick one of: {', '.join(Role.labels)}."})
    locked = Membership.objects.select_for_update().get(pk=membership.pk)
    if locked.role == Role.ADMIN and role != Role.ADMIN and _active_admins(locked.practice_id).count() <= 1:
        raise ValidationError(
            f"{locked.user} is the practice's only administrator: make someone else one first."
        )
    locked.role = role
    locked.save()
    return locked


@transaction.atomic
def membership_set_active(*, membership: Membership, active: bool, by) -> Membership:
    """Deactivate a member (they can no longer work in the practice; their history stays) or bring them
    back. The practice keeps at least one active administrator."""
    locked = Membership.objects.select_for_update().get(pk=membership.pk)
    if (
        not active
        and locked.role == Role.ADMIN
        and locked.is_active
        and _active_admins(locked.practice_id).count() <= 1
    ):
        raise ValidationError(
            f"{locked.user} is the practice's only administrator: they cannot be deactivated."
        )
    locked.is_active = active
    locked.save()
    return locked


@transaction.atomic
def practice_policy_update(
    *, practice, by, idle_timeout_minutes, require_two_factor: bool, viewers_download_batches: bool
):
    """The practice's sign-in and data policy: idle sign-out, two-factor for managers and administrators,
    who besides billers and administrators downloads 837 files. Checked whole; saved (and audited) whole."""
    practice = type(practice).objects.select_for_update().get(pk=practice.pk)
    try:
        practice.idle_timeout_minutes = int(idle_timeout_minutes)
    except (TypeError, ValueError):
        raise ValidationError({"idle_timeout_minutes": "Give the idle timeout in whole minutes."}) from None
    practice.require_two_factor = bool(require_two_factor)
    practice.viewers_download_batches = bool(viewers_download_batches)
    practice.full_clean(validate_unique=False)
    practice.save()
    return practice
