"""Writes for the shared core."""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.authtoken.models import Token

from rcm.audit import audit_record
from rcm.models import AuditAction, Channel, ConsentEvent, Coverage, Patient
from rcm.sequences import sequence_next


@transaction.atomic
def api_token_issue(*, user) -> Token:
    """Replace the user's API token with a new one (the old one stops working at once)."""
    Token.objects.filter(user=user).delete()
    token = Token.objects.create(user=user)
    audit_record(action=AuditAction.TOKEN, object_type="rcm.user", object_id=user.pk, user=user)
    return token


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
