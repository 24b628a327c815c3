"""Reads for the shared core."""

import datetime

from django.db.models import QuerySet

from rcm.models import AuditEvent


def _parse_date(value: str | None) -> datetime.date | None:
    if not value:
        return None
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        return None


def audit_events_filtered(queryset: QuerySet[AuditEvent], params) -> QuerySet[AuditEvent]:
    """Filter an already practice-scoped audit queryset by user, action, object and date range."""
    if username := params.get("user"):
        queryset = queryset.filter(username=username)
    if action := params.get("action"):
        queryset = queryset.filter(action=action)
    if object_type := params.get("object_type"):
        queryset = queryset.filter(object_type=object_type)
    if object_id := params.get("object_id"):
        queryset = queryset.filter(object_id=object_id)
    if start := _parse_date(params.get("date_from")):
        queryset = queryset.filter(at__date__gte=start)
    if end := _parse_date(params.get("date_to")):
        queryset = queryset.filter(at__date__lte=end)
    return queryset.order_by("-at", "-id")
