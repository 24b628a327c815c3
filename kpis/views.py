"""The practice manager's KPI dashboard, the claims behind each number, and their CSV export."""

import datetime
from decimal import Decimal
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from kpis.definitions import AGING_BUCKETS, BY_SLUG, DEFINITIONS, HEADLINE, STOCK
from kpis.exports import XLSX_TYPE, xlsx_bytes
from kpis.forms import KpiFilterForm, KpiTargetsForm
from kpis.models import KpiSavedView
from kpis.report import monthly_report_pdf, previous_month, report_filename
from kpis.selectors import (
    Scope,
    aging_by_payer,
    denial_claims,
    denial_pareto,
    kpi_claims,
    kpi_series,
    kpi_targets,
    kpi_values,
    payer_comparison,
    saved_views,
    snapshot_status,
)
from kpis.services import (
    kpi_recompute_request,
    kpi_saved_view_create,
    kpi_saved_view_delete,
    kpi_targets_set,
)
from rcm.audit import audit_record
from rcm.exports import csv_writer
from rcm.models import AuditAction
from rcm.paging import CountedPaginator
from rcm.permissions import role_required

PAGE_SIZE = 50
TREND_KPIS = ["initial_denial_rate", "clean_claim_rate", "net_collection_rate", "days_in_ar"]
CSV_HEADER = [
    "PCN",
    "Patient account",
    "Payer",
    "Status",
    "Date of service",
    "Charge",
    "Balance",
    "Counts for",
]


def _filters(request):
    status = snapshot_status(request.practice)
    form = KpiFilterForm(
        request.GET or None, practice=request.practice, default_end=status["last_day"] or timezone.localdate()
    )
    start, end, scope = form.range_and_scope()
    return form, status, start, end, scope


def _scope_query(scope: Scope) -> str:
    return "" if scope.dimension == "practice" else f"{scope.dimension}:{scope.value}"


@role_required("kpis.view")
@never_cache
@require_GET
def dashboard(request):
    practice = request.practice
    form, status, start, end, scope = _filters(request)
    values = kpi_values(practice, start=start, end=end, scope=scope)
    series = kpi_series(practice, slugs=TREND_KPIS, end=end, scope=scope)
    aging = aging_by_payer(practice, end=end)
    largest = max((payer["total"] for payer in aging["payers"]), default=Decimal("0"))
    for payer in aging["payers"]:
        payer["cells"] = [
            {"slug": slug, "amount": amount, "width": int(amount * 100 / largest) if largest > 0 else 0}
            for (slug, *_rest), amount in zip(AGING_BUCKETS, payer["buckets"], strict=True)
        ]
    pareto = denial_pareto(practice, start=start, end=end, scope=scope)
    most = max((row["count"] for row in pareto), default=0)
    for row in pareto:
        row["width"] = int(row["count"] * 100 / most) if most else 0
    filters = {"start": start.isoformat(), "end": end.isoformat(), "scope": _scope_query(scope)}
    return render(
        request,
        "kpis/dashboard.html",
        {
            "form": form,
            "status": status,
            "start": start,
            "end": end,
            "days": (end - start).days + 1,
            "filters": filters,
            "headline": [values[d.slug] for d in HEADLINE],
            "others": [values[d.slug] for d in DEFINITIONS if not d.headline],
            "trends": [{"definition": BY_SLUG[slug], "points": series[slug]} for slug in TREND_KPIS],
            "chart_data": _chart_data(series, aging),
            "aging": aging,
            "pareto": pareto,
            "payers": payer_comparison(practice, start=start, end=end),
            "report_months": _report_months(end),
            "saved_views": saved_views(practice, user=request.user),
        },
    )


@role_required("kpis.targets")
@never_cache
def targets(request):
    """The practice's target band of each KPI: shown with the defaults, edited in one form."""
    current = kpi_targets(request.practice)
    form = KpiTargetsForm(request.POST if request.method == "POST" else None, current=current)
    if request.method == "POST" and form.is_valid():
        try:
            changed = kpi_targets_set(practice=request.practice, bands=form.bands())
        except ValidationError as error:
            for slug, problems in error.message_dict.items():
                form.add_error(f"{slug}-good", problems)
        else:
            messages.success(
                request,
                f"Saved {len(changed)} target{'s' if len(changed) != 1 else ''}."
                if changed
                else "No change.",
            )
            return redirect("kpis:targets")
    status = 400 if form.is_bound else 200
    return render(request, "kpis/targets.html", {"form": form}, status=status)


