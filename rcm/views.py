import csv

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from rcm.audit import audit_change_rows, audit_object_label, audit_record
from rcm.exports import csv_cell
from rcm.health import health_report
from rcm.middleware import SESSION_PRACTICE_KEY
from rcm.models import AuditAction, AuditEvent
from rcm.permissions import role_required
from rcm.selectors import audit_events_filtered
from rcm.services import api_token_issue
from rcm.tenancy import scoped

AUDIT_PAGE_SIZE = 100


@require_GET
def favicon(request):
    """Browsers ask for /favicon.ico where a page names no icon (the API, a downloaded file): the SVG."""
    return redirect(static("img/favicon.svg"), permanent=True)


@require_GET
@never_cache
def healthz(request):
    healthy, report = health_report()
    return JsonResponse(report, status=200 if healthy else 503)


@login_required
@require_POST
def practice_switch(request):
    slug = request.POST.get("practice", "")
    membership = next((m for m in request.memberships if m.practice.slug == slug), None)
    if membership is None:
        messages.error(request, "You are not a member of that practice.")
        return redirect("home")
    request.session[SESSION_PRACTICE_KEY] = membership.practice_id
    messages.success(request, f"Now working in {membership.practice.name}.")
    return redirect("home")


@login_required
def account(request):
    token = None
    if request.method == "POST":
        token = api_token_issue(user=request.user)
        messages.success(request, "A new API token was issued. Copy it now: it is shown only once.")
    return render(request, "rcm/account.html", {"new_token": token.key if token else None})


AUDIT_EXPORT_HEADER = ["When", "User", "Action", "Object", "Object id", "Changes", "IP address", "Source"]


def _audit_rows_for_export(events):
    for event in events.iterator(chunk_size=2000):
        changes = "; ".join(
            f"{row.label}: {row.old} → {row.new}" if row.is_change else f"{row.label}: {row.new}"
            for row in audit_change_rows(event)
        )
        yield [
            timezone.localtime(event.at).strftime("%Y-%m-%d %H:%M:%S"),
            event.username,
            event.get_action_display(),
            audit_object_label(event.object_type),
            event.object_id,
            changes,
            event.ip_address or "",
            event.source,
        ]


@role_required("audit.view")
@never_cache
def audit_log(request):
    """The practice's audit trail, a page at a time; ``format=csv`` exports the filtered events (a date
    range for a compliance review), and the export is itself an audit event naming the filters."""
    events = audit_events_filtered(scoped(AuditEvent, request.practice), request.GET)
    if request.GET.get("format") == "csv":
        audit_record(
            action=AuditAction.EXPORT,
            practice=request.practice,
            object_type="rcm.auditevent",
            changes={
                key: request.GET[key]
                for key in ("date_from", "date_to", "user", "action", "object_type", "object_id")
                if request.GET.get(key)
            },
        )
        response = HttpResponse(content_type="text/csv")
        response["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
        response["Cache-Control"] = "no-store"
        writer = csv.writer(response)
        writer.writerow(AUDIT_EXPORT_HEADER)
        for row in _audit_rows_for_export(events):
            writer.writerow([csv_cell(value) for value in row])
        return response
    page = Paginator(events, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [
        {
            "event": event,
            "object_label": audit_object_label(event.object_type),
            "changes": audit_change_rows(event),
        }
        for event in page.object_list
    ]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "rcm/audit_log.html",
        {
            "page": page,
            "rows": rows,
            "filters": request.GET,
            "querystring": query.urlencode(),
            "actions": AuditAction.choices,
        },
    )
