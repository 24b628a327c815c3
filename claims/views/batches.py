"""837P batch pages: submit ready claims, read a batch, download it, send it to the clearinghouse."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from claims.models import (
    ZERO,
    BatchClaim,
    BatchStatus,
    Claim,
    ClaimAcknowledgment,
    DeliveryAttempt,
    SubmissionBatch,
)
from claims.submission.batches import batch_download_record, batch_mark_sent, claims_submit
from claims.submission.selectors import batch_list, batch_whereabouts, ready_claims_by_payer
from claims.tasks import deliver_batch
from rcm.audit import audit_list_view
from rcm.formats import count_text, money_text
from rcm.models import Payer
from rcm.outbox import task_enqueue
from rcm.permissions import role_required
from rcm.roles import BATCH_DOWNLOAD_REFUSED, role_can, role_can_download_batches
from rcm.tenancy import get_scoped_or_404

PAGE_SIZE = 50
REFUSED_SHOWN = 20


# --- 837P batches ------------------------------------------------------------------------------


@role_required("claims.view")
@never_cache
@require_GET
def batches(request):
    practice = request.practice
    page = Paginator(batch_list(practice), PAGE_SIZE).get_page(request.GET.get("page"))
    for batch in page.object_list:
        batch.where = batch_whereabouts(batch)
    ready = ready_claims_by_payer(practice) if role_can(request.role, "claims.edit") else []
    billable = [row for row in ready if row["payer_id"] is not None]
    return render(
        request,
        "claims/batches.html",
        {
            "page": page,
            "querystring": "",
            "ready_by_payer": billable,
            "ready_count": sum(row["count"] for row in billable),
            "ready_charges": sum((row["charges"] for row in billable), start=ZERO),
            "self_pay_ready": sum(row["count"] for row in ready if row["payer_id"] is None),
            "can_submit": role_can(request.role, "claims.edit"),
        },
    )


@role_required("claims.edit")
@require_POST
def batches_submit(request):
    """Submit the ready claims (all, or one payer's) as 837P batches; say what was made and what was
    refused."""
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
            f"{batch.file_name} ({batch.payer.name}, "
            f"{count_text(batch.claim_count, 'claim')}, {money_text(batch.total_charge)})"
            for batch in result.batches
        )
        messages.success(request, f"{count_text(len(result.batches), 'batch', 'batches')} made: {made}.")
    if result.refused:
        numbers = dict(
            Claim.objects.filter(practice=practice, pk__in=result.refused).values_list(
                "pk", "patient_control_number"
            )
        )
        listed = "; ".join(
            f"{numbers.get(claim_id, claim_id)}: {reason}"
            for claim_id, reason in sorted(result.refused.items())[:REFUSED_SHOWN]
        )
        more = len(result.refused) - REFUSED_SHOWN
        messages.warning(
            request,
            f"{count_text(len(result.refused), 'claim')} not "
            f"submitted: {listed}{f'; and {more} more' if more > 0 else ''}.",
        )
    if not result.batches and not result.refused:
        messages.info(
            request, "No ready claims to submit." if payer is None else f"No ready claims for {payer.name}."
        )
    return redirect("claims:batches")


def _batch(request, pk: int) -> SubmissionBatch:
    """The batch with what ``batch_whereabouts`` reads (its last delivery attempt, who downloaded it)."""
    return get_scoped_or_404(
        batch_list(request.practice).select_related("clearinghouse", "created_by").defer(None),
        request.practice,
        pk=pk,
    )


@role_required("claims.view")
@never_cache
@require_GET
def batch_detail(request, pk: int):
    batch = _batch(request, pk)
    rows = list(
        BatchClaim.objects.filter(batch=batch)
        .select_related("claim", "claim__patient")
        .order_by("claim__patient_control_number")
    )
    # The page names every patient on the batch: one view event for the batch, with its claims' ids.
    audit_list_view(
        request, object_type="claims.submissionbatch", object_id=batch.pk, ids=[row.claim_id for row in rows]
    )
    return render(
        request,
        "claims/batch_detail.html",
        {
            "batch": batch,
            "rows": rows,
            "attempts": DeliveryAttempt.objects.filter(batch=batch).order_by("-at", "-id"),
            "acknowledgments": ClaimAcknowledgment.objects.filter(batch=batch, practice=request.practice)
            .select_related("claim", "x12_file")
            .order_by("-at", "-id"),
            "can_send": role_can(request.role, "claims.edit"),
            "can_download": role_can_download_batches(request.role, request.practice),
            "sendable": batch.status in (BatchStatus.BUILT, BatchStatus.SEND_FAILED),
            "where": batch_whereabouts(batch),
            "has_sftp": bool(batch.clearinghouse.sftp_host),
        },
    )


@role_required("claims.view")
@require_GET
def batch_download(request, pk: int):
    """The 837P file; who downloaded it and when is recorded on the batch and in the audit log."""
    if not role_can_download_batches(request.role, request.practice):
        raise PermissionDenied(BATCH_DOWNLOAD_REFUSED)
    batch = get_scoped_or_404(SubmissionBatch.objects.select_related("practice"), request.practice, pk=pk)
    batch_download_record(batch=batch, user=request.user)
    response = HttpResponse(batch.content, content_type="application/edi-x12")
    response["Content-Disposition"] = content_disposition_header(as_attachment=True, filename=batch.file_name)
    response["Cache-Control"] = "no-store"
    return response


@role_required("claims.edit")
@require_POST
def batch_sent_by_hand(request, pk: int):
    """Mark a downloaded batch sent by hand; when refused, say why (nothing changed)."""
    batch = get_scoped_or_404(
        SubmissionBatch.objects.select_related("practice", "clearinghouse"), request.practice, pk=pk
    )
    try:
        batch_mark_sent(batch=batch, user=request.user)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            f"{batch.file_name} is marked sent to {batch.clearinghouse.name} by hand "
            f"({count_text(batch.claim_count, 'claim')}, {money_text(batch.total_charge)}); "
            "its 999 will say whether it was accepted.",
        )
    return redirect("claims:batch_detail", batch.pk)


@role_required("claims.edit")
@require_POST
def batch_send(request, pk: int):
    """Queue the SFTP delivery of a batch (after this request's transaction commits)."""
    batch = _batch(request, pk)
    if batch.status not in (BatchStatus.BUILT, BatchStatus.SEND_FAILED):
        messages.error(
            request, f"{batch.file_name} is {batch.get_status_display().lower()}: it is not sent again."
        )
    elif not batch.clearinghouse.sftp_host:
        messages.error(
            request,
            f"{batch.clearinghouse.name} has no SFTP settings: download the file and upload it "
            "to the clearinghouse by hand, or ask an administrator to set SFTP up.",
        )
    else:
        task_enqueue(deliver_batch, batch.pk)
        messages.success(
            request,
            f"{batch.file_name} is queued for delivery to {batch.clearinghouse.name}; "
            "the attempts appear below.",
        )
    return redirect("claims:batch_detail", batch.pk)