def _report_months(end: datetime.date, count: int = 3) -> list[datetime.date]:
    """The months offered as PDF reports: the range's last month and the ones before it."""
    months = [end.replace(day=1)]
    while len(months) < count:
        months.append(previous_month(months[-1]))
    return months


@role_required("kpis.view")
@require_POST
def saved_view_create(request):
    """Save the dashboard's current filters (posted as hidden fields) under a name."""
    form = KpiFilterForm(request.POST, practice=request.practice, default_end=timezone.localdate())
    start, end, _scope = form.range_and_scope()
    scope = form.cleaned_data.get("scope", "") if form.is_valid() else ""
    filters = {"start": start.isoformat(), "end": end.isoformat(), "scope": scope}
    try:
        saved = kpi_saved_view_create(
            practice=request.practice,
            user=request.user,
            name=request.POST.get("name", ""),
            start=start,
            end=end,
            scope=scope,
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, f"Saved the view “{saved.name}”.")
    return redirect(f"{reverse('kpis:dashboard')}?{urlencode(filters)}")


@role_required("kpis.view")
@require_POST
def saved_view_delete(request, view_id: int):
    try:
        kpi_saved_view_delete(practice=request.practice, user=request.user, view_id=view_id)
    except KpiSavedView.DoesNotExist:
        raise Http404("No such saved view.") from None
    messages.success(request, "Deleted the saved view.")
    return redirect("kpis:dashboard")


def _chart_data(series, aging) -> dict:
    """What the charts draw, as plain JSON (numbers as strings turned to floats only for drawing)."""
    return {
        "trends": {
            slug: {
                "label": BY_SLUG[slug].name,
                "unit": BY_SLUG[slug].unit,
                "months": [p["month"].strftime("%b %Y") for p in points],
                "values": [None if p["value"] is None else str(p["value"]) for p in points],
            }
            for slug, points in series.items()
        },
        "aging": {
            "buckets": [label for _slug, label, *_rest in AGING_BUCKETS],
            "payers": [
                {"name": p["name"], "amounts": [str(a) for a in p["buckets"]]} for p in aging["payers"]
            ],
        },
    }


@role_required("kpis.view")
@require_POST
def recompute(request):
    start, end = kpi_recompute_request(practice=request.practice, today=timezone.localdate())
    messages.success(
        request,
        f"Recompute queued for {start:%m/%d/%Y} to {end:%m/%d/%Y}; the numbers update when it finishes.",
    )
    return redirect("kpis:dashboard")


def _drilldown(request):
    """The claims behind one number: a KPI (``kpi``, ``part``) or a denial reason (``carc``)."""
    practice = request.practice
    _form, _status, start, end, scope = _filters(request)
    carc = request.GET.get("carc", "").strip()
    if carc:
        if not carc.isalnum() or len(carc) > 5:
            raise Http404("No such reason code.")
        claims, amounts = denial_claims(practice, reason_code=carc, start=start, end=end, scope=scope)
        return (
            {"title": f"Claims denied with CARC {carc}", "definition": None, "part": "denial"},
            claims,
            amounts,
            start,
            end,
            scope,
        )
    definition = BY_SLUG.get(request.GET.get("kpi", ""))
    if definition is None or not definition.computed:
        raise Http404("No such KPI.")
    part = request.GET.get("part", "denominator")
    if part not in ("numerator", "denominator"):
        part = "denominator"
    claims, amounts = kpi_claims(practice, definition.slug, start=start, end=end, scope=scope, part=part)
    words = (
        definition.numerator
        if part == "numerator" or definition.denominator == "—"
        else definition.denominator
    )
    return (
        {"title": definition.name, "definition": definition, "part": part, "words": words},
        claims,
        amounts,
        start,
        end,
        scope,
    )


