"""Appeal letters: drafted from the denial category's template (``templates/denials/letters/``) with the
practice, provider, patient, payer, claim, lines, codes in words and denial details filled in; editable
until final; final means rendered to PDF (WeasyPrint) and kept with the denial; then marked sent (date,
channel), which files the appeal; the outcome is recorded by hand or by the later 835 that pays."""

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.template import TemplateDoesNotExist, TemplateSyntaxError
from django.template.loader import render_to_string
from django.utils import timezone

from claims.models import ClaimAcknowledgment, ClaimLine, ClaimStatus, SubmissionBatch
from denials.models import AppealLetter, AppealOutcome, Denial, LetterChannel
from denials.reference import carc_words, rarc_words
from denials.services import APPEALABLE, UPHELD, appeal_decide, appeal_file
from denials.state_machine import OPEN_STATUSES
from rcm.pdf import html_to_pdf

# Root-cause category → letter template (a file in templates/denials/letters/).
LETTER_TEMPLATES: dict[str, str] = {
    "medical_necessity": "medical_necessity",
    "documentation": "medical_necessity",
    "authorization": "authorization",
    "timely_filing": "timely_filing",
    "coding": "coding_bundling",
    "bundling": "coding_bundling",
    "duplicate": "duplicate",
    "eligibility": "eligibility_cob",
    "coordination_of_benefits": "eligibility_cob",
}
TEMPLATE_LABELS: dict[str, str] = {
    "medical_necessity": "Medical necessity",
    "authorization": "Authorization",
    "timely_filing": "Timely filing (with proof of timely submission)",
    "coding_bundling": "Coding / bundling",
    "duplicate": "Duplicate",
    "eligibility_cob": "Eligibility / coordination of benefits",
    "general": "General reconsideration",
}


def template_for(category: str) -> str:
    return LETTER_TEMPLATES.get(category, "general")


def _person(provider) -> str:
    if provider is None:
        return ""
    name = " ".join(part for part in (provider.first_name, provider.last_name) if part)
    return f"{name}, {provider.credentials}" if provider.credentials else name


def letter_context(denial: Denial, *, signer: str = "", today: datetime.date | None = None) -> dict:
    """Everything a letter template may use, read for one denial (and its claim's other open denials)."""
    claim = denial.claim
    patient = claim.patient
    lines = list(ClaimLine.objects.filter(claim=claim, removed=False).order_by("line_number"))
    denials = list(
        Denial.objects.filter(claim=claim, status__in=OPEN_STATUSES).select_related("line").order_by("pk")
    ) or [denial]
    for d in denials:
        d.words = carc_words(d.reason_code)
        d.remarks = [f"{code} ({rarc_words(code)})" for code in d.remark_codes]
    batches = list(
        SubmissionBatch.objects.filter(batch_claims__claim=claim).order_by("created_at", "pk").distinct()
    )
    acknowledgments = [
        {
            "at": ack.at,
            "kind": ack.x12_file.get_kind_display() if ack.x12_file_id else "acknowledgment",
            "result": "accepted" if ack.accepted else "rejected: " + "; ".join(ack.reasons),
            "payer_claim_number": ack.payer_claim_number,
        }
        for ack in ClaimAcknowledgment.objects.filter(claim=claim)
        .select_related("x12_file")
        .order_by("at", "pk")
    ]
    dates = sorted({line.service_date_from for line in lines}) or [claim.service_date]
    return {
        "practice": claim.practice,
        "payer": claim.payer,
        "patient": patient,
        "patient_name": " ".join(
            p for p in (patient.first_name, patient.middle_name, patient.last_name) if p
        ),
        "coverage": claim.coverage,
        "member_id": claim.coverage.member_id if claim.coverage else "",
        "claim": claim,
        "lines": lines,
        "diagnoses": ", ".join(claim.diagnosis_codes),
        "service_dates": ", ".join(f"{day:%m/%d/%Y}" for day in dates),
        "billing_provider": _person(claim.billing_provider),
        "rendering_provider": _person(claim.rendering_provider),
        "denial": denial,
        "denials": denials,
        "remittance": denial.remittance_claim.remittance,
        "batches": batches,
        "acknowledgments": acknowledgments,
        "signer": signer or "Billing office",
        "today": today or timezone.localdate(),
    }


def letter_draft_text(
    denial: Denial, template: str, *, signer: str = "", today: datetime.date | None = None
) -> str:
    """The template filled for ``denial``; a template that is missing or broken is a ValidationError
    naming it (nothing is saved by the caller)."""
    if template not in TEMPLATE_LABELS:
        raise ValidationError({"template": f"No letter template {template!r}."}, code="letter_template")
    try:
        text = render_to_string(
            f"denials/letters/{template}.txt", letter_context(denial, signer=signer, today=today)
        )
    except (TemplateSyntaxError, TemplateDoesNotExist) as error:
        raise ValidationError(
            {
                "template": f"The {TEMPLATE_LABELS[template].lower()} letter template has an error "
                f"({error}); no letter was made. Tell an administrator."
            },
            code="letter_template",
        ) from error
    # Blank lines from template tags collapse to one.
    out, blank = [], False
    for line in text.strip().splitlines():
        if not line.strip():
            if not blank:
                out.append("")
            blank = True
        else:
            out.append(line.rstrip())
            blank = False
    return "\n".join(out) + "\n"


