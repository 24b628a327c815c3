"""Writes for the shared core."""

from django.db import transaction
from rest_framework.authtoken.models import Token

from rcm.audit import audit_record
from rcm.models import AuditAction


@transaction.atomic
def api_token_issue(*, user) -> Token:
    """Replace the user's API token with a new one (the old one stops working at once)."""
    Token.objects.filter(user=user).delete()
    token = Token.objects.create(user=user)
    audit_record(action=AuditAction.TOKEN, object_type="rcm.user", object_id=user.pk, user=user)
    return token
