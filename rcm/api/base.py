"""Base classes for API views: authenticate, then resolve the practice (``X-Practice`` header or the
user's first practice), set the audit context, check the role, and scope every queryset."""

from rest_framework import viewsets
from rest_framework.views import APIView

from rcm.audit import set_context
from rcm.middleware import attach_practice, client_ip
from rcm.permissions import HasRolePermission
from rcm.tenancy import scoped


class PracticeAPIMixin:
    permission_classes = [HasRolePermission]
    required_permission: str | dict | None = None

    def initial(self, request, *args, **kwargs):
        self.perform_authentication(request)
        user = request.user
        if user and user.is_authenticated:
            slug = request.headers.get("X-Practice") or None
            wanted_id = (
                None if slug else request.session.get("practice_id") if hasattr(request, "session") else None
            )
            attach_practice(request, user, wanted_practice_id=wanted_id, wanted_slug=slug)
            set_context(user=user, ip_address=client_ip(request), source="api")
        super().initial(request, *args, **kwargs)


class PracticeAPIView(PracticeAPIMixin, APIView):
    pass


class PracticeScopedViewSet(PracticeAPIMixin, viewsets.GenericViewSet):
    """``queryset`` is always narrowed to the request's practice: another practice's object is a 404."""

    def get_queryset(self):
        return scoped(super().get_queryset(), self.request.practice)
