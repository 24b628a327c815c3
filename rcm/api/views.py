from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from drf_spectacular.views import SpectacularSwaggerSplitView
from rest_framework import mixins
from rest_framework.response import Response

from rcm.api.base import PracticeAPIView, PracticeScopedViewSet
from rcm.api.serializers import AuditEventSerializer, ErrorSerializer, MeSerializer
from rcm.models import AuditEvent
from rcm.selectors import audit_events_filtered

PRACTICE_HEADER = OpenApiParameter(
    "X-Practice", str, OpenApiParameter.HEADER, required=False, description="Slug of the practice to act in."
)

_ERROR_DESCRIPTIONS = {
    400: "Invalid input: `fields` names each field in error.",
    403: "Not signed in, not a member of the practice, or the role does not allow this.",
    404: "No such object in this practice.",
    409: "The object changed since you read it (e.g. a claim someone else just took): the message says how.",
}


def error_responses(*codes: int) -> dict[int, OpenApiResponse]:
    """The documented error responses of an operation, all in the one error format."""
    return {code: OpenApiResponse(ErrorSerializer, description=_ERROR_DESCRIPTIONS[code]) for code in codes}


class MeView(PracticeAPIView):
    """The signed-in user, the practice in force and every practice they belong to."""

    @extend_schema(responses={200: MeSerializer, **error_responses(403)}, parameters=[PRACTICE_HEADER])
    def get(self, request):
        data = {
            "username": request.user.get_username(),
            "full_name": request.user.get_full_name(),
            "current_practice": request.practice.slug if request.practice else None,
            "role": request.role,
            "memberships": request.memberships,
        }
        return Response(MeSerializer(data).data)


@extend_schema(parameters=[PRACTICE_HEADER])
@extend_schema_view(
    list=extend_schema(responses={200: AuditEventSerializer(many=True), **error_responses(403)}),
    retrieve=extend_schema(responses={200: AuditEventSerializer, **error_responses(403, 404)}),
)
class AuditEventViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PracticeScopedViewSet):
    """The practice's audit trail, newest first (read-only; practice managers and admins)."""

    queryset = AuditEvent.objects.select_related(None)
    serializer_class = AuditEventSerializer
    required_permission = "audit.view"

    def get_queryset(self):
        return audit_events_filtered(super().get_queryset(), self.request.query_params)


class ApiDocsView(SpectacularSwaggerSplitView):
    """Swagger UI, started from a script file (no inline script). Swagger UI sets inline styles on the
    elements it builds, so its page alone allows inline styles; scripts stay 'self' only."""

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        policy = settings.RCM_CONTENT_SECURITY_POLICY
        if policy:
            response["Content-Security-Policy"] = policy.replace(
                "style-src 'self'", "style-src 'self' 'unsafe-inline'"
            )
        return response
