"""What each role sees first after signing in: real numbers from the models, nothing invented."""

from rcm.models import AuditEvent, Membership


def _team(practice):
    return list(
        Membership.objects.filter(practice=practice, is_active=True).select_related("user").order_by("role")
    )


def for_role(role: str, *, practice, user) -> dict:
    recent = list(
        AuditEvent.objects.filter(practice=practice, user=user).order_by("-at", "-id")[:10]
    )
    return {"team": _team(practice), "my_recent_activity": recent}
