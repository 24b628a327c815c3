"""Remittance pages: the ERA (835) payments received (filters, sorting, CSV export), one remittance with
every claim payment in plain words and the deposit reconciliation, and the exceptions a biller resolves
(match an unmatched payment to a claim, post as sent, or dismiss with a reason)."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from claims.ledger import money
from claims.models import Claim, ExceptionKind, Remittance, RemittanceException, RemittanceStatus
from claims.remittances.posting import exception_resolve, exceptions_dismiss
from claims.remittances.selectors import (
    EXCEPTION_VIEWS,
    REMITTANCE_SORTS,
    exception_suggestions,
    payment_method_words,
    remittance_details,
    remittance_exception_counts,
    remittance_exception_list,
    remittance_explain,
    remittance_list,
    remittance_status_counts,
    remittances_with_exceptions,
)
from claims.selectors import claim_by_number
from rcm.audit import audit_record, audit_view
from rcm.exports import csv_writer
from rcm.formats import count_text, money_text
from rcm.models import AuditAction, Payer
from rcm.permissions import role_required
from rcm.roles import role_can
from rcm.tenancy import get_scoped_or_404, scoped

PAGE_SIZE = 50
STATUS_CHIPS = [
    ("", "All", "all"),
    (RemittanceStatus.EXCEPTIONS.value, "With open exceptions", RemittanceStatus.EXCEPTIONS.value),
    (RemittanceStatus.POSTED.value, "Fully posted", RemittanceStatus.POSTED.value),
]
# Which exceptions each action applies to (exception_resolve refuses the others with a reason anyway).
MATCHABLE = frozenset({ExceptionKind.UNMATCHED.value})
POSTABLE_AS_SENT = frozenset({ExceptionKind.UNBALANCED.value, ExceptionKind.DUPLICATE.value})

EXPORT_HEADER = [
    "Payer",
    "Payer ID",
    "Check/EFT number",
    "Payment method",
    "Payment date",
    "Payment (BPR02)",
    "Posted payments",
    "Provider adjustments (PLB)",
    "Interest",
    "Claims",
    "Open exceptions",
    "Exceptions raised",
    "Status",
    "Received",
]


# --- list --------------------------------------------------------------------------------------


def _filters(params) -> dict:
    """The list's filters from the query string; unknown values are ignored, never an error."""
    status = params.get("status", "")
    payer = params.get("payer", "")
    sort = params.get("sort", "")
    return {
        "status": status if status in RemittanceStatus.values else "",
        "payer_id": int(payer) if payer.isdigit() else None,
        "sort": sort if sort in REMITTANCE_SORTS else "",
    }


def _export(remittances) -> HttpResponse:
    response = HttpResponse(content_type="text/csv")
    response["Content-Disposition"] = 'attachment; filename="remittances.csv"'
    response["Cache-Control"] = "no-store"
    writer = csv_writer(response)
    writer.writerow(EXPORT_HEADER)
    for r in remittances.iterator(chunk_size=2000):
        writer.writerow(
            [
                r.payer.name if r.payer else r.payer_name,
                r.payer_identifier,
                r.trace_number,
                payment_method_words(r.payment_method),
                r.payment_date.isoformat() if r.payment_date else "",
                r.payment_amount,
                r.posted_payments,
                r.provider_adjustment_total,
                money(r.interest_total),  # SQLite gives an expression unquantized
                r.claim_count,
                r.open_exception_count,
                r.exception_count,
                RemittanceStatus(r.current_status).label,
                r.received_at.isoformat(),
            ]
        )
    return response


@role_required("claims.view")
@never_cache
@require_GET
def remittances(request):
    practice = request.practice
    filters = _filters(request.GET)
    rows = remittance_list(
        practice, payer_id=filters["payer_id"], status=filters["status"], sort=filters["sort"] or "-date"
    )
    if request.GET.get("format") == "csv":
        audit_record(
            action=AuditAction.EXPORT,
            practice=practice,
            object_type="claims.remittance",
            changes={key: value for key, value in filters.items() if value},
        )
        return _export(rows)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    for remittance in page.object_list:
        remittance.method_words = payment_method_words(remittance.payment_method)
    query = request.GET.copy()
    query.pop("page", None)
    query.pop("format", None)
    counts = remittance_status_counts(practice, payer_id=filters["payer_id"])
    current_sort = filters["sort"] or "-date"
    return render(
        request,
        "claims/remittance_list.html",
        {
            "page": page,
            "filters": filters,
            "querystring": query.urlencode(),
            "chips": [
                {"value": value, "label": label, "count": counts[key]} for value, label, key in STATUS_CHIPS
            ],
            "payers": scoped(Payer, practice).only("id", "name").order_by("name"),
            "date_sort": {
                "next": "date" if current_sort == "-date" else "-date",
                "arrow": " ▼" if current_sort == "-date" else " ▲",
            },
            "can_import": role_can(request.role, "claims.edit"),
        },
    )


