"""URLs of the Denials app; pages are added here as the app's issues land."""

from django.urls import path

from denials.analytics import views as analytics

app_name = "denials"
urlpatterns: list = [
    path("analytics/", analytics.analytics, name="analytics"),
    path("analytics/denials/", analytics.analytics_denials, name="analytics_denials"),
]
