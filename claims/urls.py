"""URLs of the Claims app."""

from django.urls import path

from claims import views

app_name = "claims"
urlpatterns = [
    path("", views.claim_list_page, name="list"),
    path("<int:pk>/", views.claim_detail, name="detail"),
]
