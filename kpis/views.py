"""The practice manager's KPI dashboard, the claims behind each number, and their CSV export."""

import datetime
from decimal import Decimal
from urllib.parse import urlencode

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from kpis.definitions import AGING_BUCKETS, BY_SLUG, DEFINITIONS, HEADLINE, STOCK
from kpis.exports import XLSX_TYPE, xlsx_bytes
from kpis.forms import KpiFilterForm, KpiTargetsForm, RevenueCycleCostForm
from kpis.models import KpiSavedView
from kpis.report import monthly_report_pdf, previous_month, report_filename
from kpis.scorecard import COLUMNS as SCORECARD_COLUMNS
from kpis.scorecard import export_rows as scorecard_export_rows
from kpis.scorecard import month_end, payer_scorecard, payer_scorecard_pdf, payer_trend
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
    revenue_cycle_costs,
    saved_views,
    snapshot_status,
)
from kpis.services import (
    kpi_recompute_request,
    kpi_saved_view_create,
    kpi_saved_view_delete,
    kpi_targets_set,
    revenue_cycle_cost_set,
)
from rcm.audit import audit_record
from rcm.exports import csv_writer
from rcm.formats import money_text
from rcm.models import AuditAction, Payer
from rcm.paging import CountedPaginator
from rcm.permissions import role_required
from rcm.practice_cache import KPI_FIGURES, practice_cached
from rcm.tenancy import get_scoped_or_404

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


def dashboard_figures(practice, *, start, end, scope: Scope, filters: dict) -> dict:
    """The dashboard's figures from the snapshots (tiles, trends, aging, payer comparison, every KPI, the
    charts' data), rendered. They change only when a computation lands or a target, cost or payer changes,
    so they are cached under the practice's ``KPI_FIGURES`` version (renewed by those services) and the
    snapshots' computation time; the denial Pareto, read live, is not among them."""
    values = kpi_values(practice, start=start, end=end, scope=scope)
    series = kpi_series(practice, slugs=TREND_KPIS, end=end, scope=scope)
    aging = aging_by_payer(practice, end=end)
    largest = max((payer["total"] for payer in aging["payers"]), default=Decimal("0"))
    for payer in aging["payers"]:
        payer["cells"] = [
            {"slug": slug, "amount": amount, "width": int(amount * 100 / largest) if largest > 0 else 0}
            for (slug, *_rest), amount in zip(AGING_BUCKETS, payer["buckets"], strict=True)
        ]
    context = {
        "start": start,
        "end": end,
        "filters": filters,
        "headline": [values[d.slug] for d in HEADLINE],
        "others": [values[d.slug] for d in DEFINITIONS if not d.headline],
        "trends": [{"definition": BY_SLUG[slug], "points": series[slug]} for slug in TREND_KPIS],
        "chart_data": _chart_data(series, aging),
        "aging": aging,
        "payers": payer_comparison(practice, start=start, end=end),
    }
    return {
        part: render_to_string(f"kpis/_figures_{part}.html", context) for part in ("top", "aging", "bottom")
    }


@role_required("kpis.view")
@never_cache
@require_GET
def dashboard(request):
    practice = request.practice
    form, status, start, end, scope = _filters(request)
    pareto = denial_pareto(practice, start=start, end=end, scope=scope)
    most = max((row["count"] for row in pareto), default=0)
    for row in pareto:
        row["width"] = int(row["count"] * 100 / most) if most else 0
    filters = {"start": start.isoformat(), "end": end.isoformat(), "scope": _scope_query(scope)}
    computed_at = status["computed_at"].isoformat() if status["computed_at"] else "never"
    figures = practice_cached(
        practice,
        f"kpi-dashboard:{filters['start']}:{filters['end']}:{filters['scope']}:{computed_at}",
        lambda: dashboard_figures(practice, start=start, end=end, scope=scope, filters=filters),
        topic=KPI_FIGURES,
    )
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
            "figures": figures,
            "pareto": pareto,
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


