"""URLs of the Claims app."""

from django.urls import path

from claims.views import batches, files, queues
from claims.views import claims as views
from claims.views import entry as views_entry

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
    path("queues/", queues.queues, name="queues"),
    path("queues/assign/", queues.queue_assign, name="queue_assign"),
    path("queues/drafts/", queues.drafts_by_age, name="drafts"),
    path("queues/<slug:slug>/", queues.queues, name="queue"),
    path("queues/<slug:slug>/next/", queues.queue_take_next, name="queue_take_next"),
    # 837P batches
    path("batches/", batches.batches, name="batches"),
    path("batches/submit/", batches.batches_submit, name="batches_submit"),
    path("batches/<int:pk>/", batches.batch_detail, name="batch_detail"),
    path("batches/<int:pk>/download/", batches.batch_download, name="batch_download"),
    path("batches/<int:pk>/send/", batches.batch_send, name="batch_send"),
    path("batches/<int:pk>/sent-by-hand/", batches.batch_sent_by_hand, name="batch_sent_by_hand"),
    # X12 files received
    path("files/", files.files, name="files"),
    path("files/upload/", files.files_upload, name="files_upload"),
    path("files/<int:pk>/", files.file_detail, name="file_detail"),
]
