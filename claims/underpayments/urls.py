"""URLs of the underpayment pages."""

from django.urls import path

from claims.underpayments import views

app_name = "underpayments"
urlpatterns = [
    path("", views.underpayments, name="list"),
    path("drift/", views.drift, name="drift"),
    path("<int:pk>/", views.underpayment_page, name="detail"),
    path("<int:pk>/letter.pdf", views.underpayment_letter, name="letter"),
    path("<int:pk>/<slug:action>/", views.underpayment_action, name="action"),
]
