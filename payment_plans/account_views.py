"""The patient account page (``/patients/<id>/account/``) and its actions: record a payment, apply or
refund a credit, send a statement or final notice, write a note, hold or release the account, and the
statement PDFs. Reading needs ``patients.view``; every action needs ``collections.edit``."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from claims.models import Claim, ClaimStatus
from payment_plans.collections import account_hold_release, account_hold_set, account_note_add
from payment_plans.forms import HoldForm, NoteForm, PaymentForm, RefundForm, form_add_errors
from payment_plans.models import Statement, StatementKind
from payment_plans.payments import (
    patient_credit_refund,
    patient_credits_apply,
    patient_payment_record,
)
from payment_plans.selectors import patient_account
from payment_plans.statements import statement_pdf, statement_send
from rcm.audit import audit_record, audit_view
from rcm.models import AuditAction, Patient
from rcm.permissions import role_required
from rcm.roles import role_can
from rcm.tenancy import get_scoped_or_404

ACTIONS = ("payment", "refund", "apply_credit", "statement", "final_notice", "note", "hold", "release")


def _patient(request, patient_id) -> Patient:
    return get_scoped_or_404(Patient.objects.select_related("practice"), request.practice, pk=patient_id)


def _owed_claims(patient):
    return list(
        Claim.objects.filter(patient=patient, patient_balance__gt=0)
        .exclude(status=ClaimStatus.VOIDED)
        .order_by("service_date", "id")
    )


def _page(request, patient, forms=None, status=200):
    forms = forms or {}
    claims = _owed_claims(patient)
    context = {
        "patient": patient,
        "account": patient_account(patient),
        "can_edit": role_can(request.role, "collections.edit"),
        "payment_form": forms.get("payment") or PaymentForm(claims=claims),
        "refund_form": forms.get("refund") or RefundForm(),
        "note_form": forms.get("note") or NoteForm(),
        "hold_form": forms.get("hold") or HoldForm(),
        "failed": next(iter(forms), ""),
    }
    return render(request, "payment_plans/account.html", context, status=status)


@role_required("patients.view")
@never_cache
@require_GET
def account(request, patient_id: int):
    patient = _patient(request, patient_id)
    audit_view(request, patient)
    return _page(request, patient)


def _act(request, patient, action):
    practice, user = request.practice, request.user
    if action == "payment":
        form = PaymentForm(request.POST, claims=_owed_claims(patient))
        if not form.is_valid():
            return {"payment": form}
        data = form.cleaned_data
        claim = None
        if data["claim"]:
            claim = get_scoped_or_404(Claim, practice, pk=data["claim"], patient=patient)
        try:
            payment = patient_payment_record(
                practice=practice,
                patient=patient,
                amount=data["amount"],
                method=data["method"],
                reference=data["reference"],
                received_on=data["received_on"],
                claim=claim,
                user=user,
            )
        except ValidationError as error:
            form_add_errors(form, error)
            return {"payment": form}
        text = f"Payment {payment.receipt_number} of ${payment.amount} recorded: ${payment.applied} applied"
        messages.success(request, text + (f", ${payment.credit} kept as credit." if payment.credit else "."))
    elif action == "refund":
        form = RefundForm(request.POST)
        if not form.is_valid():
            return {"refund": form}
        try:
            refund = patient_credit_refund(practice=practice, patient=patient, user=user, **form.cleaned_data)
        except ValidationError as error:
            form_add_errors(form, error)
            return {"refund": form}
        messages.success(request, f"Refund of ${refund.amount} recorded.")
    elif action == "apply_credit":
        moved = patient_credits_apply(practice=practice, patient=patient, user=user)
        used = sum(a.amount for a in moved if a.kind == "credit_used")
        messages.success(
            request, f"${used} of credit applied." if moved else "No credit to apply, or nothing owed."
        )
    elif action in ("statement", "final_notice"):
        kind = StatementKind.FINAL_NOTICE if action == "final_notice" else StatementKind.STATEMENT
        statement = statement_send(practice=practice, patient=patient, user=user, kind=kind)
        label = StatementKind(kind).label.lower()
        messages.success(
            request,
            f"The {label} was recorded as sent." if statement else f"A {label} was already sent today.",
        )
    elif action == "note":
        form = NoteForm(request.POST)
        if not form.is_valid():
            return {"note": form}
        try:
            account_note_add(practice=practice, patient=patient, user=user, **form.cleaned_data)
        except ValidationError as error:
            form_add_errors(form, error)
            return {"note": form}
        messages.success(request, "Note saved.")
    elif action == "hold":
        form = HoldForm(request.POST)
        if not form.is_valid():
            return {"hold": form}
        account_hold_set(practice=practice, patient=patient, user=user, **form.cleaned_data)
        messages.success(request, "The account is on hold: no statements, off the worklist.")
    elif action == "release":
        account_hold_release(practice=practice, patient=patient, user=user)
        messages.success(request, "Hold released.")
    return None


@role_required("collections.edit")
@require_POST
def account_action(request, patient_id: int, action: str):
    if action not in ACTIONS:
        raise Http404("No such action.")
    patient = _patient(request, patient_id)
    failed = _act(request, patient, action)
    if failed:
        return _page(request, patient, failed, status=400)
    return redirect("accounts:account", patient_id=patient.pk)


def _pdf_response(pdf: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


@role_required("patients.view")
@require_GET
def statement_download(request, patient_id: int, statement_id: int):
    patient = _patient(request, patient_id)
    statement = get_scoped_or_404(Statement, request.practice, pk=statement_id, patient=patient)
    audit_view(request, statement)
    return _pdf_response(bytes(statement.pdf), f"statement-{statement.statement_date:%Y-%m-%d}.pdf")


@role_required("patients.view")
@require_GET
def statement_preview(request, patient_id: int):
    patient = _patient(request, patient_id)
    if not role_can(request.role, "patients.view"):
        raise PermissionDenied
    audit_record(
        action=AuditAction.VIEW,
        practice=request.practice,
        object_type="payment_plans.statement_preview",
        object_id=patient.pk,
        user=request.user,
    )
    return _pdf_response(statement_pdf(patient, today=timezone.localdate()), "statement-preview.pdf")
