"""The biller's work pages: the work queues (with bulk assignment and CSV export), the 837P batches
(submit ready claims, download, send to the clearinghouse) and the X12 files received (upload, read)."""

import csv
from decimal import ROUND_HALF_UP, Decimal

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header, url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from claims.edi.intake import postable_practices, x12_import
from claims.models import (
    ZERO,
    BatchClaim,
    BatchStatus,
    Claim,
    ClaimAcknowledgment,
    DeliveryAttempt,
    SubmissionBatch,
    X12File,
)
from claims.queues.selectors import QUEUE_BY_SLUG, QUEUES, SORTS, claims_assign, queue_claims, queue_counts
from claims.selectors import batch_list, queue_assignees, ready_claims_by_payer, x12_file_list
from claims.submission.batches import claims_submit
from claims.views.entry import assignee_from
from rcm.audit import audit_record, audit_view
from rcm.models import AuditAction, Payer
from rcm.paging import CountedPaginator
from rcm.permissions import role_required
from rcm.roles import role_can
from rcm.tenancy import get_scoped_or_404, scoped

CENT = Decimal("0.01")
PAGE_SIZE = 50
DEADLINE_SOON_DAYS = 14
WHO_FILTERS = {"all": "All", "mine": "Mine", "unassigned": "Unassigned"}
SORT_LABELS = {"priority": "Priority", "balance": "Balance", "age": "Age", "deadline": "Deadline"}
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
REFUSED_SHOWN = 20

QUEUE_EXPORT_HEADER = [
    "PCN", "Account", "Patient", "Payer", "Status", "Date of service", "Age (days)", "Balance", "Deadline",
    "Days left", "Assigned to", "Scrub status",
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
        practice, slug, sort=params["sort"], today=today,
        assigned_to=request.user if params["who"] == "mine" else None, unassigned=params["who"] == "unassigned",
    )
    if request.GET.get("format") == "csv":
        audit_record(action=AuditAction.EXPORT, practice=practice, object_type="claims.claim",
                     changes={"queue": slug, **params})
        return _queue_export(claims, slug, today)
    known = counts[slug] if params["who"] not in ("mine", "unassigned") else None  # the tab's count is the list's
    page = CountedPaginator(claims, PAGE_SIZE, count=known).get_page(request.GET.get("page"))
    for claim in page.object_list:
        claim.days_left = (claim.deadline - today).days if claim.deadline else None
        claim.days_overdue = -claim.days_left if claim.days_left is not None and claim.days_left < 0 else 0
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "claims/queues.html", {
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
    })


def _queue_export(claims, slug: str, today) -> HttpResponse:
    response = HttpResponse(content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="queue-{slug}-{today.isoformat()}.csv"'
    response["Cache-Control"] = "no-store"
    writer = csv.writer(response)
    writer.writerow(QUEUE_EXPORT_HEADER)
    for claim in claims.iterator(chunk_size=2000):
        writer.writerow([
            claim.patient_control_number, claim.patient.account_number, str(claim.patient),
            claim.payer.name if claim.payer else "Self-pay", claim.get_status_display(),
            claim.service_date.isoformat(), (today - claim.service_date).days, _money(claim.balance_total),
            claim.deadline.isoformat() if claim.deadline else "",
            (claim.deadline - today).days if claim.deadline else "", _person(claim.assigned_to),
            claim.get_scrub_status_display(),
        ])
    return response


def _money(value: Decimal) -> str:
    return str(Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP))


def _safe_next(request, fallback: str) -> str:
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()},
                                                  require_https=request.is_secure()):
        return target
    return fallback


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
    count = claims_assign(practice=request.practice, claim_ids=ids, assignee=assignee, user=request.user)
    who = _person(assignee) or "nobody"
    messages.success(request, f"{count} claim{'s' if count != 1 else ''} assigned to {who}.")
    return redirect(back)