# --- detail ------------------------------------------------------------------------------------


@role_required("claims.view")
@never_cache
@require_GET
def remittance_detail(request, pk: int):
    remittance = get_scoped_or_404(remittance_details(request.practice), request.practice, pk=pk)
    audit_view(request, remittance)  # the page names the patients paid for
    remittance_explain(remittance)
    return render(
        request,
        "claims/remittance_detail.html",
        {
            "remittance": remittance,
            "payments": remittance.claim_payments.all(),
            "reconciliation": remittance.reconciliation,
            "provider_adjustments": remittance.provider_adjustments.all(),
            "exceptions": remittance.exceptions.all(),
            "can_resolve": role_can(request.role, "claims.edit"),
        },
    )


# --- exceptions --------------------------------------------------------------------------------


def _exception_filters(params) -> dict:
    view = params.get("view", "")
    remittance = params.get("remittance", "")
    kind = params.get("kind", "")
    page = params.get("page", "")
    return {
        "view": view if view in EXCEPTION_VIEWS else "open",
        "remittance_id": int(remittance) if remittance.isdigit() else None,
        "kind": kind if kind in ExceptionKind.values else "",
        "page": int(page) if page.isdigit() else None,
    }


def _exceptions_query(filters: dict, *, page: bool = False) -> QueryDict:
    """The exceptions page's filters as a query string (the tab, the remittance, and the page if asked)."""
    query = QueryDict(mutable=True)
    if filters["view"] != "open":
        query["view"] = filters["view"]
    if filters["remittance_id"]:
        query["remittance"] = str(filters["remittance_id"])
    if filters["kind"]:
        query["kind"] = filters["kind"]
    if page and filters["page"] and filters["page"] > 1:
        query["page"] = str(filters["page"])
    return query


def _render_exceptions(request, filters: dict, *, match: dict | None = None, failure: dict | None = None):
    """The exceptions page; ``match`` is the claim found for "Match to claim", ``failure`` the refused
    action (which exception, which action, the message and what was typed) shown beside that action."""
    practice = request.practice
    remittance = None
    if filters["remittance_id"]:
        remittance = get_scoped_or_404(
            Remittance.objects.select_related("payer").only(
                "id", "payer_name", "trace_number", "payment_date", "payer__name"
            ),
            practice,
            pk=filters["remittance_id"],
        )
    rows = remittance_exception_list(
        practice, view=filters["view"], remittance_id=filters["remittance_id"], kind=filters["kind"]
    )
    page = Paginator(rows, PAGE_SIZE).get_page(filters["page"])
    counts = remittance_exception_counts(
        practice, remittance_id=filters["remittance_id"], kind=filters["kind"]
    )
    can_resolve = role_can(request.role, "claims.edit")
    suggestions = exception_suggestions(practice, page.object_list) if can_resolve else {}
    for row in page.object_list:
        row.suggestions = suggestions.get(row.pk, [])
    if failure and all(row.pk != failure["exception_id"] for row in page.object_list):
        messages.error(request, failure["message"])  # its row is not on this page (resolved meanwhile)
    return render(
        request,
        "claims/remittance_exceptions.html",
        {
            "page": page,
            "filters": filters,
            "remittance": remittance,
            "counts": counts,
            "querystring": _exceptions_query(filters).urlencode(),
            "can_resolve": can_resolve,
            "kinds": ExceptionKind.choices,
            "remittances": remittances_with_exceptions(practice),
            "matchable": MATCHABLE,
            "postable_as_sent": POSTABLE_AS_SENT,
            "match": match or {},
            "failure": failure or {},
        },
    )


