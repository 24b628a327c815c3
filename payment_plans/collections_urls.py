"""The collections worklist and the statement run, under ``/collections/``."""

from django.urls import path

from payment_plans import collections_views

app_name = "collections"
urlpatterns = [
    path("", collections_views.worklist, name="worklist"),
    path("take-next/", collections_views.take_next, name="take_next"),
    path("agency-export/", collections_views.agency_export, name="agency_export"),
    path("statements/", collections_views.statements, name="statements"),
    path("statements/runs/<int:pk>/", collections_views.statement_run_detail, name="statement_run"),
]