# --- 837P batches ------------------------------------------------------------------------------

@role_required("claims.view")
@never_cache
@require_GET
def batches(request):
    practice = request.practice
    page = Paginator(batch_list(practice), PAGE_SIZE).get_page(request.GET.get("page"))
    ready = ready_claims_by_payer(practice) if role_can(request.role, "claims.edit") else []
    billable = [row for row in ready if row["payer_id"] is not None]
    return render(request, "claims/batches.html", {
        "page": page,
        "querystring": "",
        "ready_by_payer": billable,
        "ready_count": sum(row["count"] for row in billable),
        "ready_charges": sum((row["charges"] for row in billable), start=ZERO),
        "self_pay_ready": sum(row["count"] for row in ready if row["payer_id"] is None),
        "can_submit": role_can(request.role, "claims.edit"),
    })


@role_required("claims.edit")
@require_POST
def batches_submit(request):
    """Submit the ready claims (all, or one payer's) as 837P batches; say what was made and what was refused."""
    practice = request.practice
    payer_value = request.POST.get("payer", "")
    payer = get_scoped_or_404(Payer, practice, pk=payer_value) if payer_value else None
    try:
        result = claims_submit(practice=practice, payer_id=payer.pk if payer else None, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("claims:batches")
    if result.batches:
        made = "; ".join(
            f"{batch.file_name} ({batch.payer.name}, {batch.claim_count} claim{'s' if batch.claim_count != 1 else ''},"
            f" ${batch.total_charge:,.2f})" for batch in result.batches)
        messages.success(request, f"{len(result.batches)} batch{'es' if len(result.batches) != 1 else ''} made: {made}.")
    if result.refused:
        numbers = dict(Claim.objects.filter(practice=practice, pk__in=result.refused)
                       .values_list("pk", "patient_control_number"))
        listed = "; ".join(f"{numbers.get(claim_id, claim_id)}: {reason}"
                           for claim_id, reason in sorted(result.refused.items())[:REFUSED_SHOWN])
        more = len(result.refused) - REFUSED_SHOWN
        messages.warning(request, f"{len(result.refused)} claim{'s' if len(result.refused) != 1 else ''} not "
                                  f"submitted: {listed}{f'; and {more} more' if more > 0 else ''}.")
    if not result.batches and not result.refused:
        messages.info(request, "No ready claims to submit." if payer is None
                      else f"No ready claims for {payer.name}.")
    return redirect("claims:batches")


def _batch(request, pk: int) -> SubmissionBatch:
    return get_scoped_or_404(SubmissionBatch.objects.select_related("payer", "clearinghouse", "created_by"),
                             request.practice, pk=pk)


@role_required("claims.view")
@never_cache
@require_GET
def batch_detail(request, pk: int):
    batch = _batch(request, pk)
    return render(request, "claims/batch_detail.html", {
        "batch": batch,
        "rows": BatchClaim.objects.filter(batch=batch).select_related("claim", "claim__patient")
        .order_by("claim__patient_control_number"),
        "attempts": DeliveryAttempt.objects.filter(batch=batch).order_by("-at", "-id"),
        "acknowledgments": ClaimAcknowledgment.objects.filter(batch=batch, practice=request.practice)
        .select_related("claim", "x12_file").order_by("-at", "-id"),
        "can_send": role_can(request.role, "claims.edit"),
        "sendable": batch.status in (BatchStatus.BUILT, BatchStatus.SEND_FAILED),
        "has_sftp": bool(batch.clearinghouse.sftp_host),
    })


@role_required("claims.view")
@require_GET
def batch_download(request, pk: int):
    batch = _batch(request, pk)
    audit_record(action=AuditAction.EXPORT, practice=request.practice, object_type="claims.submissionbatch",
                 object_id=batch.pk, changes={"file_name": batch.file_name})
    response = HttpResponse(batch.content, content_type="application/edi-x12")
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=batch.file_name)
    response["Cache-Control"] = "no-store"
    return response


