"""Charts for the monthly PDF report, drawn server-side as inline SVG from the numbers (a PDF runs no
JavaScript). Each chart is small, plain and labelled; the report prints the same numbers in a table beside
it, so the chart never has to be read for a value."""

from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 300, 140
LEFT, RIGHT, TOP, BOTTOM = 34, 6, 14, 22  # room for the scale and the month labels
BAR = "#2f6fb0"
GRID = "#d5dbe3"
TEXT = "#333"


def _scale_top(largest: Decimal) -> Decimal:
    """A round number at or above ``largest`` for the top of the scale (1, 2, 2.5 or 5 × a power of ten)."""
    if largest <= 0:
        return Decimal("1")
    power = Decimal(10) ** (largest.adjusted())
    for step in (1, 2, Decimal("2.5"), 5, 10):
        if largest <= power * step:
            return power * step
    return power * 10


def _number(value: Decimal) -> str:
    return f"{value.normalize():f}" if value == value.to_integral_value() else f"{value:.1f}"


def bar_chart_svg(
    *, title: str, labels: list[str], values: list[Decimal | None], suffix: str = ""
) -> SafeString:
    """Bars for ``values`` over ``labels`` (a missing value leaves a gap), with a scale from zero to a round
    top whose numbers end in ``suffix`` ("%", " d"); ``title`` is the chart's accessible name."""
    top = _scale_top(max((v for v in values if v is not None), default=Decimal("0")))
    plot_width, plot_height = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    slot = plot_width / max(len(values), 1)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(title)}">',
        f"<title>{escape(title)}</title>",
    ]
    for fraction in (Decimal("0"), Decimal("0.5"), Decimal("1")):
        y = TOP + plot_height * float(1 - fraction)
        parts.append(f'<line x1="{LEFT}" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="{GRID}"/>')
        parts.append(
            f'<text x="{LEFT - 4}" y="{y + 3:.1f}" font-size="8" text-anchor="end" fill="{TEXT}">'
            f"{_number(top * fraction)}{escape(suffix)}</text>"
        )
    for index, (label, value) in enumerate(zip(labels, values, strict=True)):
        x = LEFT + slot * index
        if value is not None and value > 0:
            height = plot_height * float(min(value, top) / top)
            parts.append(
                f'<rect x="{x + slot * 0.15:.1f}" y="{TOP + plot_height - height:.1f}" '
                f'width="{slot * 0.7:.1f}" height="{height:.1f}" fill="{BAR}"/>'
            )
        parts.append(
            f'<text x="{x + slot / 2:.1f}" y="{HEIGHT - 8}" font-size="7" text-anchor="middle" '
            f'fill="{TEXT}">{escape(label)}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308 - every text inside is escaped above
