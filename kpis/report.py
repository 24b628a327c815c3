"""The monthly PDF report of a practice: the month's headline KPIs against their targets and the month
before, 12-month trends (server-drawn SVG with the numbers beside), A/R aging by payer, the denial Pareto,
the payer comparison and every KPI's formula in words. Reads snapshots only (``kpis.selectors``)."""

import datetime

from django.template.loader import render_to_string
from django.utils import timezone

from kpis.charts import bar_chart_svg
from kpis.definitions import AGING_BUCKETS, BY_SLUG, DEFINITIONS, HEADLINE
from kpis.selectors import aging_by_payer, denial_pareto, kpi_series, kpi_values, payer_comparison
from rcm.pdf import html_to_pdf

REPORT_TRENDS = ["initial_denial_rate", "clean_claim_rate", "net_collection_rate", "days_in_ar"]


def month_bounds(month: datetime.date) -> tuple[datetime.date, datetime.date]:
    """The first and last day of ``month``'s month."""
    first = month.replace(day=1)
    following = (first + datetime.timedelta(days=32)).replace(day=1)
    return first, following - datetime.timedelta(days=1)


def previous_month(month: datetime.date) -> datetime.date:
    return (month.replace(day=1) - datetime.timedelta(days=1)).replace(day=1)


def monthly_report(practice, *, month: datetime.date) -> dict:
    """Everything the report prints for ``month`` (any day of it)."""
    start, end = month_bounds(month)
    before_start, before_end = month_bounds(previous_month(start))
    current = kpi_values(practice, start=start, end=end)
    before = kpi_values(practice, start=before_start, end=before_end)
    for slug, item in current.items():
        # The report compares with the calendar month before, not with the same number of days before.
        item.previous = before[slug].value
    series = kpi_series(practice, slugs=REPORT_TRENDS, end=end)
    trends = []
    for slug in REPORT_TRENDS:
        definition, points = BY_SLUG[slug], series[slug]
        trends.append(
            {
                "definition": definition,
                "points": points,
                "svg": bar_chart_svg(
                    title=f"{definition.name} by month to {end:%b %Y}",
                    labels=[f"{p['month']:%b}" for p in points],
                    values=[p["value"] for p in points],
                    suffix={"percent": "%", "days": " d"}.get(definition.unit, ""),
                ),
            }
        )
    return {
        "practice": practice,
        "month": start,
        "start": start,
        "end": end,
        "previous": before_start,
        "headline": [current[d.slug] for d in HEADLINE],
        "others": [current[d.slug] for d in DEFINITIONS if not d.headline],
        "trends": trends,
        "aging": aging_by_payer(practice, end=end),
        "aging_buckets": [label for _slug, label, *_rest in AGING_BUCKETS],
        "pareto": denial_pareto(practice, start=start, end=end),
        "payers": payer_comparison(practice, start=start, end=end),
        "definitions": DEFINITIONS,
        "generated_at": timezone.now(),
    }


def monthly_report_pdf(practice, *, month: datetime.date) -> bytes:
    """The report as PDF bytes (WeasyPrint; no JavaScript, no fetches: charts and styles are inline)."""
    html = render_to_string("kpis/report.html", monthly_report(practice, month=month))
    return html_to_pdf(html)


def report_filename(month: datetime.date) -> str:
    return f"kpi-report-{month:%Y-%m}.pdf"
