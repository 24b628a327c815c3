"""Template tags for claims: the status badge."""

from django import template
from django.utils.html import format_html

from claims.models import ClaimStatus

register = template.Library()

# Claim status -> badge tone: ok = settled in our favour, warn = waiting on someone, bad = needs work.
STATUS_TONES: dict[str, str] = {
    "draft": "",
    "ready": "",
    "submitted": "warn",
    "accepted": "warn",
    "rejected": "bad",
    "corrected": "warn",
    "paid": "ok",
    "partially_paid": "warn",
    "denied": "bad",
    "forwarded": "warn",
    "appealed": "warn",
    "written_off": "bad",
    "patient_billed": "warn",
    "voided": "",
}


@register.simple_tag
def status_badge(status: str, label: str = ""):
    """``{% status_badge claim.status claim.get_status_display %}`` -> a coloured badge."""
    if not label:
        label = ClaimStatus(status).label if status in ClaimStatus.values else status
    tone = STATUS_TONES.get(status, "")
    return format_html(
        '<span class="badge{}" data-status="{}">{}</span>', f" {tone}" if tone else "", status, label
    )
