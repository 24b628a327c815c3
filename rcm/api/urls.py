"""The API root: every app registers its viewsets on this one router."""

from django.urls import path
from rest_framework.routers import DefaultRouter

from rcm.api import views

router = DefaultRouter()
router.register("audit-events", views.AuditEventViewSet, basename="audit-event")

urlpatterns = [
    path("me/", views.MeView.as_view(), name="api-me"),
    *router.urls,
]
