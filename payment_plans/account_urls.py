"""The patient account's pages, under ``/patients/<patient_id>/account/``."""

from django.urls import path

from payment_plans import account_views

app_name = "accounts"
urlpatterns = [
    path("", account_views.account, name="account"),
    path("statements/preview.pdf", account_views.statement_preview, name="statement_preview"),
    path("statements/<int:statement_id>.pdf", account_views.statement_download, name="statement_pdf"),
    path("<slug:action>/", account_views.account_action, name="action"),
]
