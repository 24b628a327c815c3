"""The plan agreement PDF (WeasyPrint): who owes what, the schedule, autopay, and the practice's policy."""

from django.template.loader import render_to_string
from django.utils import timezone

from payment_plans.plans.selectors import plan_remaining, policy_for
from rcm.pdf import html_to_pdf


def plan_agreement_pdf(plan) -> bytes:
    html = render_to_string(
        "payment_plans/plan_agreement_pdf.html",
        {
            "plan": plan,
            "practice": plan.practice,
            "patient": plan.patient,
            "installments": list(plan.installments.order_by("sequence")),
            "claims": list(plan.claims.order_by("service_date", "id")),
            "remaining": plan_remaining(plan),
            "policy": policy_for(plan.practice),
            "today": timezone.localdate(),
        },
    )
    return html_to_pdf(html)
