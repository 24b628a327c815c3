"""The API root: the core's own routes, then each app's router (each app owns its routes)."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from rcm.api import reference, views

router = DefaultRouter()
router.register("audit-events", views.AuditEventViewSet, basename="audit-event")
router.register("patients", reference.PatientViewSet, basename="patient")
router.register("coverages", reference.CoverageViewSet, basename="coverage")
router.register("providers", reference.ProviderViewSet, basename="provider")

urlpatterns = [
    path("me/", views.MeView.as_view(), name="api-me"),
    *router.urls,
    path("", include("rcm.contracts.api")),
    path("", include("claims.api.urls")),
    path("", include("kpis.api_urls")),
    path("", include("denials.analytics.api_urls")),  # before the denials router: "analytics" is no denial id
    path("", include("denials.api_urls")),
    path("", include("payment_plans.api_urls")),
    path("", include("payment_plans.plans.api_urls")),
]
