"""The collections worklist (``/collections/``): who to call and why, take next, follow-ups due,
counts per specialist, the statement run, and the agency hand-off (a CSV, only after the required
notices). Viewing needs ``collections.view``; acting needs ``collections.edit``."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
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
from payment_plans.selectors import (
    collections_settings,
    statement_run_statements,
    statement_runs_with_progress,
)
from payment_plans.statements import statement_run, statement_run_in_progress, statement_run_queue
from rcm.audit import audit_record
from rcm.exports import csv_writer
from rcm.models import AuditAction
from rcm.permissions import role_required
from rcm.roles import role_can
from rcm.tenancy import get_scoped_or_404

WORKLIST_LIMIT = 200
DUE_SHOWN = 200  # rows of the due list and of a run's statements (the counts say how many in all)
RUNS_SHOWN = 10


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
    """The statement run: who is due today (a dry run), the runs so far with their progress, and, on POST
    by an editor, a run started in the background (its page shows it going)."""
    if request.method == "POST":
        if not role_can(request.role, "collections.edit"):
            return HttpResponse("Your role cannot send statements.", status=403)
        try:
            record = statement_run_queue(practice=request.practice, user=request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return redirect("collections:statements")
        return redirect("collections:statement_run", pk=record.pk)
    result = statement_run(practice=request.practice, dry_run=True)
    runs = list(statement_runs_with_progress(request.practice)[:RUNS_SHOWN])
    return render(
        request,
        "payment_plans/statement_run.html",
        {
            "result": result,
            "due_shown": result.selected[:DUE_SHOWN],
            "runs": runs,
            "going": statement_run_in_progress(request.practice),
            "can_edit": role_can(request.role, "collections.edit"),
            "settings": collections_settings(request.practice),
        },
    )


@role_required("collections.view")
@never_cache
@require_GET
def statement_run_detail(request, pk):
    """One run: its progress while its chunks render (the page refreshes itself until it is done), what it
    sent, did not send and failed, and the statements it sent."""
    record = get_scoped_or_404(statement_runs_with_progress(request.practice), request.practice, pk=pk)
    sent = statement_run_statements(record)
    if request.GET.get("format") == "csv":
        return _run_csv(request, record, sent)
    return render(
        request,
        "payment_plans/statement_run_detail.html",
        {
            "record": record,
            "statements": sent[:DUE_SHOWN],
            "done": record.finished_at is not None,
            "percent": round(100 * record.chunks_done / record.chunk_count) if record.chunk_count else 100,
        },
    )


RUN_CSV_HEADER = [
    "Account #",
    "Last name",
    "First name",
    "Address",
    "Address 2",
    "City",
    "State",
    "ZIP",
    "Kind",
    "Statement date",
    "Owes",
    "Credit",
    "Claims",
    "Sent at",
]


def _run_csv(request, record, sent) -> HttpResponse:
    """The statements a run sent with the patients' mailing addresses (for the print and mail vendor);
    the export is written to the audit log."""
    audit_record(
        action=AuditAction.EXPORT,
        practice=request.practice,
        object_type="payment_plans.statementrun",
        object_id=record.pk,
        changes={"statements": record.sent},
    )
    response = HttpResponse(content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="statements-{record.run}.csv"'
    response["Cache-Control"] = "no-store"
    writer = csv_writer(response)
    writer.writerow(RUN_CSV_HEADER)
    for statement in sent.iterator(chunk_size=2000):
        patient = statement.patient
        writer.writerow(
            [
                patient.account_number,
                patient.last_name,
                patient.first_name,
                patient.address_line1,
                patient.address_line2,
                patient.city,
                patient.state,
                patient.postal_code,
                statement.get_kind_display(),
                statement.statement_date.isoformat(),
                statement.balance,
                statement.credit,
                statement.claim_count,
                timezone.localtime(statement.sent_at).strftime("%Y-%m-%d %H:%M"),
            ]
        )
    return response
