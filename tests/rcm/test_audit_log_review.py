"""The audit log as a reviewer reads it (issue 16 item 4): no file contents in its rows, plain values shown
as themselves and changes as old → new, readable labels and dates, a paged list with a fixed number of
queries, the PHI list reads recorded, the client's address taken from trusted proxies only, and a CSV export
of a date range that is itself recorded."""

import csv
import datetime
import hashlib
import io
import re

import pytest
from django.test import RequestFactory, override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from claims.models import X12File
from rcm.audit import audit_context
from rcm.middleware import client_ip
from rcm.models import AuditEvent
from tests.conftest import login
from tests.rcm.factories import PatientFactory

CONTENT = "ISA*00*          *00*          *ZZ*SUBMITTER      *ZZ*RECEIVER       *~NM1*QC*1*DOE*JANE~" * 50


def _text(response) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


def test_an_x12_file_is_logged_by_hash_and_size_never_its_content(practice, biller):
    with audit_context(user=biller, source="web"):
        x12_file = X12File.objects.create(
            practice=practice, file_name="era.835", content=CONTENT, sha256="x", status="refused"
        )
    event = AuditEvent.objects.get(object_type="claims.x12file", object_id=str(x12_file.pk))
    digest = hashlib.sha256(CONTENT.encode()).hexdigest()
    assert event.changes["content"] == [None, f"sha256:{digest}, {len(CONTENT)} bytes"]
    assert "DOE*JANE" not in str(event.changes)


def test_an_unchanged_file_content_writes_no_content_change(practice, biller):
    x12_file = X12File.objects.create(
        practice=practice, file_name="era.835", content=CONTENT, sha256="x", status="refused"
    )
    loaded = X12File.objects.get(pk=x12_file.pk)
    loaded.error = "Not an X12 file."
    loaded.save()
    update = AuditEvent.objects.filter(object_type="claims.x12file", action="update").get()
    assert update.changes == {"error": ["", "Not an X12 file."]}


def test_export_events_show_plain_values_and_updates_show_old_and_new(manager, practice):
    AuditEvent.objects.create(
        practice=practice,
        username="bill",
        action="export",
        object_type="claims.submissionbatch",
        object_id="4",
        changes={"file_name": "riverside-0001.837"},
    )
    AuditEvent.objects.create(
        practice=practice,
        username="bill",
        action="update",
        object_type="claims.claim",
        object_id="7",
        changes={"status": ["draft", "ready"], "service_date": [None, "2026-03-02"]},
    )
    html = _text(login(manager).get("/audit/"))
    assert '<span class="chg"><b>File name</b> riverside-0001.837</span>' in html
    assert "r →" not in html
    assert '<span class="chg"><b>Status</b> draft → ready</span>' in html
    assert '<span class="chg"><b>Service date</b> 2026-03-02</span>' in html
    assert "Submission batch #4" in html and "Claim #7" in html


@pytest.mark.parametrize("count", [3, 130])
def test_the_audit_page_takes_a_fixed_number_of_queries(manager, practice, count, django_assert_num_queries):
    AuditEvent.objects.bulk_create(
        [
            AuditEvent(practice=practice, action="view", object_type="rcm.patient", object_id=str(n))
            for n in range(count)
        ]
    )
    client = login(manager)
    # session, user, memberships + page count, page rows
    with django_assert_num_queries(5):
        response = client.get("/audit/")
    in_practice = AuditEvent.objects.filter(practice=practice).count()  # + the fixtures' own create events
    assert len(response.context["rows"]) == min(in_practice, 100)
    assert in_practice >= count


def test_the_patient_list_page_records_which_patients_were_shown(manager, practice):
    shown = [PatientFactory(practice=practice, last_name=f"Ames{n}") for n in range(3)]
    login(manager).get("/patients/")
    event = AuditEvent.objects.get(action="view", object_type="rcm.patient", user=manager)
    assert event.changes == {"page": 1, "searched": False, "ids": [p.pk for p in shown]}
    assert event.practice_id == practice.pk


