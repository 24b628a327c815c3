"""Work queue pages: the queues with their filters, bulk assignment and CSV export."""

from decimal import Decimal

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from claims.queues.columns import queue_columns
from claims.queues.selectors import (
    DEADLINE_SOON_DAYS,
    QUEUE_BY_SLUG,
    QUEUES,
    SORTS,
    first_scrub_error,
    queue_assignees,
    queue_claims,
    queue_counts,
)
from claims.queues.selectors import drafts_by_age as drafts_by_age_selector
from claims.queues.services import claim_take_next, claims_assign
from claims.views.entry import assignee_from
from rcm.audit import audit_record
from rcm.exports import csv_writer
from rcm.formats import count_text
from rcm.models import AuditAction
from rcm.paging import CountedPaginator
from rcm.permissions import role_required

CENT = Decimal("0.01")
PAGE_SIZE = 50
WHO_FILTERS = {"all": "All", "mine": "Mine", "unassigned": "Unassigned"}
SORT_LABELS = {"priority": "Priority", "balance": "Balance", "age": "Age", "deadline": "Deadline"}

QUEUE_EXPORT_HEADER = [
    "PCN",
    "Account",
    "Patient",
    "Payer",
    "Status",
    "Date of service",
    "Age (days)",
    "Balance",
    "Deadline",
    "Days left",
    "Assigned to",
    "Scrub status",
]


# --- work queues -------------------------------------------------------------------------------


def _queue_params(request) -> dict:
    who = request.GET.get("who", "all")
    sort = request.GET.get("sort", "priority")
    return {"who": who if who in WHO_FILTERS else "all", "sort": sort if sort in SORTS else "priority"}


def _person(user) -> str:
    return (user.get_full_name() or user.get_username()) if user is not None else ""


@role_required("claims.queues")
@never_cache
@require_GET
def queues(request, slug: str | None = None):
    practice = request.practice
    today = timezone.localdate()
    counts = queue_counts(practice, today=today)
    if slug is None:  # the first queue with work in it
        slug = next((q.slug for q in QUEUES if counts[q.slug]), QUEUES[0].slug)
    elif slug not in QUEUE_BY_SLUG:
        raise Http404("No such work queue.")
    params = _queue_params(request)
    claims = queue_claims(
        practice,
        slug,
        sort=params["sort"],
        today=today,
        assigned_to=request.user if params["who"] == "mine" else None,
        unassigned=params["who"] == "unassigned",
    )
    columns = queue_columns(slug)
    if request.GET.get("format") == "csv":
        audit_record(
            action=AuditAction.EXPORT,
            practice=practice,
            object_type="claims.claim",
            changes={"queue": slug, **params},
        )
        return _queue_export(claims, slug, today, columns)
    known = (
        counts[slug] if params["who"] not in ("mine", "unassigned") else None
    )  # the tab's count is the list's
    page = CountedPaginator(claims, PAGE_SIZE, count=known).get_page(request.GET.get("page"))
    for claim in page.object_list:
        claim.days_left = (claim.deadline - today).days if claim.deadline else None
        claim.days_overdue = -claim.days_left if claim.days_left is not None and claim.days_left < 0 else 0
        if slug == "scrub_errors":
            claim.about = first_scrub_error(claim)
        elif slug == "rejected":
            claim.about = claim.rejection_reason or ""
        claim.extra_cells = [column.cell(claim) for column in columns]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "claims/queues.html",
        {
            "queue": QUEUE_BY_SLUG[slug],
            "tabs": [{"queue": q, "count": counts[q.slug], "active": q.slug == slug} for q in QUEUES],
            "page": page,
            "params": params,
            "who_filters": WHO_FILTERS,
            "sort_labels": SORT_LABELS,
            "querystring": query.urlencode(),
            "today": today,
            "soon": DEADLINE_SOON_DAYS,
            "assignees": queue_assignees(practice),
            "next_url": request.get_full_path(),
            "extra_columns": columns,
            "empty_colspan": (
                13 if slug == "underpaid" else 12 if slug in ("scrub_errors", "rejected") else 11
            )
            + len(columns),
        },
    )


