"""URLs of the Denials app: the work queue, a denial's page and its actions, appeal letters, the claim-level
actions (corrected claim, void, write-off) and the manager's root-cause rules."""

from django.urls import path

from denials import views
from denials.analytics import views as analytics

app_name = "denials"
urlpatterns = [
    path("", views.queue, name="queue"),
    path("take-next/", views.take_next, name="take_next"),
    path("assign/", views.assign, name="assign"),
    path("rules/", views.rules, name="rules"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/take/", views.take, name="take"),
    path("<int:pk>/review/", views.review, name="review"),
    path("<int:pk>/note/", views.note, name="note"),
    path("<int:pk>/letters/new/", views.letter_new, name="letter_new"),
    path("letters/<int:pk>/", views.letter, name="letter"),
    path("letters/<int:pk>/pdf/", views.letter_pdf, name="letter_pdf"),
    path("claims/<int:pk>/correct/", views.claim_correct, name="claim_correct"),
    path("claims/<int:pk>/void/", views.claim_void, name="claim_void"),
    path("claims/<int:pk>/write-off/", views.claim_write_off, name="claim_write_off"),
    path("analytics/", analytics.analytics, name="analytics"),
    path("analytics/denials/", analytics.analytics_denials, name="analytics_denials"),
]
