"""Writes for the shared core."""

import dataclasses
import datetime
import hashlib
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from rcm.audit import audit_record
from rcm.models import ApiToken, AuditAction, Channel, ConsentEvent, Coverage, Patient
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
