"""Charge entry pages: a new claim and the edit of an unsubmitted one, with their htmx helpers
(patient picker, the patient's coverages, ICD-10-CM search, the charge master's charge), and the
claim detail's actions (scrub now, assign).

Patient names never travel in a URL: the picker's search is a POST. Codes (ICD-10-CM, CPT/HCPCS)
are not PHI and are searched with GETs.
"""

import threading
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from claims.forms import (
    COMMON_PLACES_OF_SERVICE,
    ClaimHeaderForm,
    LineRow,
    blank_rows,
    provider_choices,
    read_claim_rows,
    rows_for_claim,
)
from claims.models import Claim, ScrubStatus
from claims.queues.selectors import queue_assignees
from claims.queues.services import UNCHECKED, claims_assign
from claims.scrubber.engine import claims_scrub
from claims.selectors import (
    charge_master_charge,
    coverage_expected_allowed,
    coverages_for_entry,
    icd10_index,
    icd10_search,
    patient_picker_matches,
)
from claims.services import EDITABLE, MAX_LINES, claim_create, claim_update, claims_bill_secondary
from rcm.models import Patient
from rcm.permissions import role_required
from rcm.pricing import is_facility
from rcm.tenancy import get_scoped_or_404

CENT = Decimal("0.01")
PICKER_TERM_MAX_LENGTH = 100
# Header fields the form shows errors beside; any other key of a service error goes to the top of the page.
HEADER_FIELDS = (
    "patient",
    "coverage",
    "billing_provider",
    "rendering_provider",
    "place_of_service",
    "prior_authorization",
)


def is_editable(claim: Claim) -> bool:
    return claim.status in EDITABLE


def not_editable_reason(claim: Claim) -> str:
    return (
        f"This claim is {claim.get_status_display().lower()}: "
        "only drafts, ready, rejected and corrected claims can be edited. "
        "To change an adjudicated claim, create a corrected claim (frequency 7)."
    )


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'s' if count != 1 else ''}"


def _scrub_message(claim: Claim) -> tuple[str, str]:
    """(message level, text) saying what the scrubber found on a claim just scrubbed."""
    claim.refresh_from_db(fields=["status", "scrub_status", "scrub_findings"])
    errors = sum(1 for finding in claim.scrub_findings if finding["severity"] == "error")
    warnings = len(claim.scrub_findings) - errors
    status = claim.get_status_display().lower()
    if claim.scrub_status == ScrubStatus.ERRORS:
        also = f" and {_plural(warnings, 'warning')}" if warnings else ""
        return "warning", f"The scrubber found {_plural(errors, 'error')} to fix before submission{also}."
    if claim.scrub_status == ScrubStatus.WARNINGS:
        return (
            "success",
            f"The scrubber found {_plural(warnings, 'warning')} and no errors: the claim is {status}.",
        )
    return "success", f"The scrubber found nothing: the claim is {status}."


def _scrub_one(request, claim: Claim, *, saved: str = "") -> None:
    """Scrub one claim and say what was found (after ``saved``, what the save did), in one message."""
    claims_scrub(queryset=Claim.objects.filter(practice=request.practice, pk=claim.pk), user=request.user)
    level, text = _scrub_message(claim)
    getattr(messages, level)(request, f"{saved} {text}" if saved else text)


_icd10_warming = threading.Lock()  # taken once and kept: one warm-up thread per process


def _warm_icd10_index() -> None:
    """Build the ICD-10-CM search index in the background when a charge entry page is first opened, so
    the biller's first diagnosis search does not wait for it (a few seconds, once per process)."""
    if icd10_index.cache_info().currsize or not _icd10_warming.acquire(blocking=False):
        return
    threading.Thread(target=icd10_index, name="icd10-index", daemon=True).start()


def _render_form(
    request,
    *,
    form,
    claim,
    diagnosis_rows,
    line_rows,
    top_errors=(),
    diagnosis_error="",
    lines_error="",
    refused=False,
    providers=None,
):
    _warm_icd10_index()
    practice = request.practice
    patient_id = form.patient_id()
    patient = (
        claim.patient
        if claim is not None
        else (Patient.objects.filter(practice=practice, pk=patient_id).first() if patient_id else None)
    )
    coverage_value = (
        str(form["coverage"].value() or "")
        if form.is_bound
        else (str(claim.coverage_id or "") if claim is not None else "")
    )
    coverages = coverages_for_entry(practice, patient) if patient is not None else []
    if not form.is_bound and claim is None and coverages and coverages[0].active:
        coverage_value = str(coverages[0].pk)
    return render(
        request,
        "claims/claim_form.html",
        {
            "form": form,
            "claim": claim,
            "patient": patient,
            "coverages": coverages,
            "coverage_value": coverage_value,
            "coverage_errors": form.errors.get("coverage", []),
            "providers": providers or provider_choices(practice),
            "places_of_service": COMMON_PLACES_OF_SERVICE,
            "diagnosis_rows": diagnosis_rows,
            "diagnosis_error": diagnosis_error,
            "line_rows": line_rows,
            "lines_error": lines_error,
            "blank_line": LineRow(),
            "max_lines": MAX_LINES,
            "top_errors": list(top_errors),
            "refused": refused,
        },
    )


