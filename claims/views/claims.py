"""Claim pages: the claim list (filters, sorting, CSV export) and the claim's detail (with its scrub
findings, acknowledgments, batches and assignment)."""

from django.contrib.auth import get_user_model
from django.http import HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache

from claims.expected import claim_lines_expected
from claims.models import Claim, ClaimStatus
from claims.panels import claim_panels
from claims.queues.selectors import queue_assignees
from claims.selectors import (
    AGING_LABELS,
    CLAIM_SORTS,
    claim_acknowledgments,
    claim_batches,
    claim_history,
    claim_ledger,
    claim_list_filtered,
    claim_status_counts,
    claim_status_counts_filtered,
)
from claims.views.entry import is_editable, not_editable_reason
from rcm.audit import audit_record, audit_view
from rcm.exports import csv_writer
from rcm.models import AuditAction, Payer
from rcm.paging import CountedPaginator
from rcm.permissions import role_required
from rcm.roles import role_can
from rcm.tenancy import get_scoped_or_404, scoped
from rcm.validators import icd10_description

PAGE_SIZE = 50

EXPORT_HEADER = [
    "PCN",
    "Payer claim number",
    "Account",
    "Patient",
    "Date of service",
    "Payer",
    "Billing provider",
    "Status",
    "Charges",
    "Insurance balance",
    "Patient balance",
    "Age (days)",
]


def _filters(params) -> dict:
    """The list's filters from the query string; unknown values are ignored, never an error."""
    status = params.get("status", "")
    payer = params.get("payer", "")
    sort = params.get("sort", "")
    aging = params.get("aging", "")
    return {
        "status": status if status in ClaimStatus.values else "",
        "payer_id": int(payer) if payer.isdigit() else None,
        "claim_number": params.get("q", "").strip()[:50],
        "sort": sort if sort in CLAIM_SORTS else "",
        "aging": aging if aging in AGING_LABELS else "",
    }


def _sort_links(current: str) -> dict:
    """For each sortable column: the ``sort`` value its header link sets (largest / oldest first on the
    first click, then the other way) and the arrow showing the current direction."""
    links = {}
    for key in ("dos", "balance", "age"):
        if current == f"-{key}":
            links[key] = {"next": key, "arrow": " ▼"}
        elif current == key:
            links[key] = {"next": f"-{key}", "arrow": " ▲"}
        else:
            links[key] = {"next": f"-{key}", "arrow": ""}
    return links


def _export(claims, today) -> HttpResponse:
    response = HttpResponse(content_type="text/csv")
    response["Content-Disposition"] = 'attachment; filename="claims.csv"'
    response["Cache-Control"] = "no-store"
    writer = csv_writer(response)
    writer.writerow(EXPORT_HEADER)
    for claim in claims.iterator(chunk_size=2000):
        writer.writerow(
            [
                claim.patient_control_number,
                claim.payer_claim_number,
                claim.patient.account_number,
                str(claim.patient),
                claim.service_date.isoformat(),
                claim.payer.name if claim.payer else "Self-pay",
                str(claim.billing_provider),
                claim.get_status_display(),
                claim.charge_total,
                claim.insurance_balance,
                claim.patient_balance,
                (today - claim.service_date).days,
            ]
        )
    return response


@role_required("claims.view")
@never_cache
def claim_list_page(request):
    filters = _filters(request.GET)
    today = timezone.localdate()
    claims = claim_list_filtered(request.practice, today=today, **filters)
    if request.GET.get("format") == "csv":
        audit_record(
            action=AuditAction.EXPORT,
            practice=request.practice,
            object_type="claims.claim",
            changes={key: value for key, value in filters.items() if value},
        )
        return _export(claims, today)
    # The chips count what the other filters in force keep (the practice-wide counts are cached), and
    # so hold the list's length.
    if any(value for key, value in filters.items() if key not in ("status", "sort")):
        status_counts = claim_status_counts_filtered(request.practice, today=today, **filters)
    else:
        status_counts = claim_status_counts(request.practice)
    known = sum(
        row["count"] for row in status_counts if not filters["status"] or row["status"] == filters["status"]
    )
    page = CountedPaginator(claims, PAGE_SIZE, count=known).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("format", None)
    return render(
        request,
        "claims/claim_list.html",
        {
            "page": page,
            "today": today,
            "filters": filters,
            "q": filters["claim_number"],
            "querystring": query.urlencode(),
            "status_counts": status_counts,
            "total_count": sum(row["count"] for row in status_counts),
            "payers": scoped(Payer, request.practice).only("id", "name"),
            "sort_links": _sort_links(filters["sort"] or "-dos"),
            "aging_label": AGING_LABELS.get(filters["aging"], ""),
        },
    )


@role_required("claims.view")
@never_cache
def claim_detail(request, pk: int):
    # Few joins: a ten-table join costs PostgreSQL more to plan than to run. The practice is the
    # request's; the people named on the claim come in one small query.
    claim = get_scoped_or_404(
        Claim.objects.select_related(
            "patient", "coverage", "payer", "billing_provider", "rendering_provider"
        ),
        request.practice,
        pk=pk,
    )
    claim.practice = request.practice
    people = get_user_model().objects.in_bulk({i for i in (claim.created_by_id, claim.assigned_to_id) if i})
    claim.created_by = people.get(claim.created_by_id)
    claim.assigned_to = people.get(claim.assigned_to_id)
    audit_view(request, claim)
    ledger = list(claim_ledger(claim))
    reversed_by = {txn.reverses_id: txn.pk for txn in ledger if txn.reverses_id}
    for txn in ledger:
        txn.reversed_by_id = reversed_by.get(txn.pk)
    editable = is_editable(claim)
    can_assign = role_can(request.role, "claims.queues")
    lines = list(claim.lines.order_by("line_number"))
    expected = claim_lines_expected(claim, lines)
    for line in lines:
        line.expected = expected.get(line.pk)
    return render(
        request,
        "claims/claim_detail.html",
        {
            "claim": claim,
            "today": timezone.localdate(),
            "diagnoses": [
                {"position": i, "code": code, "description": icd10_description(code)}
                for i, code in enumerate(claim.diagnosis_codes, 1)
            ],
            "lines": lines,
            "ledger": ledger,
            "history": list(claim_history(claim)),
            "editable": editable,
            "not_editable_reason": "" if editable else not_editable_reason(claim),
            "can_edit": role_can(request.role, "claims.edit"),
            "findings": sorted(
                claim.scrub_findings, key=lambda f: (f.get("severity") != "error", f.get("line") or 0)
            ),
            "acknowledgments": list(claim_acknowledgments(claim)),
            "batches": list(claim_batches(claim)),
            "can_assign": can_assign,
            "assignees": queue_assignees(request.practice) if can_assign else [],
            "panels": claim_panels(request, claim),
        },
    )
