"""Underpayment pages: the underpaid claims with their evidence (by status), the overpaid lines (credits to
resolve), one underpayment with its lines, history and actions (appeal with a letter, accept with a reason,
mark recovered), and the drift findings."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from claims.models import UnderpaymentStatus
from claims.underpayments.letters import letter_filename, underpayment_letter_pdf
from claims.underpayments.selectors import (
    STATUS_VIEWS,
    drift_findings,
    overpaid_lines,
    underpayment_detail,
    underpayment_list,
    underpayment_status_counts,
    unknown_expected_count,
    with_evidence,
)
from claims.underpayments.services import (
    TRANSITIONS,
    underpayment_accept,
    underpayment_appeal,
    underpayment_mark_recovered,
)
from rcm.audit import audit_view
from rcm.permissions import role_required
from rcm.roles import role_can

PAGE_SIZE = 25
OVERPAID = "overpaid"


def _tabs(practice, current: str) -> list[dict]:
    counts = underpayment_status_counts(practice)
    tabs = [
        {"value": value, "label": label, "count": counts.get(value, 0), "active": current == value}
        for value, label in STATUS_VIEWS
    ]
    overpaid = overpaid_lines(practice).count()
    tabs.append(
        {"value": OVERPAID, "label": "Overpaid lines", "count": overpaid, "active": current == OVERPAID}
    )
    return tabs


@role_required("underpayments.view")
@never_cache
@require_GET
def underpayments(request):
    practice = request.practice
    view = request.GET.get("status", UnderpaymentStatus.OPEN)
    if view not in UnderpaymentStatus.values and view != OVERPAID:
        view = UnderpaymentStatus.OPEN
    rows = overpaid_lines(practice) if view == OVERPAID else underpayment_list(practice, status=view)
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    if view != OVERPAID:
        page.object_list = with_evidence(page.object_list)
    return render(
        request,
        "claims/underpayments.html",
        {
            "page": page,
            "view": view,
            "overpaid_view": view == OVERPAID,
            "tabs": _tabs(practice, view),
            "unknown_count": unknown_expected_count(practice),
            "findings_count": len(drift_findings(practice)),
        },
    )


@role_required("underpayments.view")
@never_cache
@require_GET
def underpayment_page(request, pk: int):
    underpayment = underpayment_detail(request.practice, pk)
    audit_view(request, underpayment.claim)  # the page names the patient
    allowed = TRANSITIONS[underpayment.status]
    can_edit = role_can(request.role, "underpayments.edit")
    return render(
        request,
        "claims/underpayment_detail.html",
        {
            "underpayment": underpayment,
            "can_appeal": can_edit and UnderpaymentStatus.APPEALED in allowed,
            "can_accept": can_edit and UnderpaymentStatus.ACCEPTED in allowed,
            "can_recover": can_edit and UnderpaymentStatus.RECOVERED in allowed,
            "error": request.session.pop("underpayment_error", None),
        },
    )


ACTIONS = {
    "appeal": lambda u, user, text: underpayment_appeal(underpayment=u, user=user, note=text),
    "accept": lambda u, user, text: underpayment_accept(underpayment=u, user=user, reason=text),
    "recover": lambda u, user, text: underpayment_mark_recovered(underpayment=u, user=user, note=text),
}
DONE = {
    "appeal": "Appealed: the letter is ready to download.",
    "accept": "Accepted: the claim left the underpaid queue.",
    "recover": "Marked recovered.",
}


@role_required("underpayments.edit")
@require_POST
def underpayment_action(request, pk: int, action: str):
    underpayment = underpayment_detail(request.practice, pk)
    if action not in ACTIONS:
        return redirect("underpayments:detail", pk=underpayment.pk)
    try:
        ACTIONS[action](underpayment, request.user, request.POST.get("reason", ""))
    except ValidationError as error:
        request.session["underpayment_error"] = {"action": action, "message": " ".join(error.messages)}
    else:
        messages.success(request, DONE[action])
    return redirect("underpayments:detail", pk=underpayment.pk)


@role_required("underpayments.view")
@never_cache
@require_GET
def underpayment_letter(request, pk: int):
    underpayment = underpayment_detail(request.practice, pk)
    audit_view(request, underpayment.claim)
    response = HttpResponse(underpayment_letter_pdf(underpayment), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{letter_filename(underpayment)}"'
    response["Cache-Control"] = "no-store"
    return response


@role_required("underpayments.view")
@never_cache
@require_GET
def drift(request):
    return render(request, "claims/underpayment_drift.html", {"findings": drift_findings(request.practice)})