def _initial(claim: Claim | None, providers: dict) -> dict:
    if claim is not None:
        return {
            "coverage": claim.coverage_id,
            "billing_provider": claim.billing_provider_id,
            "rendering_provider": claim.rendering_provider_id,
            "place_of_service": claim.place_of_service,
            "prior_authorization": claim.prior_authorization,
        }
    billing = providers["billing"][0].pk if providers["billing"] else None
    clinicians = [p for p in providers["rendering"] if not p.is_organization]
    return {
        "billing_provider": billing,
        "place_of_service": "11",
        "rendering_provider": clinicians[0].pk if len(clinicians) == 1 else None,
    }


def _save(request, claim: Claim | None):
    """Validate and save through the service; on any error re-render with every error beside its field."""
    practice = request.practice
    form = ClaimHeaderForm(request.POST, practice=practice, patient=claim.patient if claim else None)
    rows = read_claim_rows(request.POST)
    form_ok = form.is_valid()
    data = form.cleaned_data
    service_errors: dict[str, list[str]] = {}
    top_errors: list[str] = []
    if form_ok:
        try:
            with transaction.atomic():
                common = {
                    "coverage": data["coverage"],
                    "billing_provider": data["billing_provider"],
                    "rendering_provider": data["rendering_provider"],
                    "diagnosis_codes": rows.diagnosis_codes,
                    "lines": rows.lines,
                    "place_of_service": data["place_of_service"].strip(),
                    "prior_authorization": data["prior_authorization"],
                    "user": request.user,
                }
                if claim is None:
                    saved = claim_create(practice=practice, patient=data["patient"], **common)
                else:
                    saved = claim_update(claim=claim, **common)
                if rows.errors:  # never reached in practice: the service refuses what we could not read
                    raise ValidationError(rows.errors)
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                service_errors = exc.message_dict
            else:
                top_errors = exc.messages
        else:
            verb = "created" if claim is None else "saved"
            _scrub_one(request, saved, saved=f"Claim {saved.patient_control_number} {verb}.")
            return redirect("claims:detail", saved.pk)
    flat = {key: " ".join(values) for key, values in service_errors.items()}
    for key, message in flat.items():
        if key in HEADER_FIELDS and key in form.fields:
            form.add_error(key, message)
        elif key not in ("diagnosis_codes", "lines") and not key.startswith("lines["):
            top_errors.append(message)
    rows.attach(flat)
    diagnosis_error = ""
    if not any(row.error for row in rows.diagnosis_rows):
        diagnosis_error = rows.errors.get("diagnosis_codes") or flat.get("diagnosis_codes", "")
    return _render_form(
        request,
        form=form,
        claim=claim,
        diagnosis_rows=rows.diagnosis_rows,
        line_rows=rows.line_rows or [LineRow()],
        top_errors=top_errors,
        diagnosis_error=diagnosis_error,
        lines_error=flat.get("lines", ""),
        refused=True,
    )


@role_required("claims.edit")
@never_cache
@require_http_methods(["GET", "POST"])
def claim_new(request):
    if request.method == "POST":
        return _save(request, None)
    providers = provider_choices(request.practice)
    form = ClaimHeaderForm(practice=request.practice, initial=_initial(None, providers))
    diagnosis, lines = blank_rows()
    return _render_form(
        request, form=form, claim=None, diagnosis_rows=diagnosis, line_rows=lines, providers=providers
    )


def _claim_for_edit(request, pk: int) -> Claim:
    return get_scoped_or_404(
        Claim.objects.select_related(
            "patient", "coverage", "payer", "billing_provider", "rendering_provider"
        ),
        request.practice,
        pk=pk,
    )


@role_required("claims.edit")
@never_cache
@require_http_methods(["GET", "POST"])
def claim_edit(request, pk: int):
    claim = _claim_for_edit(request, pk)
    if not is_editable(claim):
        messages.error(request, not_editable_reason(claim))
        return redirect("claims:detail", claim.pk)
    if request.method == "POST":
        return _save(request, claim)
    providers = provider_choices(request.practice)
    form = ClaimHeaderForm(
        practice=request.practice, patient=claim.patient, initial=_initial(claim, providers)
    )
    diagnosis, lines = rows_for_claim(claim)
    return _render_form(
        request, form=form, claim=claim, diagnosis_rows=diagnosis, line_rows=lines, providers=providers
    )


# --- htmx helpers of the charge entry form -------------------------------------------------------


@role_required("claims.edit")
@require_POST
def entry_patient_search(request):
    """Patients matching the picker's term (account number or name), as a list to pick from."""
    term = " ".join(request.POST.get("patient_q", "").split())[:PICKER_TERM_MAX_LENGTH]
    patients = patient_picker_matches(request.practice, term)
    return render(request, "claims/_patient_results.html", {"patients": patients, "term": term})


