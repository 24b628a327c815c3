from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView

from claims.views import home, patients
from rcm import views
from rcm.api.views import ApiDocsView

urlpatterns = [
    path("", home.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    # Browsers ask for /favicon.ico on pages without the <link rel="icon"> (the API, files): no 404 noise.
    path("favicon.ico", views.favicon, name="favicon"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("login/verify/", views.two_factor_verify, name="two_factor_verify"),
    path("account/two-factor/", views.two_factor_enrol, name="two_factor_enrol"),
    path("practice/switch/", views.practice_switch, name="practice_switch"),
    path("account/", views.account, name="account"),
    path("audit/", views.audit_log, name="audit_log"),
    path("settings/team/", views.team, name="team"),
    path("patients/", patients.patients, name="patients"),
    path("patients/export/", patients.patients_export, name="patients_export"),
    path("patients/<int:pk>/", patients.patient_detail, name="patient_detail"),
    path("patients/<int:patient_id>/account/", include("payment_plans.account_urls")),
    path("collections/", include("payment_plans.collections_urls")),
    path("claims/", include("claims.urls")),
    path("remittances/", include("claims.remittances.urls")),
    path("underpayments/", include("claims.underpayments.urls")),
    path("denials/", include("denials.urls")),
    path("payment-plans/", include("payment_plans.urls")),
    path("sms/", include("payment_plans.sms_urls")),
    path("kpis/", include("kpis.urls")),
    path("payers/", include("rcm.contracts.urls")),
    path("api/", include("rcm.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file (no inline script: our CSP refuses those).
    path("api/docs/", ApiDocsView.as_view(url_name="api-schema"), name="api-docs"),
    # ReDoc's page needs an inline script and web fonts from a CDN: its address leads to the docs above.
    path("api/redoc/", RedirectView.as_view(pattern_name="api-docs"), name="api-redoc"),
    path("admin/", admin.site.urls),
]

# Under /api/ an unknown path answers JSON in the API's error format; pages keep the HTML 404.
handler404 = "rcm.api.errors.not_found"
