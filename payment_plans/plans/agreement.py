"""The plan agreement PDF (WeasyPrint): who owes what, the schedule, autopay, and the practice's policy."""

from django.template.loader import render_to_string
from django.utils import timezone

from payment_plans.plans.selectors import plan_remaining, policy_for


def plan_agreement_pdf(plan) -> bytes:
    from weasyprint import HTML  # heavy import (Pango, fonts): loaded only when an agreement is made

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
    return HTML(string=html).write_pdf()
