"""The denial analytics API route (included by ``rcm.api.urls``)."""

from django.urls import path

from denials.analytics.api import DenialAnalyticsView

urlpatterns = [path("denials/analytics/", DenialAnalyticsView.as_view(), name="api-denial-analytics")]
