"""Page URLs of payers and contracts (mounted at ``/payers/``)."""

from django.urls import path

from rcm.contracts import views

app_name = "payers"
urlpatterns = [
    path("", views.payers, name="list"),
    path("new/", views.payer_new, name="new"),
    path("<int:pk>/", views.payer_detail, name="detail"),
    path("<int:pk>/edit/", views.payer_edit, name="edit"),
    path("<int:pk>/active/", views.payer_active, name="active"),
    path("<int:pk>/contracts/new/", views.contract_new, name="contract_new"),
    path("contracts/<int:pk>/", views.contract_detail, name="contract"),
    path("contracts/<int:pk>/edit/", views.contract_edit, name="contract_edit"),
    path("contracts/<int:pk>/rate-year/", views.contract_rate_year, name="contract_rate_year"),
    path("contracts/<int:pk>/fee-schedule/", views.fee_schedule_upload, name="fee_schedule_upload"),
    path(
        "contracts/<int:pk>/fee-schedule/<int:import_pk>/confirm/",
        views.fee_schedule_confirm,
        name="fee_schedule_confirm",
    ),
    path(
        "contracts/<int:pk>/fee-schedule.<str:kind>",
        views.fee_schedule_export,
        name="fee_schedule_export",
    ),
]