def test_a_patient_search_is_recorded_without_the_search_term(manager, practice):
    match = PatientFactory(practice=practice, last_name="Zephyr")
    PatientFactory(practice=practice, last_name="Ames")
    login(manager).post("/patients/", {"q": "Zephyr"})
    event = AuditEvent.objects.get(action="view", object_type="rcm.patient", user=manager)
    assert event.changes == {"page": 1, "searched": True, "ids": [match.pk]}
    assert "Zephyr" not in str(event.changes)


def test_the_patient_api_list_and_search_are_recorded(manager, practice):
    patient = PatientFactory(practice=practice, last_name="Quill")
    client = APIClient()
    client.force_authenticate(manager)
    assert client.get("/api/patients/").status_code == 200
    assert client.post("/api/patients/search/", {"last_name": "Qu"}, format="json").status_code == 200
    events = list(AuditEvent.objects.filter(action="view", object_type="rcm.patient").order_by("id"))
    assert [(e.changes, e.source, e.username) for e in events] == [
        ({"ids": [patient.pk]}, "api", "mona"),
        ({"searched": True, "ids": [patient.pk]}, "api", "mona"),
    ]


def _request(remote, forwarded=None):
    meta = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **meta)


def test_with_no_trusted_proxy_a_forwarded_header_is_ignored():
    assert client_ip(_request("203.0.113.9", "1.2.3.4")) == "203.0.113.9"


@override_settings(RCM_TRUSTED_PROXIES=1)
def test_behind_one_proxy_the_address_it_appended_is_the_client():
    # The client wrote 1.2.3.4 itself; the proxy appended the address it really saw.
    assert client_ip(_request("10.0.0.2", "1.2.3.4, 198.51.100.7")) == "198.51.100.7"
    assert client_ip(_request("10.0.0.2", "")) == "10.0.0.2"
    assert client_ip(_request("10.0.0.2", "not-an-ip")) == "10.0.0.2"


@override_settings(RCM_TRUSTED_PROXIES=2)
def test_behind_two_proxies_the_second_entry_from_the_right_is_the_client():
    assert client_ip(_request("10.0.0.2", "1.2.3.4, 198.51.100.7, 10.0.0.1")) == "198.51.100.7"
    assert client_ip(_request("10.0.0.2", "10.0.0.1")) == "10.0.0.2"


@override_settings(RCM_TRUSTED_PROXIES=1)
def test_the_audit_row_of_a_page_view_has_the_proxied_client_address(manager, practice):
    login(manager).get("/patients/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR="6.6.6.6, 198.51.100.7")
    assert AuditEvent.objects.get(action="view", object_type="rcm.patient").ip_address == "198.51.100.7"


def test_the_audit_export_covers_a_date_range_and_is_itself_recorded(manager, practice):
    def event_on(day, object_id):
        at = timezone.make_aware(datetime.datetime.combine(day, datetime.time(12, 0)))
        return AuditEvent.objects.create(
            practice=practice,
            at=at,
            username="bill",
            action="export",
            object_type="claims.claim",
            object_id=object_id,
            changes={"format": "=cmd"},
        )

    event_on(datetime.date(2026, 3, 1), "1")
    event_on(datetime.date(2026, 3, 15), "2")
    event_on(datetime.date(2026, 4, 2), "3")
    response = login(manager).get(
        "/audit/", {"format": "csv", "date_from": "2026-03-01", "date_to": "2026-03-31"}
    )
    assert "no-store" in response["Cache-Control"]
    rows = list(csv.reader(io.StringIO(response.content.decode())))
    assert rows == [
        ["When", "User", "Action", "Object", "Object id", "Changes", "IP address", "Source"],
        ["2026-03-15 12:00:00", "bill", "Exported", "Claim", "2", "Format: =cmd", "", "web"],
        ["2026-03-01 12:00:00", "bill", "Exported", "Claim", "1", "Format: =cmd", "", "web"],
    ]
    recorded = AuditEvent.objects.get(action="export", object_type="rcm.auditevent")
    assert recorded.changes == {"date_from": "2026-03-01", "date_to": "2026-03-31"}
    assert recorded.user == manager