def _queue_export(claims, slug: str, today, columns) -> HttpResponse:
    response = HttpResponse(content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="queue-{slug}-{today.isoformat()}.csv"'
    response["Cache-Control"] = "no-store"
    writer = csv_writer(response)
    writer.writerow(QUEUE_EXPORT_HEADER + [column.title for column in columns])
    for claim in claims.iterator(chunk_size=2000):
        extra = []
        for column in columns:
            cell = column.cell(claim)
            extra.append(" ".join(part for part in (cell.text, cell.detail) if part))
        writer.writerow(
            [
                claim.patient_control_number,
                claim.patient.account_number,
                str(claim.patient),
                claim.payer.name if claim.payer else "Self-pay",
                claim.get_status_display(),
                claim.service_date.isoformat(),
                (today - claim.service_date).days,
                Decimal(claim.balance_total),
                claim.deadline.isoformat() if claim.deadline else "",
                (claim.deadline - today).days if claim.deadline else "",
                _person(claim.assigned_to),
                claim.get_scrub_status_display(),
                *extra,
            ]
        )
    return response


def _safe_next(request, fallback: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def _seen_assignees(request) -> dict[int, int | None]:
    """Who the list showed assigned to each claim (``seen`` = "claim id:user id", empty for nobody)."""
    seen = {}
    for value in request.POST.getlist("seen"):
        claim_id, _, user_id = value.partition(":")
        if claim_id.isdigit():
            seen[int(claim_id)] = int(user_id) if user_id.isdigit() else None
    return seen


@role_required("claims.queues")
@require_POST
def queue_assign(request):
    """Bulk "Assign to": the ticked claims of the practice go to the chosen member (or nobody)."""
    back = _safe_next(request, reverse("claims:queues"))
    ids = [int(value) for value in request.POST.getlist("claim") if value.isdigit()]
    if not ids:
        messages.error(request, "Tick the claims to assign first.")
        return redirect(back)
    assignee = assignee_from(request)
    try:
        count = claims_assign(
            practice=request.practice,
            claim_ids=ids,
            assignee=assignee,
            user=request.user,
            expected_by_claim=_seen_assignees(request),
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.message_dict.get("assignee", error.messages)))
        return redirect(back)
    who = _person(assignee) or "nobody"
    messages.success(request, f"{count_text(count, 'claim')} assigned to {who}.")
    return redirect(back)


@role_required("claims.queues")
@require_POST
def queue_take_next(request, slug: str):
    """ "Take the next claim": the queue's highest-priority unassigned claim goes to the user, who lands
    on it; an empty queue says so."""
    if slug not in QUEUE_BY_SLUG:
        raise Http404("No such work queue.")
    claim = claim_take_next(practice=request.practice, slug=slug, user=request.user)
    if claim is None:
        messages.info(request, f"No unassigned claim left in {QUEUE_BY_SLUG[slug].title}.")
        return redirect("claims:queue", slug)
    messages.success(request, f"Claim {claim.patient_control_number} is yours now.")
    return redirect("claims:detail", claim.pk)


@role_required("claims.queues")
@never_cache
@require_GET
def drafts_by_age(request):
    """Every draft, the oldest date of service first, with its charge lag (days since the date of service)
    and days since entry: the scrubber runs on them nightly, and none can hide."""
    practice = request.practice
    today = timezone.localdate()
    page = CountedPaginator(drafts_by_age_selector(practice), PAGE_SIZE).get_page(request.GET.get("page"))
    for claim in page.object_list:
        claim.lag_days = (today - claim.service_date).days
        claim.entered_days = (today - timezone.localdate(claim.created_at)).days
        claim.about = first_scrub_error(claim)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "claims/drafts.html",
        {"page": page, "today": today, "querystring": query.urlencode()},
    )
