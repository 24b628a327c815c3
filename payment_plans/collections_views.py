"""The collections worklist (``/collections/``): who to call and why, take next, follow-ups due,
counts per specialist, the statement run, and the agency hand-off (a CSV, only after the required
notices). Viewing needs ``collections.view``; acting needs ``collections.edit``."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from payment_plans.collections import (
    SORTS,
    agency_notices,
    collections_agency_handoff,
    collections_take_next,
    collections_worklist,
    follow_ups_due,
    specialist_counts,
)
from payment_plans.selectors import collections_settings
from payment_plans.statements import statement_run
from rcm.permissions import role_required
from rcm.roles import role_can

WORKLIST_LIMIT = 200


@role_required("collections.view")
@never_cache
@require_GET
def worklist(request):
    sort = request.GET.get("sort", "amount")
    sort = sort if sort in SORTS else "amount"
    items = collections_worklist(request.practice, sort=sort)
    notices = agency_notices(request.practice, [i.patient.pk for i in items[:WORKLIST_LIMIT]])
    for item in items[:WORKLIST_LIMIT]:
        item.notices = notices[item.patient.pk]
    return render(
        request,
        "payment_plans/worklist.html",
        {
            "items": items[:WORKLIST_LIMIT],
            "total": len(items),
            "limit": WORKLIST_LIMIT,
            "sort": sort,
            "sorts": SORTS,
            "counts": specialist_counts(request.practice),
            "follow_ups": list(follow_ups_due(request.practice, request.user)[:50]),
            "can_edit": role_can(request.role, "collections.edit"),
            "settings": collections_settings(request.practice),
        },
    )


@role_required("collections.edit")
@require_POST
def take_next(request):
    patient = collections_take_next(practice=request.practice, user=request.user)
    if patient is None:
        messages.info(request, "Nothing left on the worklist that nobody else is working.")
        return redirect("collections:worklist")
    return redirect("accounts:account", patient_id=patient.pk)


@role_required("collections.edit")
@require_POST
def agency_export(request):
    ids = [int(v) for v in request.POST.getlist("patient") if v.isdigit()]
    try:
        content = collections_agency_handoff(
            practice=request.practice,
            patient_ids=ids,
            user=request.user,
            agency_name=request.POST.get("agency_name", ""),
        )
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
        return redirect("collections:worklist")
    response = HttpResponse(content, content_type="text/csv")
    response["Content-Disposition"] = 'attachment; filename="agency-handoff.csv"'
    response["Cache-Control"] = "no-store"
    return response


@role_required("collections.view")
@never_cache
@require_http_methods(["GET", "POST"])
def statements(request):
    """The statement run: who is due (a dry run) and, on POST by an editor, send them."""
    if request.method == "POST":
        if not role_can(request.role, "collections.edit"):
            return HttpResponse("Your role cannot send statements.", status=403)
        result = statement_run(practice=request.practice, user=request.user)
        messages.success(request, result.summary)
        return redirect("collections:statements")
    result = statement_run(practice=request.practice, dry_run=True)
    return render(
        request,
        "payment_plans/statement_run.html",
        {
            "result": result,
            "can_edit": role_can(request.role, "collections.edit"),
            "settings": collections_settings(request.practice),
        },
    )
