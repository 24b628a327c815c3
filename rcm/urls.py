from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from claims.views import home, patients
from rcm import views

urlpatterns = [
    path("", home.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    # Browsers ask for /favicon.ico on pages without the <link rel="icon"> (the API, files): no 404 noise.
    path("favicon.ico", views.favicon, name="favicon"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("practice/switch/", views.practice_switch, name="practice_switch"),
    path("account/", views.account, name="account"),
    path("audit/", views.audit_log, name="audit_log"),
    path("patients/", patients.patients, name="patients"),
    path("patients/export/", patients.patients_export, name="patients_export"),
    path("patients/<int:pk>/", patients.patient_detail, name="patient_detail"),
    path("patients/<int:patient_id>/account/", include("payment_plans.account_urls")),
    path("collections/", include("payment_plans.collections_urls")),
    path("claims/", include("claims.urls")),
    path("remittances/", include("claims.remittances.urls")),
    path("denials/", include("denials.urls")),
    path("payment-plans/", include("payment_plans.urls")),
    path("kpis/", include("kpis.urls")),
    path("api/", include("rcm.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    path("admin/", admin.site.urls),
]
