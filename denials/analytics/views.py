"""The denial analytics pages: the numbers with their charts and tables, the denials behind any number, and
a CSV of every table."""

from decimal import Decimal

from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from denials.analytics.selectors import (
    DRILLS,
    VIEWS,
    AnalyticsFilters,
    analytics_choices,
    denial_analytics,
    drill_denials,
)
from denials.reference import carc_words
from rcm.audit import audit_record
from rcm.exports import csv_writer
from rcm.models import AuditAction
from rcm.paging import CountedPaginator
from rcm.permissions import role_required

PAGE_SIZE = 50

# Each table of the page: its title, the label of its key column, whether its rows have a denominator.
TABLES = {
    "month": ("Over time", "Month", True),
    "payer": ("By payer", "Payer", True),
    "provider": ("By rendering provider", "Provider", True),
    "procedure": ("By procedure (lines)", "Procedure", True),
    "category": ("Root causes (Pareto by dollars)", "Category", False),
    "carc": ("By CARC", "CARC", False),
    "owner": ("By owner", "Owner", False),
}


def _chart_data(analytics) -> dict:
    drill = reverse("denials:analytics_denials")

    def points(rows):
        return [
            {
                "label": row.label,
                "amount": str(row.amount),
                "denials": row.denials,
                "rate": None if row.rate is None else str(row.rate),
                "cumulative": None if row.cumulative is None else str(row.cumulative),
                "url": f"{drill}?{row.query}",
            }
            for row in rows
        ]

    return {
        "month": points(analytics.month),
        "pareto": points(analytics.category),
        "payer": points(analytics.payer[:12]),
    }


@role_required("denials.view")
@never_cache
@require_GET
def analytics(request):
    practice = request.practice
    filters, errors = AnalyticsFilters.from_query(request.GET, today=timezone.localdate())
    payers, providers = analytics_choices(practice)
    numbers = denial_analytics(practice, filters, payers=payers, providers=providers)
    view = request.GET.get("view", "")
    if request.GET.get("format") == "csv" and view in VIEWS:
        audit_record(
            action=AuditAction.EXPORT,
            practice=practice,
            object_type="denials.analytics",
            changes={"view": view, **filters.params()},
        )
        return _export(numbers, view)
    return render(
        request,
        "denials/analytics.html",
        {
            "analytics": numbers,
            "summary": numbers.summary,
            "filters": filters,
            "errors": errors,
            "payers": payers,
            "providers": providers,
            "base_query": filters.query(),
            "tables": [
                {
                    "key": key,
                    "title": title,
                    "label": label,
                    "has_rate": has_rate,
                    "rows": getattr(numbers, key),
                    "pareto": key == "category",
                }
                for key, (title, label, has_rate) in TABLES.items()
            ],
            "chart_data": _chart_data(numbers),
        },
    )


def _cell(value, label: str) -> str:
    """Percentages and days with their one decimal; money to the cent."""
    if isinstance(value, Decimal) and ("%" in label or "days" in label.lower()):
        return str(value)
    return value


def _export(numbers, view: str) -> HttpResponse:
    response = HttpResponse(content_type="text/csv")
    filters = numbers.filters
    response["Content-Disposition"] = (
        f'attachment; filename="denials-{view}-{filters.start.isoformat()}-{filters.end.isoformat()}.csv"'
    )
    response["Cache-Control"] = "no-store"
    writer = csv_writer(response)
    if view == "summary":
        s = numbers.summary
        writer.writerow(["Measure", "Value"])
        for label, value in (
            ("From", filters.start),
            ("To", filters.end),
            ("Claim adjudications", s.adjudicated),
            ("Charges adjudicated", s.charges),
            ("Adjudications with a denial", s.denied_claims),
            ("Denials", s.denials),
            ("Denied amount", s.amount),
            ("Denial rate by count (%)", s.rate),
            ("Denial rate by dollars (%)", s.rate_amount),
            ("Preventable denied amount", s.preventable_amount),
            ("Preventable share of denied dollars (%)", s.preventable_share),
            ("Appeals decided", s.appeals_decided),
            ("Appeals won (fully or partly)", s.appeals_won),
            ("Appeal overturn rate (%)", s.overturn_rate),
            ("Denials resolved", s.resolved),
            ("Mean days to resolve", s.days_to_resolve),
        ):
            writer.writerow([label, _cell(value, label)])
        return response
    _title, label, has_rate = TABLES[view]
    header = [label, "Denials", "Adjudications with a denial", "Denied amount", "Share of denied dollars (%)"]
    if has_rate:
        header += [
            "Adjudicated",
            "Charges adjudicated",
            "Denial rate by count (%)",
            "Denial rate by dollars (%)",
        ]
    if view == "category":
        header.append("Cumulative share (%)")
    writer.writerow(header)
    for row in getattr(numbers, view):
        cells = [row.label, row.denials, row.denied_claims, row.amount, row.share]
        if has_rate:
            cells += [row.adjudicated, row.charges, row.rate, row.rate_amount]
        if view == "category":
            cells.append(row.cumulative)
        writer.writerow([_cell(cell, name) for cell, name in zip(cells, header, strict=True)])
    return response


@role_required("denials.view")
@never_cache
@require_GET
def analytics_denials(request):
    """The denials behind one number of the analytics page, largest first, each linked to its claim."""
    practice = request.practice
    filters, errors = AnalyticsFilters.from_query(request.GET, today=timezone.localdate())
    denials, said = drill_denials(practice, filters, request.GET)
    drill = {
        key: request.GET[key] for key in DRILLS if key in request.GET and key not in ("payer", "provider")
    }
    if request.GET.get("format") == "csv":
        audit_record(
            action=AuditAction.EXPORT,
            practice=practice,
            object_type="denials.denial",
            changes={"view": "analytics_denials", **filters.params(**drill)},
        )
        return _export_denials(denials, filters)
    page = CountedPaginator(denials, PAGE_SIZE).get_page(request.GET.get("page"))
    payers, providers = analytics_choices(practice)
    for denial in page.object_list:
        denial.carc_words = carc_words(denial.reason_code)
    if filters.payer:
        said.insert(0, f"payer {payers.get(filters.payer, '(unknown)')}")
    if filters.provider:
        said.insert(0, f"provider {providers.get(filters.provider, '(unknown)')}")
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "denials/analytics_denials.html",
        {
            "page": page,
            "filters": filters,
            "errors": errors,
            "said": said,
            "querystring": query.urlencode(),
            "back_query": filters.query(),
        },
    )


def _export_denials(denials, filters) -> HttpResponse:
    response = HttpResponse(content_type="text/csv")
    response["Content-Disposition"] = (
        f'attachment; filename="denials-{filters.start.isoformat()}-{filters.end.isoformat()}.csv"'
    )
    response["Cache-Control"] = "no-store"
    writer = csv_writer(response)
    writer.writerow(
        [
            "Remit date",
            "PCN",
            "Payer",
            "Procedure",
            "Group",
            "CARC",
            "Category",
            "Owner",
            "Preventable",
            "Status",
            "Amount",
        ]
    )
    for denial in denials.iterator(chunk_size=2000):
        writer.writerow(
            [
                value
                for value in (
                    denial.remit_date,
                    denial.claim.patient_control_number,
                    denial.claim.payer.name if denial.claim.payer else "Self-pay",
                    denial.line.procedure_code if denial.line else "whole claim",
                    denial.group_code,
                    denial.reason_code,
                    denial.get_category_display(),
                    denial.get_owner_display(),
                    "yes" if denial.preventable else "no",
                    denial.get_status_display(),
                    denial.amount,
                )
            ]
        )
    return response
