"""Patient pages: the list with its search, the CSV export, and the patient's account.

The search term is PHI (names, dates of birth), so it never goes into a URL: the search form and the
export are POSTs, and the result pages of a search are fetched with POSTs too.
"""

from decimal import Decimal
from urllib.parse import urlencode

from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from claims.selectors import (
    PATIENT_AGE_FILTERS,
    PATIENT_BALANCE_FILTERS,
    PATIENT_SORTS,
    claim_list,
    patient_balance_summary,
    patient_ledger,
    patient_list,
)
from rcm.audit import audit_list_view, audit_record, audit_view
from rcm.exports import csv_writer
from rcm.models import AuditAction, Channel, Coverage, Patient
from rcm.permissions import role_required
from rcm.services import consents_current
from rcm.tenancy import get_scoped_or_404, scoped

CENT = Decimal("0.01")
PAGE_SIZE = 50
LEDGER_LIMIT = 200
SEARCH_MAX_LENGTH = 100

EXPORT_COLUMNS = [
    ("account_number", "Account"),
    ("last_name", "Last name"),
    ("first_name", "First name"),
    ("date_of_birth", "Date of birth"),
    ("sex", "Sex"),
    ("phone", "Phone"),
    ("primary_payer_name", "Primary payer"),
    ("patient_balance_total", "Patient balance"),
    ("insurance_balance_total", "Insurance balance"),
]


def _list_options(request) -> dict:
    """Sort and filters of the patient list (query string, or the search form's body); unknown values
    fall back to the default, never an error."""
    params = request.POST if request.method == "POST" else request.GET
    sort, balance, age = params.get("sort", "name"), params.get("balance", ""), params.get("age", "")
    return {
        "sort": sort if sort in PATIENT_SORTS else "name",
        "balance": balance if balance in PATIENT_BALANCE_FILTERS else "",
        "age": age if age in PATIENT_AGE_FILTERS else "",
    }


def _search_term(request) -> str:
    return " ".join(request.POST.get("q", "").split())[:SEARCH_MAX_LENGTH] if request.method == "POST" else ""


@role_required("patients.view")
@never_cache
@require_http_methods(["GET", "POST"])
def patients(request):
    term = _search_term(request)
    page_number = request.POST.get("page") if request.method == "POST" else request.GET.get("page")
    options = _list_options(request)
    page = Paginator(patient_list(request.practice, search=term, **options), PAGE_SIZE).get_page(page_number)
    audit_list_view(
        request,
        object_type="rcm.patient",
        ids=[patient.pk for patient in page.object_list],
        page=page.number,
        searched=bool(term),
    )
    querystring = urlencode({k: v for k, v in options.items() if v and not (k == "sort" and v == "name")})
    return render(
        request,
        "rcm/patients.html",
        {
            "page": page,
            "q": term,
            "searched": bool(term),
            "options": options,
            "sorts": PATIENT_SORTS,
            "balance_filters": PATIENT_BALANCE_FILTERS,
            "age_filters": PATIENT_AGE_FILTERS,
            "querystring": querystring,
        },
    )


@role_required("patients.view")
@require_POST
def patients_export(request):
    term = _search_term(request)
    rows = patient_list(request.practice, search=term)
    audit_record(
        action=AuditAction.EXPORT,
        practice=request.practice,
        object_type="rcm.patient",
        changes={"searched": bool(term)},
    )
    response = HttpResponse(content_type="text/csv")
    response["Content-Disposition"] = 'attachment; filename="patients.csv"'
    response["Cache-Control"] = "no-store"
    writer = csv_writer(response)
    writer.writerow([label for _field, label in EXPORT_COLUMNS])
    for patient in rows.iterator(chunk_size=2000):
        writer.writerow([getattr(patient, field) for field, _label in EXPORT_COLUMNS])
    return response


@role_required("patients.view")
@never_cache
def patient_detail(request, pk: int):
    patient = get_scoped_or_404(
        Patient.objects.select_related("practice", "guarantor"), request.practice, pk=pk
    )
    audit_view(request, patient)
    today = timezone.localdate()
    coverages = list(scoped(Coverage, request.practice).filter(patient=patient).select_related("payer"))
    for coverage in coverages:
        coverage.active_today = coverage.is_active_on(today)
    ledger = list(patient_ledger(patient)[: LEDGER_LIMIT + 1])
    return render(
        request,
        "rcm/patient_detail.html",
        {
            "patient": patient,
            "today": today,
            "age": patient.age_on(today),
            "consents": [
                (Channel(channel).label, granted) for channel, granted in consents_current(patient).items()
            ],
            "coverages": coverages,
            "claims": claim_list(request.practice, patient_id=patient.pk),
            "summary": patient_balance_summary(patient),
            "ledger": ledger[:LEDGER_LIMIT],
            "ledger_truncated": len(ledger) > LEDGER_LIMIT,
            "ledger_limit": LEDGER_LIMIT,
        },
    )
