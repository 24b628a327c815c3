from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from rcm.audit import audit_record
from rcm.exports import csv_writer
from rcm.health import health_report
from rcm.middleware import SESSION_PRACTICE_KEY
from rcm.models import AuditAction, AuditEvent
from rcm.permissions import role_required
from rcm.selectors import audit_events_filtered
from rcm.services import api_token_issue
from rcm.tenancy import scoped


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


AUDIT_EXPORT_FIELDS = [
    "at",
    "username",
    "action",
    "object_type",
    "object_id",
    "ip_address",
    "source",
    "changes",
]


@role_required("audit.view")
def audit_log(request):
    events = audit_events_filtered(scoped(AuditEvent, request.practice), request.GET)
    if request.GET.get("format") == "csv":
        audit_record(action=AuditAction.EXPORT, practice=request.practice, object_type="rcm.auditevent")
        response = HttpResponse(content_type="text/csv")
        response["Content-Disposition"] = 'attachment; filename="audit-log.csv"'
        writer = csv_writer(response)
        writer.writerow(AUDIT_EXPORT_FIELDS)
        for event in events.iterator(chunk_size=2000):
            writer.writerow([getattr(event, field) for field in AUDIT_EXPORT_FIELDS])
        return response
    page = Paginator(events, 100).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "rcm/audit_log.html",
        {
            "page": page,
            "filters": request.GET,
            "querystring": query.urlencode(),
            "actions": AuditAction.choices,
        },
    )
