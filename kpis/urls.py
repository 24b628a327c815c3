"""URLs of the KPIs app."""

from django.urls import path

from kpis import views

app_name = "kpis"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("recompute/", views.recompute, name="recompute"),
    path("claims/", views.claims, name="claims"),
]
