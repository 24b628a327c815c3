"""Plan pages: the practice's plans, a patient's plans, a new plan from the affordability check, a plan's
schedule with its payments and history, recording a payment, new terms, cancelling, the agreement PDF and
the manager's policy. Reading needs ``collections.view``; changes need ``collections.edit``; the policy
``collections.policy``."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from payment_plans.forms import form_add_errors
from payment_plans.models import PlanStatus, ReminderChannel
from payment_plans.plans.affordability import affordability_check
from payment_plans.plans.agreement import plan_agreement_pdf
from payment_plans.plans.forms import (
    AffordabilityForm,
    CancelForm,
    ModifyForm,
    PlanPaymentForm,
    PlanTermsForm,
    PolicyForm,
)
from payment_plans.plans.selectors import (
    claims_open_for_plan,
    plan_detail,
    plan_list,
    plan_remaining,
    policy_for,
)
from payment_plans.plans.services import (
    POLICY_FIELDS,
    plan_add_balance,
    plan_cancel,
    plan_create,
    plan_modify,
    plan_payment_record,
    plan_policy_update,
)
from payment_plans.reminders.selectors import reminders_for_patient
from payment_plans.reminders.services import reminder_opt_out
from rcm.audit import audit_record, audit_view
from rcm.models import AuditAction, Patient
from rcm.permissions import role_required
from rcm.roles import role_can
from rcm.services import consents_current
from rcm.tenancy import get_scoped_or_404

PAGE_SIZE = 50


@role_required("collections.view")
@never_cache
def plans(request):
    status = request.GET.get("status", "")
    if status not in PlanStatus.values:
        status = ""
    page = Paginator(plan_list(request.practice, status=status or None), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(
        request,
        "payment_plans/plan_list.html",
        {"page": page, "status": status, "statuses": PlanStatus.choices},
    )


def _patient(request, patient_id) -> Patient:
    return get_scoped_or_404(Patient.objects.select_related("practice"), request.practice, pk=patient_id)


@role_required("collections.view")
@never_cache
def patient_plans(request, patient_id: int):
    patient = _patient(request, patient_id)
    audit_view(request, patient)
    return render(
        request,
        "payment_plans/patient_plans.html",
        {
            "patient": patient,
            "plans": plan_list(request.practice, patient=patient),
            "open_claims": list(claims_open_for_plan(patient)),
            "reminders": reminders_for_patient(patient)[:50],
            "consents": consents_current(patient),
            "can_edit": role_can(request.role, "collections.edit"),
        },
    )


@role_required("collections.edit")
@never_cache
@require_http_methods(["GET", "POST"])
def plan_new(request, patient_id: int):
    """One page: the affordability check (suggested payment), then the terms; the plan is made on "Create"."""
    patient = _patient(request, patient_id)
    policy = policy_for(request.practice)
    claims = list(claims_open_for_plan(patient))
    balance = sum(claim.patient_balance for claim in claims)
    check_form = AffordabilityForm(request.POST or None)
    terms_form = PlanTermsForm(request.POST if request.POST.get("action") == "create" else None)
    affordability = warning = None
    if request.method == "POST" and check_form.is_valid():
        try:
            affordability = affordability_check(
                minimum_payment=policy.minimum_monthly_payment, **check_form.cleaned_data
            )
        except ValidationError as error:
            form_add_errors(check_form, error)
    if request.method == "POST" and request.POST.get("action") == "check" and affordability is not None:
        terms_form = PlanTermsForm(
            initial={"installment_amount": affordability.suggested_payment, "frequency": "monthly"}
        )
    if request.POST.get("action") == "create" and terms_form.is_valid():
        data = terms_form.cleaned_data
        if affordability is not None and data["installment_amount"]:
            warning = affordability.warning(data["installment_amount"], data["frequency"])
        if warning and not request.POST.get("confirm_warning"):
            terms_form.add_error(
                None, warning + " Tick “I have discussed this with the patient” to go ahead."
            )
        else:
            try:
                plan = plan_create(
                    patient=patient,
                    user=request.user,
                    frequency=data["frequency"],
                    start_date=data["start_date"],
                    term=data["term"],
                    installment_amount=data["installment_amount"],
                    down_payment=data["down_payment"] or 0,
                    autopay=data["autopay"],
                    payment_method_token=data["payment_method_token"],
                    affordability=affordability,
                )
            except ValidationError as error:
                form_add_errors(terms_form, error)
            else:
                messages.success(request, f"Plan {plan.pk} created: {plan.term} installments.")
                return redirect("payment_plans:detail", plan.pk)
    return render(
        request,
        "payment_plans/plan_new.html",
        {
            "patient": patient,
            "claims": claims,
            "balance": balance,
            "policy": policy,
            "check_form": check_form,
            "terms_form": terms_form,
            "affordability": affordability,
            "warning": warning,
            "status": 400 if request.method == "POST" else 200,
        },
        status=400 if request.method == "POST" and (check_form.errors or terms_form.errors) else 200,
    )


def _detail_context(request, plan, **forms):
    return {
        "plan": plan,
        "patient": plan.patient,
        "installments": list(plan.installments.all()),
        "remaining": plan_remaining(plan),
        "payments": list(
            plan.payments.select_related("recorded_by").prefetch_related("allocations__installment")
        ),
        "history": list(plan.status_changes.select_related("by")),
        "modifications": list(plan.modifications.select_related("by")),
        "reminders": list(reminders_for_patient(plan.patient).filter(plan=plan)[:50]),
        "can_edit": role_can(request.role, "collections.edit")
        and plan.status in ("active", "delinquent", "defaulted"),
        "payment_form": forms.get("payment_form") or PlanPaymentForm(),
        "cancel_form": forms.get("cancel_form") or CancelForm(),
        "joinable": list(claims_open_for_plan(plan.patient)),
        "add_error": forms.get("add_error", ""),
    }


@role_required("collections.view")
@never_cache
def plan_view(request, pk: int):
    plan = plan_detail(request.practice, pk)
    audit_view(request, plan)
    return render(request, "payment_plans/plan_detail.html", _detail_context(request, plan))


@role_required("collections.edit")
@require_POST
def plan_pay(request, pk: int):
    plan = plan_detail(request.practice, pk)
    form = PlanPaymentForm(request.POST)
    if form.is_valid():
        try:
            payment = plan_payment_record(plan=plan, user=request.user, **form.cleaned_data)
        except ValidationError as error:
            form_add_errors(form, error)
        else:
            messages.success(
                request, f"Payment of ${payment.amount} recorded (receipt {payment.ledger_reference})."
            )
            return redirect("payment_plans:detail", plan.pk)
    plan = plan_detail(request.practice, pk)
    return render(
        request,
        "payment_plans/plan_detail.html",
        _detail_context(request, plan, payment_form=form),
        status=400,
    )


@role_required("collections.edit")
@require_POST
def plan_cancel_view(request, pk: int):
    plan = plan_detail(request.practice, pk)
    form = CancelForm(request.POST)
    if form.is_valid():
        try:
            plan_cancel(plan=plan, user=request.user, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            form_add_errors(form, error)
        else:
            messages.success(request, f"Plan {plan.pk} cancelled.")
            return redirect("payment_plans:detail", plan.pk)
    plan = plan_detail(request.practice, pk)
    return render(
        request,
        "payment_plans/plan_detail.html",
        _detail_context(request, plan, cancel_form=form),
        status=400,
    )


@role_required("collections.edit")
@require_POST
def patient_opt_out(request, patient_id: int):
    """The patient asked to stop texts or emails (by phone, at the desk): honoured at once."""
    patient = _patient(request, patient_id)
    channel = request.POST.get("channel", "")
    if channel not in ReminderChannel.values:
        messages.error(request, "Choose email or text messages.")
        return redirect("payment_plans:patient", patient.pk)
    dropped = reminder_opt_out(patient=patient, channel=channel, method="asked staff", user=request.user)
    label = ReminderChannel(channel).label.lower()
    messages.success(
        request, f"No more reminders by {label}; {dropped} waiting reminder(s) will not be sent."
    )
    return redirect("payment_plans:patient", patient.pk)


@role_required("collections.edit")
@require_POST
def plan_add_balance_view(request, pk: int):
    """The patient's new balances (claims chosen) join the plan, re-amortised at the same installment."""
    plan = plan_detail(request.practice, pk)
    wanted = {int(value) for value in request.POST.getlist("claim") if value.isdigit()}
    claims = [claim for claim in claims_open_for_plan(plan.patient) if claim.pk in wanted]
    try:
        plan_add_balance(plan=plan, claims=claims, user=request.user)
    except ValidationError as error:
        plan = plan_detail(request.practice, pk)
        return render(
            request,
            "payment_plans/plan_detail.html",
            _detail_context(request, plan, add_error=" ".join(error.messages)),
            status=400,
        )
    messages.success(request, f"Plan {plan.pk}: {len(claims)} claim(s) added; the schedule was recalculated.")
    return redirect("payment_plans:detail", plan.pk)