@transaction.atomic
def letter_create(
    *, denial: Denial, user=None, template: str = "", at: datetime.datetime | None = None
) -> AppealLetter:
    """Draft an appeal letter for ``denial`` from its category's template (or ``template``). A denial past
    its appeal deadline still gets a letter: the letter records it (``after_deadline``) and pages warn.
    ``at``: when it is drafted (default now; the demo back-dates its letters)."""
    if denial.status not in OPEN_STATUSES:
        raise ValidationError(
            f"This denial is {denial.get_status_display().lower()}: there is nothing left to appeal.",
            code="denial_closed",
        )
    template = template or template_for(denial.category)
    signer = user.get_full_name() or user.get_username() if user is not None and user.is_authenticated else ""
    at = at or timezone.now()
    body = letter_draft_text(denial, template, signer=signer, today=timezone.localdate(at))
    today = timezone.localdate(at)
    return AppealLetter.objects.create(
        practice_id=denial.practice_id,
        denial=denial,
        claim_id=denial.claim_id,
        template=template,
        body=body,
        after_deadline=bool(denial.appeal_deadline and denial.appeal_deadline < today),
        created_at=at,
        created_by=user if user is not None and user.is_authenticated else None,
    )


def _refuse_final(letter: AppealLetter) -> None:
    if letter.is_final:
        raise ValidationError("This letter is final: it can no longer be edited.", code="letter_final")


@transaction.atomic
def letter_update(*, letter: AppealLetter, body: str, user=None) -> AppealLetter:
    """Edit a draft letter's text. A final letter or an empty text is refused."""
    letter = AppealLetter.objects.select_for_update().get(pk=letter.pk)
    _refuse_final(letter)
    if not (body or "").strip():
        raise ValidationError({"body": "The letter is empty."}, code="blank_letter")
    letter.body = body.replace("\r\n", "\n")
    letter.save(update_fields=["body"])
    return letter


def render_pdf(letter: AppealLetter) -> bytes:
    paragraphs = [block.split("\n") for block in letter.body.strip().split("\n\n")]
    html = render_to_string("denials/letter_pdf.html", {"letter": letter, "paragraphs": paragraphs})
    return html_to_pdf(html)


@transaction.atomic
def letter_finalize(*, letter: AppealLetter, user=None, at: datetime.datetime | None = None) -> AppealLetter:
    """Make a draft letter final: rendered to PDF and stored with the denial; no more edits. ``at``: when
    (default now)."""
    letter = AppealLetter.objects.select_for_update().select_related("claim").get(pk=letter.pk)
    _refuse_final(letter)
    letter.pdf = render_pdf(letter)
    letter.pdf_name = f"appeal-{letter.claim.patient_control_number}-{letter.pk}.pdf"
    letter.finalized_at = at or timezone.now()
    letter.save(update_fields=["pdf", "pdf_name", "finalized_at"])
    return letter


@transaction.atomic
def letter_mark_sent(
    *,
    letter: AppealLetter,
    sent_on: datetime.date,
    channel: str,
    user=None,
    at: datetime.datetime | None = None,
) -> AppealLetter:
    """Record that the final letter went to the payer (date, channel): the claim's appeal is filed (claim
    and denials to appealed, with history; "after the deadline" recorded when it is). A draft, a letter
    already sent, an unknown channel or a date in the future is refused and nothing changes. ``at``: when it
    is recorded (default now; the demo back-dates its letters)."""
    letter = AppealLetter.objects.select_for_update().select_related("claim").get(pk=letter.pk)
    if not letter.is_final:
        raise ValidationError("Make the letter final (PDF) before marking it sent.", code="letter_draft")
    if letter.sent_on is not None:
        raise ValidationError(f"This letter was already marked sent on {letter.sent_on:%m/%d/%Y}.")
    if channel not in LetterChannel.values:
        raise ValidationError({"channel": f"Unknown channel {channel!r}: {', '.join(LetterChannel.values)}."})
    at = at or timezone.now()
    if sent_on is None or sent_on > timezone.localdate(at):
        raise ValidationError({"sent_on": "The date sent is today or earlier."})
    letter.sent_on, letter.channel = sent_on, channel
    letter.save(update_fields=["sent_on", "channel"])
    claim = letter.claim
    if claim.status in APPEALABLE:
        appeal_file(
            claim=claim,
            user=user,
            at=at,
            note=f"Appeal letter sent by {LetterChannel(channel).label.lower()}",
        )
    elif claim.status != ClaimStatus.APPEALED:
        raise ValidationError(
            f"Claim {claim.patient_control_number} is {claim.get_status_display().lower()}: "
            "it cannot be appealed now.",
            code="claim_status",
        )
    return letter


@transaction.atomic
def letter_record_outcome(*, letter: AppealLetter, outcome: str, user=None, note: str = "") -> AppealLetter:
    """Record the payer's answer to a sent letter. Upheld: the appeal is decided (claim back to denied,
    denials upheld). Overturned, fully or partly: recorded on the letter; the denials move when the 835
    that pays arrives (or at once, if it already has)."""
    letter = AppealLetter.objects.select_for_update().select_related("claim").get(pk=letter.pk)
    if letter.sent_on is None:
        raise ValidationError(
            "Mark the letter sent before recording the payer's answer.", code="letter_unsent"
        )
    if outcome not in (AppealOutcome.OVERTURNED, AppealOutcome.PARTLY_OVERTURNED, AppealOutcome.UPHELD):
        raise ValidationError({"outcome": f"Unknown outcome {outcome!r}."})
    if letter.outcome:
        raise ValidationError(f"The outcome was already recorded: {letter.get_outcome_display().lower()}.")
    if outcome == AppealOutcome.UPHELD and letter.claim.status == ClaimStatus.APPEALED:
        appeal_decide(
            claim=letter.claim, outcome=UPHELD, user=user, note=note or "Appeal upheld by the payer"
        )
        letter.refresh_from_db()
    if not letter.outcome:
        letter.outcome, letter.outcome_at = outcome, timezone.now()
        letter.save(update_fields=["outcome", "outcome_at"])
    return letter
