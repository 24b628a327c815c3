"""URLs of the Payment plans app: plans and reminders, under ``/payment-plans/``."""

from django.urls import path

from payment_plans.plans import views
from payment_plans.reminders import views as reminder_views

app_name = "payment_plans"
urlpatterns = [
    path("", views.plans, name="list"),
    path("policy/", views.policy, name="policy"),
    path("reminders/", reminder_views.reminders, name="reminders"),
    path("patients/<int:patient_id>/", views.patient_plans, name="patient"),
    path("patients/<int:patient_id>/new/", views.plan_new, name="new"),
    path("patients/<int:patient_id>/opt-out/", views.patient_opt_out, name="opt_out"),
    path("<int:pk>/", views.plan_view, name="detail"),
    path("<int:pk>/pay/", views.plan_pay, name="pay"),
    path("<int:pk>/modify/", views.plan_modify_view, name="modify"),
    path("<int:pk>/cancel/", views.plan_cancel_view, name="cancel"),
    path("<int:pk>/add-balance/", views.plan_add_balance_view, name="add_balance"),
    path("<int:pk>/agreement.pdf", views.plan_agreement, name="agreement"),
]