@role_required("collections.edit")
@never_cache
@require_http_methods(["GET", "POST"])
def plan_modify_view(request, pk: int):
    plan = plan_detail(request.practice, pk)
    form = ModifyForm(
        request.POST or None,
        initial={"frequency": plan.frequency, "installment_amount": plan.installment_amount},
    )
    if request.method == "POST" and form.is_valid():
        try:
            plan_modify(plan=plan, user=request.user, **form.cleaned_data)
        except ValidationError as error:
            form_add_errors(form, error)
        else:
            messages.success(request, f"Plan {plan.pk}: new terms saved.")
            return redirect("payment_plans:detail", plan.pk)
    return render(
        request,
        "payment_plans/plan_modify.html",
        {"plan": plan, "patient": plan.patient, "form": form, "remaining": plan_remaining(plan)},
        status=400 if form.errors else 200,
    )


@role_required("collections.view")
def plan_agreement(request, pk: int):
    plan = plan_detail(request.practice, pk)
    audit_record(
        action=AuditAction.EXPORT,
        practice=request.practice,
        object_type="payment_plans.paymentplan",
        object_id=plan.pk,
    )
    response = HttpResponse(plan_agreement_pdf(plan), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="plan-{plan.pk}-agreement.pdf"'
    response["Cache-Control"] = "no-store"
    return response


@role_required("collections.policy")
@never_cache
@require_http_methods(["GET", "POST"])
def policy(request):
    current = policy_for(request.practice)
    form = PolicyForm(request.POST or None, instance=current)
    if request.method == "POST" and form.is_valid():
        try:
            plan_policy_update(
                practice=request.practice,
                user=request.user,
                **{name: form.cleaned_data[name] for name in POLICY_FIELDS},
            )
        except ValidationError as error:
            form_add_errors(form, error)
        else:
            messages.success(request, "Payment plan policy saved.")
            return redirect("payment_plans:policy")
    return render(request, "payment_plans/policy.html", {"form": form}, status=400 if form.errors else 200)
