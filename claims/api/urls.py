"""The Claims app's API routes: one router for claims, batches, X12 files, work queues and remittances."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from claims.api.claims import ClaimViewSet
from claims.api.submission import BatchViewSet, QueueViewSet, X12FileViewSet
from claims.remittances.api import RemittanceExceptionViewSet, RemittanceViewSet
from claims.underpayments.api import DriftFindingsView, LineVarianceViewSet, UnderpaymentViewSet

router = SimpleRouter()
router.register("claims", ClaimViewSet, basename="claim")
router.register("batches", BatchViewSet, basename="batch")
router.register("x12-files", X12FileViewSet, basename="x12-file")
router.register("queues", QueueViewSet, basename="queue")
router.register("remittances", RemittanceViewSet, basename="remittance")
router.register("remittance-exceptions", RemittanceExceptionViewSet, basename="remittance-exception")
router.register("underpayments", UnderpaymentViewSet, basename="underpayment")
router.register("line-variances", LineVarianceViewSet, basename="line-variance")

urlpatterns = [
    path("underpayment-drift/", DriftFindingsView.as_view(), name="underpayment-drift"),
    *router.urls,
]
