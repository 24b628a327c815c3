"""The payers and contracts pages (manager and admin): payers, their contracts with effective dating and
terms, a new rate year from a date, and each contract's fee schedule (load a CSV or XLSX file with a
preview, export it). Thin: parse, call a selector or service, render."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from rcm.audit import audit_record
from rcm.contracts import services
from rcm.contracts.fee_schedules import (
    FeeScheduleRefused,
    fee_schedule_apply,
    fee_schedule_csv,
    fee_schedule_preview,
    fee_schedule_xlsx,
)
from rcm.contracts.forms import ContractForm, FeeScheduleUploadForm, PayerForm, RateYearForm
from rcm.contracts.selectors import (
    contract_base_warning,
    contract_fee_rows,
    contract_imports,
    payer_contracts,
    payer_list,
)
from rcm.exports import XLSX_TYPE
from rcm.models import AuditAction, FeeScheduleImport, FeeScheduleImportStatus, Payer, PayerContract
from rcm.permissions import role_required
from rcm.roles import role_can
from rcm.tenancy import get_scoped_or_404

PREVIEW_ROWS = 25


def _form_refused(form, error: ValidationError) -> None:
    if hasattr(error, "error_dict"):
        for field, problems in error.message_dict.items():
            form.add_error(field if field in form.fields else None, problems)
    else:
        form.add_error(None, error.messages)


@role_required("payers.view")
def payers(request):
    return render(
        request,
        "payers/payer_list.html",
        {
            "payers": payer_list(request.practice, today=timezone.localdate()),
            "can_edit": role_can(request.role, "payers.edit"),
        },
    )


@role_required("payers.edit")
def payer_new(request):
    form = PayerForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            payer = services.payer_create(practice=request.practice, **form.cleaned_data)
        except ValidationError as error:
            _form_refused(form, error)
        else:
            messages.success(request, f"Payer {payer.name} created.")
            return redirect("payers:detail", payer.pk)
    return render(request, "payers/payer_form.html", {"form": form}, status=400 if form.errors else 200)


@role_required("payers.view")
def payer_detail(request, pk: int):
    payer = get_scoped_or_404(Payer, request.practice, pk=pk)
    contracts = list(payer_contracts(payer))
    today = timezone.localdate()
    for contract in contracts:
        contract.in_force = contract.effective_date <= today and (
            contract.end_date is None or today <= contract.end_date
        )
    return render(
        request,
        "payers/payer_detail.html",
        {"payer": payer, "contracts": contracts, "can_edit": role_can(request.role, "payers.edit")},
    )


@role_required("payers.edit")
def payer_edit(request, pk: int):
    payer = get_scoped_or_404(Payer, request.practice, pk=pk)
    form = PayerForm(request.POST or None, instance=payer)
    if request.method == "POST" and form.is_valid():
        try:
            services.payer_update(payer=payer, **form.cleaned_data)
        except ValidationError as error:
            _form_refused(form, error)
        else:
            messages.success(request, "Payer saved.")
            return redirect("payers:detail", payer.pk)
    return render(
        request, "payers/payer_form.html", {"form": form, "payer": payer}, status=400 if form.errors else 200
    )


@role_required("payers.edit")
@require_POST
def payer_active(request, pk: int):
    """Deactivate (``active=0``) or reactivate the payer."""
    payer = get_scoped_or_404(Payer, request.practice, pk=pk)
    if request.POST.get("active") == "1":
        services.payer_activate(payer=payer)
        messages.success(request, f"{payer.name} is active again.")
    else:
        services.payer_deactivate(payer=payer)
        messages.success(request, f"{payer.name} is deactivated: its history stays.")
    return redirect("payers:detail", payer.pk)


@role_required("payers.edit")
def contract_new(request, pk: int):
    payer = get_scoped_or_404(Payer, request.practice, pk=pk)
    form = ContractForm(request.POST or None, practice=request.practice, payer=payer)
    if request.method == "POST" and form.is_valid():
        try:
            contract = services.contract_create(practice=request.practice, payer=payer, **form.cleaned_data)
        except ValidationError as error:
            _form_refused(form, error)
        else:
            messages.success(request, f"Contract {contract.name} created.")
            return redirect("payers:contract", contract.pk)
    return render(
        request,
        "payers/contract_form.html",
        {"form": form, "payer": payer},
        status=400 if form.errors else 200,
    )


@role_required("payers.edit")
def contract_edit(request, pk: int):
    contract = get_scoped_or_404(PayerContract.objects.select_related("payer"), request.practice, pk=pk)
    form = ContractForm(
        request.POST or None, instance=contract, practice=request.practice, payer=contract.payer
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.contract_update(contract=contract, **form.cleaned_data)
        except ValidationError as error:
            _form_refused(form, error)
        else:
            messages.success(request, "Contract saved.")
            return redirect("payers:contract", contract.pk)
    return render(
        request,
        "payers/contract_form.html",
        {"form": form, "payer": contract.payer, "contract": contract},
        status=400 if form.errors else 200,
    )


def _contract_page(request, contract, *, rate_year_form=None, upload_form=None, status=200):
    rows = Paginator(contract_fee_rows(contract), 100).get_page(request.GET.get("page"))
    return render(
        request,
        "payers/contract_detail.html",
        {
            "contract": contract,
            "base_warning": contract_base_warning(contract),
            "rows": rows,
            "imports": list(contract_imports(contract)[:10]),
            "can_edit": role_can(request.role, "payers.edit"),
            "rate_year_form": rate_year_form or RateYearForm(),
            "upload_form": upload_form or FeeScheduleUploadForm(),
        },
        status=status,
    )


def _contract(request, pk: int) -> PayerContract:
    return get_scoped_or_404(
        PayerContract.objects.select_related("payer", "base_payer"), request.practice, pk=pk
    )


@role_required("payers.view")
def contract_detail(request, pk: int):
    return _contract_page(request, _contract(request, pk))


@role_required("payers.edit")
@require_POST
def contract_rate_year(request, pk: int):
    contract = _contract(request, pk)
    form = RateYearForm(request.POST)
    if form.is_valid():
        try:
            new = services.contract_new_rate_year(contract=contract, user=request.user, **form.cleaned_data)
        except ValidationError as error:
            _form_refused(form, error)
        else:
            messages.success(
                request,
                f"New rate year: {new.name} from {new.effective_date:%m/%d/%Y}, with the same terms and "
                f"fee rows; {contract.name} now ends the day before.",
            )
            return redirect("payers:contract", new.pk)
    return _contract_page(request, contract, rate_year_form=form, status=400)


@role_required("payers.edit")
@require_POST
def fee_schedule_upload(request, pk: int):
    """Check the file and show the preview (or every problem): nothing changes until it is confirmed."""
    contract = _contract(request, pk)
    form = FeeScheduleUploadForm(request.POST, request.FILES)
    if not form.is_valid():
        return _contract_page(request, contract, upload_form=form, status=400)
    upload = form.cleaned_data["file"]
    try:
        preview = fee_schedule_preview(
            contract=contract, file_name=upload.name, content=upload.read(), user=request.user
        )
    except ValidationError as error:
        _form_refused(form, error)
        return _contract_page(request, contract, upload_form=form, status=400)
    return render(
        request,
        "payers/fee_schedule_preview.html",
        {
            "contract": contract,
            "preview": preview,
            "report": preview.report,
            "sample": preview.report.lines[:PREVIEW_ROWS],
        },
        status=200 if preview.report.ok else 400,
    )


@role_required("payers.edit")
@require_POST
def fee_schedule_confirm(request, pk: int, import_pk: int):
    contract = _contract(request, pk)
    fee_import = get_scoped_or_404(
        FeeScheduleImport.objects.defer("content"), request.practice, pk=import_pk, contract=contract
    )
    if fee_import.status == FeeScheduleImportStatus.APPLIED:
        messages.info(request, f"{fee_import.file_name} was already applied: nothing changed.")
        return redirect("payers:contract", contract.pk)
    try:
        fee_import = fee_schedule_apply(fee_import=fee_import, user=request.user)
    except FeeScheduleRefused as refused:
        messages.error(request, str(refused.report.summary))
        return redirect("payers:contract", contract.pk)
    counts = fee_import.counts
    messages.success(
        request,
        f"Fee schedule loaded from {fee_import.file_name}: {counts['added']} added, "
        f"{counts['changed']} changed, "
        f"{counts['removed']} removed, {counts['unchanged']} unchanged.",
    )
    return redirect("payers:contract", contract.pk)


@role_required("payers.view")
def fee_schedule_export(request, pk: int, kind: str):
    if kind not in ("csv", "xlsx"):
        raise Http404("Export as .csv or .xlsx.")
    contract = _contract(request, pk)
    audit_record(
        action=AuditAction.EXPORT,
        practice=request.practice,
        object_type="rcm.payercontract",
        object_id=contract.pk,
        changes={"fee_schedule": kind},
    )
    name = f"fee-schedule-{contract.pk}.{kind}"
    if kind == "xlsx":
        response = HttpResponse(fee_schedule_xlsx(contract), content_type=XLSX_TYPE)
    else:
        response = HttpResponse(fee_schedule_csv(contract), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return response
