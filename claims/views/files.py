"""X12 files received: the list, the upload, and one file read segment by segment."""

from django.conf import settings
from django.contrib import messages
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from claims.edi.intake import outcome_words, postable_practices, upload_refusal, x12_import
from claims.models import (
    ClaimAcknowledgment,
    X12File,
)
from claims.submission.selectors import x12_file_list
from rcm.audit import audit_view
from rcm.permissions import role_required
from rcm.roles import role_can
from rcm.tenancy import get_scoped_or_404, scoped

PAGE_SIZE = 50


# --- X12 files ---------------------------------------------------------------------------------


@role_required("claims.view")
@never_cache
@require_GET
def files(request):
    page = Paginator(x12_file_list(request.practice), PAGE_SIZE).get_page(request.GET.get("page"))
    for x12_file in page.object_list:
        x12_file.outcome_words = outcome_words(x12_file.outcome)
    return render(
        request,
        "claims/files.html",
        {
            "page": page,
            "querystring": "",
            "can_upload": role_can(request.role, "claims.edit"),
            "max_upload_mb": settings.RCM_MAX_UPLOAD_MB,
        },
    )


@role_required("claims.edit")
@require_POST
def files_upload(request):
    """Import each uploaded file on its own (one may be refused while the others apply); a message per
    file."""
    uploads = request.FILES.getlist("files")
    if not uploads:
        messages.error(request, "Choose one or more 999, 277CA or 835 files to upload.")
        return redirect("claims:files")
    for upload in uploads:
        refusal = upload_refusal(upload.name, upload.size)
        if refusal:
            messages.error(request, refusal)
            continue
        result = x12_import(
            practice=request.practice,
            file_name=upload.name,
            content=upload.read(),
            user=request.user,
            source="upload",
            candidates=postable_practices(request),
        )
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
    return render(
        request,
        "claims/file_detail.html",
        {
            "file": x12_file,
            "acknowledgments": scoped(ClaimAcknowledgment, request.practice)
            .filter(x12_file=x12_file)
            .select_related("claim", "claim__patient", "batch")
            .order_by("claim__patient_control_number", "id"),
            "remittances": x12_file.remittances.filter(practice=request.practice).order_by("id"),
            "outcome": outcome_words(x12_file.outcome),
            "segments": _one_segment_a_line(x12_file.content),
        },
    )


def _one_segment_a_line(content: str) -> str:
    """X12 often comes as one long line: break it after each segment terminator (ISA's 106th character)."""
    if "\n" in content.strip():
        return content
    terminator = content[105] if content.startswith("ISA") and len(content) > 105 else "~"
    return content.replace(terminator, terminator + "\n")
