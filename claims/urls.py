"""URLs of the Claims app."""

from django.urls import path

from claims.views import claims as views
from claims.views import entry as views_entry
from claims.views import work as views_work

app_name = "claims"
urlpatterns = [
    path("", views.claim_list_page, name="list"),
    path("new/", views_entry.claim_new, name="new"),
    path("<int:pk>/", views.claim_detail, name="detail"),
    path("<int:pk>/edit/", views_entry.claim_edit, name="edit"),
    path("<int:pk>/scrub/", views_entry.claim_scrub_now, name="scrub"),
    path("<int:pk>/assign/", views_entry.claim_assign, name="assign"),
    path("<int:pk>/bill-secondary/", views_entry.claim_bill_secondary_now, name="bill_secondary"),
    # htmx helpers of charge entry
    path("entry/patients/", views_entry.entry_patient_search, name="entry_patients"),
    path("entry/patients/<int:pk>/", views_entry.entry_patient_pick, name="entry_patient_pick"),
    path("entry/icd10/", views_entry.entry_icd_search, name="entry_icd"),
    path("entry/charge/", views_entry.entry_charge, name="entry_charge"),
    # work queues
    path("queues/", views_work.queues, name="queues"),
    path("queues/assign/", views_work.queue_assign, name="queue_assign"),
    path("queues/<slug:slug>/", views_work.queues, name="queue"),
    # 837P batches
    path("batches/", views_work.batches, name="batches"),
    path("batches/submit/", views_work.batches_submit, name="batches_submit"),
    path("batches/<int:pk>/", views_work.batch_detail, name="batch_detail"),
    path("batches/<int:pk>/download/", views_work.batch_download, name="batch_download"),
    path("batches/<int:pk>/send/", views_work.batch_send, name="batch_send"),
    # X12 files received
    path("files/", views_work.files, name="files"),
    path("files/upload/", views_work.files_upload, name="files_upload"),
    path("files/<int:pk>/", views_work.file_detail, name="file_detail"),
]
