"""Tenant scoping: the only way views, API views and selectors reach practice-owned rows.

``scoped(Model, practice)`` filters by practice; ``get_scoped_or_404`` fetches one object of the
current practice or raises 404, so another practice's object looks exactly like a missing one.
"""

from django.db import models
from django.http import Http404


def scoped(model_or_queryset, practice) -> models.QuerySet:
    if practice is None:
        raise Http404("No practice selected.")
    queryset = (
        model_or_queryset._default_manager.all() if isinstance(model_or_queryset, type) else model_or_queryset
    )
    return queryset.filter(practice=practice)


def get_scoped_or_404(model_or_queryset, practice, **lookup):
    queryset = scoped(model_or_queryset, practice)
    try:
        return queryset.get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError):
        raise Http404(f"No {queryset.model._meta.verbose_name} matches the given query.") from None
