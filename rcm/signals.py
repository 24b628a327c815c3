"""Sign-in events for the audit log (the username tried is kept; the password never is)."""

from rcm.audit import audit_record
from rcm.middleware import client_ip
from rcm.models import AuditAction


def on_login(sender, request, user, **kwargs):
    audit_record(
        action=AuditAction.LOGIN,
        object_type="rcm.user",
        object_id=user.pk,
        user=user,
        ip_address=client_ip(request) if request else None,
    )


def on_logout(sender, request, user, **kwargs):
    if user is not None:
        audit_record(action=AuditAction.LOGOUT, object_type="rcm.user", object_id=user.pk, user=user)


def on_login_failed(sender, credentials, request=None, **kwargs):
    audit_record(action=AuditAction.LOGIN_FAILED, changes={"username": credentials.get("username", "")})