@role_required("claims.view")
@never_cache
@require_GET
def exceptions(request):
    """Open (default) or resolved exceptions. ``?match=<exception>&claim_number=<PCN>`` finds the claim an
    unmatched payment should post to and shows it for the biller to confirm."""
    filters = _exception_filters(request.GET)
    match = None
    exception_id = request.GET.get("match", "")
    if exception_id.isdigit() and role_can(request.role, "claims.edit"):
        number = request.GET.get("claim_number", "").strip()[:38]
        claim = claim_by_number(request.practice, number)
        match = {
            "exception_id": int(exception_id),
            "number": number,
            "claim": claim,
            "error": ""
            if claim is not None
            else (f"No claim {number} in this practice." if number else "Enter our claim number (PCN)."),
        }
    return _render_exceptions(request, filters, match=match)


def _claim_from(request) -> tuple[Claim | None, str]:
    """The claim chosen for "Match to claim": by id (as confirmed on the page) or by claim number;
    else why not."""
    practice = request.practice
    claim_id = request.POST.get("claim", "")
    number = request.POST.get("claim_number", "").strip()[:38]
    if claim_id.isdigit():
        claim = scoped(Claim, practice).filter(pk=int(claim_id)).first()
        return (claim, "") if claim is not None else (None, "That claim is not in this practice.")
    if number:
        claim = claim_by_number(practice, number)
        return (claim, "") if claim is not None else (None, f"No claim {number} in this practice.")
    return None, "Enter our claim number (PCN)."


def _success_message(exception: RemittanceException, action: str, claim: Claim | None) -> str:
    remittance = exception.remittance
    payment = exception.remittance_claim
    source = (
        f"{remittance.payer.name if remittance.payer else remittance.payer_name} {remittance.trace_number}"
    )
    if action == "dismiss":
        return f"Dismissed: {exception.get_kind_display().lower()} in {source}."
    number = claim.patient_control_number if claim is not None else payment.patient_control_number
    return f"Posted {money_text(payment.paid)} from {source} to claim {number}."


@role_required("claims.edit")
@require_POST
def resolve(request, pk: int):
    """Post (against the claim chosen, for an unmatched payment) or dismiss one open exception; when the
    engine refuses, the page comes back with its reason beside the action and nothing changed."""
    practice = request.practice
    exception = get_scoped_or_404(
        RemittanceException.objects.select_related("remittance__payer", "remittance_claim"), practice, pk=pk
    )
    filters = _exception_filters(request.POST)
    action = request.POST.get("action", "")
    note = request.POST.get("note", "")
    claim = None
    failure = {
        "exception_id": exception.pk,
        "action": action,
        "note": note,
        "number": request.POST.get("claim_number", ""),
    }
    if action == "match":
        claim, error = _claim_from(request)
        if claim is None:
            return _render_exceptions(request, filters, failure={**failure, "message": error})
    try:
        exception_resolve(
            exception=exception,
            action="post" if action == "match" else action,
            user=request.user,
            note=note,
            claim=claim,
        )
    except ValidationError as exc:
        if claim is not None:
            failure["number"] = claim.patient_control_number
        return _render_exceptions(request, filters, failure={**failure, "message": " ".join(exc.messages)})
    messages.success(request, _success_message(exception, action, claim))
    query = _exceptions_query(filters, page=True)
    return redirect(f"{reverse('remittances:exceptions')}{'?' if query else ''}{query.urlencode()}")


@role_required("claims.edit")
@require_POST
def dismiss_many(request):
    """Dismiss the open exceptions ticked on the page with one reason, all or none: when refused, the page
    comes back with the reason and nothing changed."""
    filters = _exception_filters(request.POST)
    ids = [value for value in request.POST.getlist("exception") if value.isdigit()]
    note = request.POST.get("note", "")
    try:
        dismissed = exceptions_dismiss(
            practice=request.practice, exception_ids=ids, user=request.user, note=note
        )
    except ValidationError as exc:
        return _render_exceptions(
            request,
            filters,
            failure={
                "exception_id": None,
                "action": "dismiss_many",
                "note": note,
                "chosen": {int(i) for i in ids},
                "message": " ".join(exc.messages),
            },
        )
    count = len(dismissed)
    messages.success(request, f"Dismissed {count_text(count, 'exception')}: {note.strip()}")
    query = _exceptions_query(filters, page=True)
    return redirect(f"{reverse('remittances:exceptions')}{'?' if query else ''}{query.urlencode()}")