@role_required("claims.edit")
@require_POST
def batch_send(request, pk: int):
    """Queue the SFTP delivery of a batch (after this request's transaction commits)."""
    from claims.tasks import deliver_batch

    batch = _batch(request, pk)
    if batch.status not in (BatchStatus.BUILT, BatchStatus.SEND_FAILED):
        messages.error(request, f"{batch.file_name} is {batch.get_status_display().lower()}: it is not sent again.")
    elif not batch.clearinghouse.sftp_host:
        messages.error(request, f"{batch.clearinghouse.name} has no SFTP settings: download the file and upload it "
                                "to the clearinghouse by hand, or ask an administrator to set SFTP up.")
    else:
        batch_id = batch.pk
        transaction.on_commit(lambda: deliver_batch.delay(batch_id))
        messages.success(request, f"{batch.file_name} is queued for delivery to {batch.clearinghouse.name}; "
                                  "the attempts appear below.")
    return redirect("claims:batch_detail", batch.pk)


# --- X12 files ---------------------------------------------------------------------------------

def outcome_words(outcome: dict) -> list[str]:
    """``{"claims_rejected": 1}`` -> ``["1 claims rejected"]``, for people."""
    return [f"{value} {key.replace('_', ' ')}" for key, value in (outcome or {}).items()]


@role_required("claims.view")
@never_cache
@require_GET
def files(request):
    page = Paginator(x12_file_list(request.practice), PAGE_SIZE).get_page(request.GET.get("page"))
    for x12_file in page.object_list:
        x12_file.outcome_words = outcome_words(x12_file.outcome)
    return render(request, "claims/files.html", {
        "page": page,
        "querystring": "",
        "can_upload": role_can(request.role, "claims.edit"),
        "max_upload_mb": MAX_UPLOAD_BYTES // (1024 * 1024),
    })


@role_required("claims.edit")
@require_POST
def files_upload(request):
    """Import each uploaded file on its own (one may be refused while the others apply); a message per file."""
    uploads = request.FILES.getlist("files")
    if not uploads:
        messages.error(request, "Choose one or more 999, 277CA or 835 files to upload.")
        return redirect("claims:files")
    for upload in uploads:
        if upload.size > MAX_UPLOAD_BYTES:
            messages.error(request, f"{upload.name} was refused: it is larger than "
                                    f"{MAX_UPLOAD_BYTES // (1024 * 1024)} MB. Nothing was changed.")
            continue
        result = x12_import(practice=request.practice, file_name=upload.name, content=upload.read(),
                            user=request.user, source="upload",
                            candidates=postable_practices(request))
        if result.duplicate:
            messages.info(request, result.message)
        elif result.applied:
            messages.success(request, result.message)
        else:
            messages.error(request, result.message)
    return redirect("claims:files")


@role_required("claims.view")
@never_cache
@require_GET
def file_detail(request, pk: int):
    x12_file = get_scoped_or_404(X12File.objects.select_related("received_by"), request.practice, pk=pk)
    audit_view(request, x12_file)
    return render(request, "claims/file_detail.html", {
        "file": x12_file,
        "acknowledgments": scoped(ClaimAcknowledgment, request.practice).filter(x12_file=x12_file)
        .select_related("claim", "claim__patient", "batch").order_by("claim__patient_control_number", "id"),
        "remittances": x12_file.remittances.filter(practice=request.practice).order_by("id"),
        "outcome": outcome_words(x12_file.outcome),
        "segments": _one_segment_a_line(x12_file.content),
    })


def _one_segment_a_line(content: str) -> str:
    """X12 often comes as one long line: break it after each segment terminator (ISA's 106th character)."""
    if "\n" in content.strip():
        return content
    terminator = content[105] if content.startswith("ISA") and len(content) > 105 else "~"
    return content.replace(terminator, terminator + "\n")
