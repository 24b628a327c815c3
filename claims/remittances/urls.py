"""URLs of the remittance pages (ERA 835 payments received and their exceptions)."""

from django.urls import path

from claims.remittances import views

app_name = "remittances"
urlpatterns = [
    path("", views.remittances, name="list"),
    path("exceptions/", views.exceptions, name="exceptions"),
    path("exceptions/dismiss/", views.dismiss_many, name="dismiss_many"),
    path("exceptions/<int:pk>/resolve/", views.resolve, name="resolve"),
    path("<int:pk>/", views.remittance_detail, name="detail"),
]
