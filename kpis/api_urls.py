"""The KPIs app's API routes: its one router."""

from rest_framework.routers import SimpleRouter

from kpis.api import KpiViewSet, PayerScorecardView, RevenueCycleCostViewSet

router = SimpleRouter()
router.register("kpis", KpiViewSet, basename="kpi")
router.register("payer-scorecard", PayerScorecardView, basename="payer-scorecard")
router.register("kpi-costs", RevenueCycleCostViewSet, basename="kpi-cost")

urlpatterns = router.urls