@role_required("kpis.targets")
@never_cache
def costs(request):
    """The revenue-cycle cost of each month (the cost to collect's numerator): the last 24 months with
    their cash and percentage, and a form to enter or correct a month. Same role as the targets."""
    today = timezone.localdate()
    initial = {"month": (today.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)}
    form = RevenueCycleCostForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            saved, changed = revenue_cycle_cost_set(
                practice=request.practice,
                month=data["month"],
                amount=data["amount"],
                note=data["note"],
                user=request.user,
                today=today,
            )
        except ValidationError as error:
            for field, problems in error.message_dict.items():
                form.add_error(field if field in form.fields else None, problems)
        else:
            messages.success(
                request,
                f"No change to {saved.month:%B %Y}."
                if not changed
                else f"Saved the cost of {saved.month:%B %Y}: {money_text(saved.amount)}.",
            )
            return redirect("kpis:costs")
    status = 400 if form.is_bound else 200
    months = revenue_cycle_costs(request.practice, end_month=today)
    return render(request, "kpis/costs.html", {"form": form, "months": months}, status=status)


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
        drilldown = denial_claims(practice, reason_code=carc, start=start, end=end, scope=scope)
        return (
            {"title": f"Claims denied with CARC {carc}", "definition": None, "part": "denial"},
            drilldown,
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
    drilldown = kpi_claims(practice, definition.slug, start=start, end=end, scope=scope, part=part)
    words = (
        definition.numerator
        if part == "numerator" or definition.denominator == "—"
        else definition.denominator
    )
    return (
        {"title": definition.name, "definition": definition, "part": part, "words": words},
        drilldown,
        start,
        end,
        scope,
    )


@role_required("kpis.view")
@never_cache
@require_GET
def claims(request):
    about, drilldown, start, end, scope = _drilldown(request)
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
        return _export(drilldown, about, end, kind)
    page = CountedPaginator(drilldown.claims, PAGE_SIZE, count=drilldown.count).get_page(
        request.GET.get("page")
    )
    page.object_list = list(drilldown.label(page.object_list))
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
            "total": drilldown.total,
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


def _claim_rows(drilldown):
    for claim in drilldown.label(drilldown.claims.iterator(chunk_size=2000)):
        yield [
            claim.patient_control_number,
            claim.patient.account_number,
            claim.payer.name if claim.payer else "Self-pay",
            claim.get_status_display(),
            claim.service_date,
            claim.charge_total,
            claim.balance,
            claim.counts_for,
        ]


def _export(drilldown, about, end, kind: str) -> HttpResponse:
    name = about["definition"].slug if about["definition"] else "denials"
    filename = f"kpi-{name}-{end.isoformat()}.{kind}"
    if kind == "xlsx":
        content = xlsx_bytes(title=about["title"], header=CSV_HEADER, rows=_claim_rows(drilldown))
        response = HttpResponse(content, content_type=XLSX_TYPE)
    else:
        response = HttpResponse(content_type="text/csv")
        writer = csv_writer(response)
        writer.writerow(CSV_HEADER)
        for row in _claim_rows(drilldown):
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


def _status_words(item) -> str:
    if not item.definition.computed:
        return f"needs {item.definition.needs}"
    return item.missing or BAND_WORDS[item.band]


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
            item.numerator if item.definition.computed and not item.missing else None,
            item.denominator if item.definition.computed else None,
            item.good,
            item.warn,
            _status_words(item),
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


# --- the payer scorecard -------------------------------------------------------------------------------

SCORECARD_MONTHS = (3, 6, 12)
SCORECARD_TRENDS = [
    ("days_to_pay", "Days to pay (mean)", "days"),
    ("initial_denial_rate", "Initial denial rate", "percent"),
    ("clean_claim_rate", "Clean claim rate", "percent"),
    ("underpaid_percent", "Underpaid % of expected", "percent"),
]


def _scorecard_period(request) -> tuple[datetime.date, datetime.date, int]:
    """The months shown: ``months`` (3, 6 or 12) ending with ``end`` (YYYY-MM, default this month).
    Unknown values fall back to the defaults, never an error."""
    months = request.GET.get("months", "")
    months = int(months) if months.isdigit() and int(months) in SCORECARD_MONTHS else 12
    try:
        end_month = datetime.date.fromisoformat(request.GET.get("end", "") + "-01")
    except ValueError:
        end_month = timezone.localdate().replace(day=1)
    start = end_month
    for _ in range(months - 1):
        start = (start - datetime.timedelta(days=1)).replace(day=1)
    return start, month_end(end_month), months


def _scorecard_context(request) -> dict:
    start, end, months = _scorecard_period(request)
    return {
        "cards": payer_scorecard(request.practice, start=start, end=end),
        "columns": SCORECARD_COLUMNS,
        "start": start,
        "end": end,
        "months": months,
        "month_choices": SCORECARD_MONTHS,
        "end_value": f"{end:%Y-%m}",
        "status": snapshot_status(request.practice),
    }


@role_required("kpis.scorecard")
@never_cache
@require_GET
def scorecard(request):
    """Every payer side by side over the chosen months; CSV and XLSX exports of the same table."""
    context = _scorecard_context(request)
    kind = request.GET.get("format", "")
    if kind in ("csv", "xlsx"):
        audit_record(
            action=AuditAction.EXPORT,
            practice=request.practice,
            object_type="kpis.payer_scorecard",
            changes={
                "start": context["start"].isoformat(),
                "end": context["end"].isoformat(),
                "format": kind,
            },
        )
        header, rows = scorecard_export_rows(context["cards"])
        filename = f"payer-scorecard-{context['start']:%Y-%m}-{context['end']:%Y-%m}.{kind}"
        if kind == "xlsx":
            response = HttpResponse(
                xlsx_bytes(title="Payer scorecard", header=header, rows=rows), content_type=XLSX_TYPE
            )
        else:
            response = HttpResponse(content_type="text/csv")
            writer = csv_writer(response)
            writer.writerow(header)
            for row in rows:
                writer.writerow(row)
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        response["Cache-Control"] = "no-store"
        return response
    return render(request, "kpis/scorecard.html", context)


def _payer_context(request, payer_id: int) -> dict:
    payer = get_scoped_or_404(Payer, request.practice, pk=payer_id)
    _start, end, _months = _scorecard_period(request)
    trend = payer_trend(request.practice, payer=payer, end=end)
    first = trend[0][0]
    cards = [
        card for card in payer_scorecard(request.practice, start=first, end=end) if card.payer_id == payer.pk
    ]
    return {
        "payer": payer,
        "practice": request.practice,
        "card": cards[0] if cards else None,
        "trend": trend,
        "trends": [
            {
                "slug": slug,
                "label": label,
                "unit": unit,
                "points": [(month, getattr(c, slug)) for month, c in trend],
            }
            for slug, label, unit in SCORECARD_TRENDS
        ],
        "columns": SCORECARD_COLUMNS,
        "start": first,
        "end": end,
        "end_value": f"{end:%Y-%m}",
        "generated_at": timezone.now(),
    }


@role_required("kpis.scorecard")
@never_cache
@require_GET
def scorecard_payer(request, payer_id: int):
    """One payer's 12 months: the totals and a trend chart per figure, each with its table."""
    context = _payer_context(request, payer_id)
    context["chart_data"] = {
        "trends": {
            t["slug"]: {
                "label": t["label"],
                "unit": t["unit"],
                "months": [month.strftime("%b %Y") for month, _v in t["points"]],
                "values": [None if value is None else str(value) for _m, value in t["points"]],
            }
            for t in context["trends"]
        }
    }
    return render(request, "kpis/scorecard_payer.html", context)


@role_required("kpis.scorecard")
@never_cache
@require_GET
def scorecard_payer_pdf(request, payer_id: int):
    """The payer's one-page scorecard to bring to a negotiation; audited as an export."""
    context = _payer_context(request, payer_id)
    audit_record(
        action=AuditAction.EXPORT,
        practice=request.practice,
        object_type="kpis.payer_scorecard",
        object_id=context["payer"].pk,
        changes={"end": context["end"].isoformat(), "format": "pdf"},
    )
    response = HttpResponse(payer_scorecard_pdf(context), content_type="application/pdf")
    filename = f"payer-scorecard-{slugify(context['payer'].name)}-{context['end']:%Y-%m}.pdf"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response
