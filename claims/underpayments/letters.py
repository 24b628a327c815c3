"""The underpayment appeal letter: one page to the payer naming the contract, the fee schedule rows and
what each line was paid against what the contract says, drawn to PDF by WeasyPrint.

The denials app is growing its own appeal-letter machinery; this letter has its own template until that
lands (claims does not import denials), and is rendered from the same evidence the pages show."""

from django.template.loader import render_to_string
from django.utils import timezone

from claims.models import Underpayment
from rcm.pdf import html_to_pdf


def underpayment_letter_context(underpayment: Underpayment) -> dict:
    """``underpayment`` as read by ``underpayment_detail`` (with its evidence)."""
    lines = [line for line in underpayment.evidence if line.kind == "underpaid"]
    contracts = list({line.contract_id: line.contract for line in lines if line.contract}.values())
    return {
        "underpayment": underpayment,
        "claim": underpayment.claim,
        "practice": underpayment.claim.practice,
        "payer": underpayment.payer,
        "lines": lines,
        "contracts": contracts,
        "today": timezone.localdate(),
    }


def underpayment_letter_pdf(underpayment: Underpayment) -> bytes:
    html = render_to_string("claims/underpayment_letter.html", underpayment_letter_context(underpayment))
    return html_to_pdf(html)


def letter_filename(underpayment: Underpayment) -> str:
    return f"underpayment-appeal-{underpayment.claim.patient_control_number}.pdf"
