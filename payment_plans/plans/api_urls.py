"""The payment plans API routes: ``/api/payment-plans/`` and ``/api/payment-plans/reminders/``."""

from rest_framework.routers import SimpleRouter

from payment_plans.plans.api import PaymentPlanViewSet, ReminderViewSet

router = SimpleRouter()
router.register("payment-plans/reminders", ReminderViewSet, basename="payment-plan-reminder")
router.register("payment-plans", PaymentPlanViewSet, basename="payment-plan")

urlpatterns = router.urls
