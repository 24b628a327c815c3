"""The Payment plans app's API routes (patient accounts and the collections worklist)."""

from django.urls import path

from payment_plans import api

urlpatterns = [
    path("patients/<int:patient_id>/account/", api.AccountView.as_view(), name="api-patient-account"),
    path("patients/<int:patient_id>/payments/", api.PaymentsView.as_view(), name="api-patient-payments"),
    path(
        "patients/<int:patient_id>/statements/", api.StatementsView.as_view(), name="api-patient-statements"
    ),
    path(
        "patients/<int:patient_id>/statements/<int:statement_id>/pdf/",
        api.StatementPdfView.as_view(),
        name="api-patient-statement-pdf",
    ),
    path("statement-runs/", api.StatementRunsView.as_view(), name="api-statement-runs"),
    path("statement-runs/<int:run_id>/", api.StatementRunView.as_view(), name="api-statement-run"),
    path("collections/worklist/", api.WorklistView.as_view(), name="api-collections-worklist"),
]