@role_required("claims.edit")
@require_GET
def entry_patient_pick(request, pk: int):
    """The chosen patient: the coverage select for them, and (out of band) the picker showing the choice."""
    patient = get_scoped_or_404(Patient, request.practice, pk=pk)
    coverages = coverages_for_entry(request.practice, patient)
    coverage_value = str(coverages[0].pk) if coverages and coverages[0].active else ""
    return render(
        request,
        "claims/_patient_picked.html",
        {"patient": patient, "coverages": coverages, "coverage_value": coverage_value},
    )


@role_required("claims.edit")
@require_GET
def entry_icd_search(request):
    """ICD-10-CM codes for a code prefix or description words; header codes are listed but not choosable."""
    term = request.GET.get("q") or request.GET.get("diagnosis", "")
    entries, truncated = icd10_search(term)
    row = request.GET.get("row", "")
    return render(
        request,
        "claims/_icd_results.html",
        {
            "entries": entries,
            "truncated": truncated,
            "term": term.strip(),
            "row": row if row.isdigit() else "",
        },
    )


@role_required("claims.edit")
@require_GET
def entry_charge(request):
    """The charge master's charge for the line's code (and first modifier) times its units, and what the
    payer's fee schedule allows per unit, for the line being typed. Empty when the charge master has none."""
    params = request.GET
    code = params.get("procedure_code", "").strip().upper()[:5]
    modifier = (params.get("modifiers", "").replace(",", " ").split() or [""])[0][:2]
    unit_charge = charge_master_charge(request.practice, code, modifier)
    units = _units(params.get("units", ""))
    charge = (unit_charge * units).quantize(CENT, rounding=ROUND_HALF_UP) if unit_charge is not None else None
    coverage = params.get("coverage", "")
    allowed = coverage_expected_allowed(
        request.practice,
        coverage_id=int(coverage) if coverage.isdigit() else None,
        procedure_code=code,
        modifier=modifier,
        charge=unit_charge,
        facility=is_facility(params.get("place_of_service", "")),
    )
    return render(
        request,
        "claims/_charge_default.html",
        {
            "charge": charge,
            "unit_charge": unit_charge,
            "units": units,
            "allowed": allowed,
            "code": code,
        },
    )


def _units(value: str) -> Decimal:
    try:
        units = Decimal(value.strip() or "1")
    except InvalidOperation:
        return Decimal(1)
    return units if units.is_finite() and Decimal(1) <= units <= Decimal(9999) else Decimal(1)


# --- claim detail actions --------------------------------------------------------------------------


@role_required("claims.edit")
@require_POST
def claim_scrub_now(request, pk: int):
    claim = get_scoped_or_404(Claim, request.practice, pk=pk)
    if not is_editable(claim):
        messages.error(
            request,
            f"This claim is {claim.get_status_display().lower()}: the scrubber checks claims "
            "before they are submitted (drafts, ready, rejected and corrected claims).",
        )
        return redirect("claims:detail", claim.pk)
    _scrub_one(request, claim)
    return redirect(reverse("claims:detail", args=[claim.pk]) + "#scrub")


@role_required("claims.edit")
@require_POST
def claim_bill_secondary_now(request, pk: int):
    claim = get_scoped_or_404(Claim, request.practice, pk=pk)
    _billed, refused = claims_bill_secondary(
        practice=request.practice, claim_ids=[claim.pk], user=request.user
    )
    if refused:
        messages.error(request, refused[claim.pk])
    else:
        claim.refresh_from_db()
        messages.success(
            request,
            f"Claim {claim.patient_control_number} is ready for {claim.payer.name}: it goes "
            "out with the next 837P batch.",
        )
    return redirect("claims:detail", claim.pk)


@role_required("claims.queues")
@require_POST
def claim_assign(request, pk: int):
    claim = get_scoped_or_404(Claim, request.practice, pk=pk)
    assignee = assignee_from(request)
    try:
        claims_assign(
            practice=request.practice,
            claim_ids=[claim.pk],
            assignee=assignee,
            user=request.user,
            expected_assignee_id=_expected_assignee(request),
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.message_dict.get("assignee", error.messages)))
        return redirect("claims:detail", claim.pk)
    who = (assignee.get_full_name() or assignee.get_username()) if assignee else "nobody"
    messages.success(request, f"Claim {claim.patient_control_number} assigned to {who}.")
    return redirect("claims:detail", claim.pk)


def _expected_assignee(request):
    """Who the form showed as the claim's assignee (``expected``: a user id, empty for nobody); a form
    without it (an older page) assigns whoever has the claim."""
    if "expected" not in request.POST:
        return UNCHECKED
    value = request.POST["expected"]
    return int(value) if value.isdigit() else None


def assignee_from(request):
    """The ``assignee`` of a POST: a member of the practice who works queues, or None for "nobody".
    Anyone else is a 404 (another practice's user looks like no user)."""
    value = request.POST.get("assignee", "")
    if not value:
        return None
    assignee = next((user for user in queue_assignees(request.practice) if str(user.pk) == value), None)
    if assignee is None:
        raise Http404("No such member of this practice.")
    return assignee
