"""The API root: every app registers its viewsets on this one router."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from claims.api import ClaimViewSet
from claims.api_submission import BatchViewSet, QueueViewSet, X12FileViewSet
from rcm.api import reference, views

router = DefaultRouter()
router.register("audit-events", views.AuditEventViewSet, basename="audit-event")
router.register("patients", reference.PatientViewSet, basename="patient")
router.register("coverages", reference.CoverageViewSet, basename="coverage")
router.register("payers", reference.PayerViewSet, basename="payer")
router.register("providers", reference.ProviderViewSet, basename="provider")
router.register("claims", ClaimViewSet, basename="claim")
router.register("batches", BatchViewSet, basename="batch")
router.register("x12-files", X12FileViewSet, basename="x12-file")
router.register("queues", QueueViewSet, basename="queue")

urlpatterns = [
    path("me/", views.MeView.as_view(), name="api-me"),
    *router.urls,
]


# --- Remittances (ERA 835) and their exceptions (claims/api_remittances.py) ------------------------
# A router of their own, added after the main one's URLs were built above.
from rest_framework.routers import SimpleRouter  # noqa: E402

from claims.api_remittances import RemittanceExceptionViewSet, RemittanceViewSet  # noqa: E402

remittance_router = SimpleRouter()
remittance_router.register("remittances", RemittanceViewSet, basename="remittance")
remittance_router.register("remittance-exceptions", RemittanceExceptionViewSet, basename="remittance-exception")
urlpatterns += remittance_router.urls
