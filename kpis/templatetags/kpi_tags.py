"""How a KPI value reads on screen: its unit, its change against the previous period."""

from decimal import Decimal

from django import template

from rcm.templatetags.rcm_tags import money

register = template.Library()


@register.filter
def kpi_value(value: Decimal | None, unit: str) -> str:
    """1.5 days, 42.8%, $1,425.00; "—" when there is nothing to divide by."""
    if value is None:
        return "—"
    if unit == "percent":
        return f"{value}%"
    if unit == "days":
        return f"{value} days"
    return money(value)


@register.filter
def kpi_change(item) -> str:
    """The change against the previous period: percentage points for a rate."""
    change = item.change
    if change is None:
        return ""
    unit = item.definition.unit
    sign = "+" if change > 0 else "−" if change < 0 else "±"
    amount = abs(change)
    if unit == "percent":
        return f"{sign}{amount} pts"
    if unit == "days":
        return f"{sign}{amount} days"
    return f"{sign}{money(amount)}"


@register.filter
def kpi_trend_class(item) -> str:
    """ "better" or "worse" for a change of a KPI with a direction, else ""."""
    change, better = item.change, item.definition.better
    if not change or better is None:
        return ""
    return "better" if (change > 0) == (better == "higher") else "worse"


@register.filter
def scorecard_cell(card, column) -> str:
    """One payer scorecard figure as read: ``column`` is (header, attribute, unit) of ``kpis.scorecard``."""
    _header, attribute, unit = column
    value = getattr(card, attribute)
    if unit == "count":
        return f"{value:,}"
    if unit == "text":
        return value
    return kpi_value(value, unit)