@role_required("kpis.view")
@never_cache
@require_GET
def claims(request):
    about, claims, amounts, start, end, scope = _drilldown(request)
    kind = request.GET.get("format")
    if kind in ("csv", "xlsx"):
        audit_record(
            action=AuditAction.EXPORT,
            practice=request.practice,
            object_type="claims.claim",
            changes={
                "kpi": request.GET.get("kpi") or request.GET.get("carc"),
                "start": start.isoformat(),
                "end": end.isoformat(),
                "format": kind,
            },
        )
        return _export(claims, amounts, about, end, kind)
    page = CountedPaginator(claims, PAGE_SIZE, count=len(amounts)).get_page(request.GET.get("page"))
    for claim in page.object_list:
        claim.counts_for = amounts.get(claim.pk)
    query = request.GET.copy()
    query.pop("page", None)
    export = query.copy()
    export["format"] = "csv"
    export_xlsx = query.copy()
    export_xlsx["format"] = "xlsx"
    other_part = query.copy()
    other_part["part"] = "denominator" if about["part"] == "numerator" else "numerator"
    return render(
        request,
        "kpis/claims.html",
        {
            **about,
            "page": page,
            "start": start,
            "end": end,
            "stock": about["definition"] is not None and about["definition"].kind == STOCK,
            "scope": scope,
            "querystring": query.urlencode(),
            "export_query": export.urlencode(),
            "export_xlsx_query": export_xlsx.urlencode(),
            "other_part_query": other_part.urlencode(),
            "total": sum(amounts.values(), Decimal("0")),
        },
    )


@role_required("kpis.view")
@never_cache
@require_GET
def report(request, year: int, month: int):
    """The month's PDF report, made on demand; audited as an export."""
    if not 1 <= month <= 12 or year < 2000:
        raise Http404("No such month.")
    first = datetime.date(year, month, 1)
    audit_record(
        action=AuditAction.EXPORT,
        practice=request.practice,
        object_type="kpis.report",
        changes={"month": f"{first:%Y-%m}", "format": "pdf"},
    )
    response = HttpResponse(monthly_report_pdf(request.practice, month=first), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{report_filename(first)}"'
    response["Cache-Control"] = "no-store"
    return response


def _claim_rows(claims, amounts):
    for claim in claims.iterator(chunk_size=2000):
        yield [
            claim.patient_control_number,
            claim.patient.account_number,
            claim.payer.name if claim.payer else "Self-pay",
            claim.get_status_display(),
            claim.service_date,
            claim.charge_total,
            claim.balance,
            amounts.get(claim.pk),
        ]


def _export(claims, amounts, about, end, kind: str) -> HttpResponse:
    name = about["definition"].slug if about["definition"] else "denials"
    filename = f"kpi-{name}-{end.isoformat()}.{kind}"
    if kind == "xlsx":
        content = xlsx_bytes(title=about["title"], header=CSV_HEADER, rows=_claim_rows(claims, amounts))
        response = HttpResponse(content, content_type=XLSX_TYPE)
    else:
        response = HttpResponse(content_type="text/csv")
        writer = csv_writer(response)
        writer.writerow(CSV_HEADER)
        for row in _claim_rows(claims, amounts):
            writer.writerow(row)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


KPI_TABLE_HEADER = [
    "KPI",
    "Key",
    "Unit",
    "Value",
    "Previous period",
    "Change",
    "Numerator",
    "Denominator",
    "Target",
    "Warning to",
    "Status",
    "Formula",
]
BAND_WORDS = {"ok": "on target", "warn": "near target", "bad": "off target", "": ""}


@role_required("kpis.view")
@never_cache
@require_GET
def kpi_table_export(request):
    """Every KPI of the dashboard's range and scope as an XLSX sheet; audited as an export."""
    _form, _status, start, end, scope = _filters(request)
    values = kpi_values(request.practice, start=start, end=end, scope=scope)
    audit_record(
        action=AuditAction.EXPORT,
        practice=request.practice,
        object_type="kpis.kpi_table",
        changes={
            "start": start.isoformat(),
            "end": end.isoformat(),
            "scope": _scope_query(scope),
            "format": "xlsx",
        },
    )
    rows = [
        [
            item.definition.name,
            item.definition.slug,
            item.definition.unit,
            item.value,
            item.previous,
            item.change,
            item.numerator if item.definition.computed else None,
            item.denominator if item.definition.computed else None,
            item.good,
            item.warn,
            BAND_WORDS[item.band] if item.definition.computed else f"needs {item.definition.needs}",
            item.definition.formula,
        ]
        for item in values.values()
    ]
    content = xlsx_bytes(title=f"KPIs {start:%Y-%m-%d} to {end:%Y-%m-%d}", header=KPI_TABLE_HEADER, rows=rows)
    response = HttpResponse(content, content_type=XLSX_TYPE)
    response["Content-Disposition"] = (
        f'attachment; filename="kpis-{start.isoformat()}-{end.isoformat()}.xlsx"'
    )
    response["Cache-Control"] = "no-store"
    return response
