"""View decorators and DRF permission classes built on ``rcm.roles``."""

import functools

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from rest_framework import permissions

from rcm.roles import role_can


def role_required(permission: str):
    """Signed in, a member of the current practice, and allowed ``permission``; else login or 403."""

    def decorator(view):
        @functools.wraps(view)
        def wrapped(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if request.practice is None:
                raise PermissionDenied("You are not a member of any active practice.")
            if not role_can(request.role, permission):
                raise PermissionDenied(f"Your role ({request.membership.get_role_display()}) cannot do this.")
            return view(request, *args, **kwargs)

        wrapped.required_permission = permission
        return wrapped

    return decorator


class HasRolePermission(permissions.BasePermission):
    """DRF: the view names ``required_permission`` (or a dict per HTTP method)."""

    message = "Your role in this practice does not allow this."

    def has_permission(self, request, view):
        if not request.user or not request.user.is_authenticated:
            return False
        if getattr(request, "practice", None) is None:
            self.message = "You are not a member of this practice."
            return False
        required = getattr(view, "required_permission", None)
        if isinstance(required, dict):
            required = required.get(request.method, required.get("*"))
        if required is None:
            return True
        return role_can(request.role, required)
