"""Denial pages: the work queue (filters, take next, bulk assign, CSV), a denial's page (history, notes,
letters, actions), the denials panel of the claim page, the appeal letter pages and the manager's
root-cause rules. Views parse input, call a selector or service and render; services say what is wrong."""

import datetime

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from claims.models import Claim, ClaimStatus
from claims.queues.selectors import DEADLINE_SOON_DAYS, queue_assignees
from denials import letters as letter_services
from denials import selectors, services
from denials.models import AppealLetter, AppealOutcome, Denial, DenialStatus, LetterChannel
from denials.reference import CATEGORY_CHOICES, OWNER_CHOICES
from denials.state_machine import OPEN_STATUSES
from rcm.audit import audit_record, audit_view
from rcm.exports import csv_writer
from rcm.models import AuditAction, Payer, Provider
from rcm.paging import CountedPaginator
from rcm.permissions import role_required
from rcm.roles import role_can
from rcm.tenancy import get_scoped_or_404, scoped

PAGE_SIZE = 50
EXPORT_HEADER = [
    "Denial",
    "PCN",
    "Payer",
    "Provider",
    "Line",
    "Procedure",
    "Group",
    "CARC",
    "CARC in words",
    "RARCs",
    "Category",
    "Owner",
    "Preventable",
    "Status",
    "Amount",
    "Recovered",
    "Recoverable",
    "Remit date",
    "Appeal deadline",
    "Days left",
    "Assigned to",
]


def _person(user) -> str:
    return (user.get_full_name() or user.get_username()) if user is not None else ""


def _error_text(error: ValidationError) -> str:
    if hasattr(error, "error_dict"):
        return " ".join(message for messages_ in error.message_dict.values() for message in messages_)
    return " ".join(error.messages)


def _back(request, fallback: str) -> str:
    """The page to go back to: ``next`` when it is a path of this site, else ``fallback``."""
    target = request.POST.get("next", "")
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


# --- the work queue -----------------------------------------------------------------------------------


QUEUE_ROW_FIELDS = (
    *(field.name for field in Denial._meta.concrete_fields),
    "claim__patient_control_number",
    "claim__payer",
    "claim__payer__name",
    "line__line_number",
    "line__procedure_code",
)


@role_required("denials.view")
@never_cache
@require_GET
def queue(request):
    practice = request.practice
    filters = selectors.QueueFilters.from_query(request.GET)
    denials = selectors.denial_queue(practice, filters, user=request.user)
    if request.GET.get("format") == "csv":
        audit_record(
            action=AuditAction.EXPORT,
            practice=practice,
            object_type="denials.denial",
            changes={"filters": filters.active(), "sort": filters.sort},
        )
        return _export(denials, practice.pk)
    # The page reads only what its rows show: whole claims, patients and providers for 50 rows cost more
    # to build than the query took.
    shown = denials.select_related(None).select_related("claim__payer", "line").only(*QUEUE_ROW_FIELDS)
    page = CountedPaginator(shown, PAGE_SIZE).get_page(request.GET.get("page"))
    page.object_list = selectors.decorate(page.object_list, practice.pk)
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "denials/queue.html",
        {
            "page": page,
            "filters": filters,
            "querystring": query.urlencode(),
            "payers": scoped(Payer, practice).order_by("name"),
            "providers": scoped(Provider, practice).filter(is_organization=False).order_by("last_name"),
            "categories": CATEGORY_CHOICES,
            "owners": OWNER_CHOICES,
            "statuses": DenialStatus.choices,
            "assignees": queue_assignees(practice),
            "guidance": selectors.what_to_do_by_category(),
            "soon": DEADLINE_SOON_DAYS,
            "can_edit": role_can(request.role, "denials.edit"),
            "can_edit_rules": role_can(request.role, "denials.rules"),
            "next_url": request.get_full_path(),
        },
    )


def _export(denials, practice_id: int) -> HttpResponse:
    today = timezone.localdate()
    response = HttpResponse(content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="denials-{today.isoformat()}.csv"'
    response["Cache-Control"] = "no-store"
    writer = csv_writer(response)
    writer.writerow(EXPORT_HEADER)
    for denial in selectors.decorate(denials.iterator(chunk_size=2000), practice_id):
        writer.writerow(
            [
                value
                for value in (
                    denial.pk,
                    denial.claim.patient_control_number,
                    denial.claim.payer.name if denial.claim.payer else "",
                    str(denial.claim.rendering_provider or ""),
                    denial.line.line_number if denial.line else "claim",
                    denial.line.procedure_code if denial.line else "",
                    denial.group_code,
                    denial.reason_code,
                    denial.carc_words,
                    " ".join(denial.remark_codes),
                    denial.get_category_display(),
                    denial.get_owner_display(),
                    "yes" if denial.preventable else "no",
                    denial.get_status_display(),
                    denial.amount,
                    denial.recovered_amount,
                    denial.recoverable,
                    denial.remit_date,
                    denial.appeal_deadline,
                    denial.days_left if denial.days_left is not None else "",
                    _person(denial.assignee),
                )
            ]
        )
    return response


@role_required("denials.edit")
@require_POST
def take_next(request):
    filters = selectors.QueueFilters.from_query(request.POST)
    denial = services.denial_take_next(
        practice=request.practice,
        user=request.user,
        queryset=selectors.denial_queue(request.practice, filters, user=request.user),
    )
    if denial is None:
        messages.info(request, "Nothing left to take: every open denial in this view is assigned.")
        return redirect(_back(request, reverse("denials:queue")))
    messages.success(request, "This denial is now yours.")
    return redirect("denials:detail", pk=denial.pk)


@role_required("denials.edit")
@require_POST
def assign(request):
    back = _back(request, reverse("denials:queue"))
    ids = [int(value) for value in request.POST.getlist("denial") if value.isdigit()]
    if not ids:
        messages.error(request, "Tick the denials to assign first.")
        return redirect(back)
    value = request.POST.get("assignee", "")
    assignee = None
    if value:
        assignee = next((u for u in queue_assignees(request.practice) if str(u.pk) == value), None)
        if assignee is None:
            raise Http404("No such member of this practice.")
    try:
        found = services.denials_assign(
            practice=request.practice, denial_ids=ids, assignee=assignee, user=request.user
        )
    except ValidationError as error:
        messages.error(request, _error_text(error))
        return redirect(back)
    count = len(found)
    messages.success(
        request, f"{count} denial{'s' if count != 1 else ''} assigned to {_person(assignee) or 'nobody'}."
    )
    return redirect(back)


# --- one denial ---------------------------------------------------------------------------------------


def _denial(request, pk: int) -> Denial:
    return get_scoped_or_404(
        Denial.objects.select_related(
            "claim__patient",
            "claim__payer",
            "claim__rendering_provider",
            "line",
            "remittance_claim__remittance",
            "assignee",
        ),
        request.practice,
        pk=pk,
    )


@role_required("denials.view")
@never_cache
@require_GET
def detail(request, pk: int):
    denial = _denial(request, pk)
    audit_view(request, denial)
    (denial,) = selectors.decorate([denial], request.practice.pk)
    return render(
        request,
        "denials/detail.html",
        {
            "denial": denial,
            "claim": denial.claim,
            "history": selectors.denial_history(denial),
            "notes": selectors.denial_notes(denial),
            "letters": selectors.denial_letters(denial),
            "other_denials": [d for d in selectors.claim_denials(denial.claim) if d.pk != denial.pk],
            "actions": _claim_actions(request, denial.claim, [denial]),
            "templates": letter_services.TEMPLATE_LABELS,
            "suggested_template": letter_services.template_for(denial.category),
            "can_edit": role_can(request.role, "denials.edit"),
            "assignees": queue_assignees(request.practice),
            "soon": DEADLINE_SOON_DAYS,
        },
    )


def _claim_actions(request, claim: Claim, denials: list[Denial]) -> dict:
    """Which actions fit the claim now (shown as buttons); the services still check everything."""
    if not role_can(request.role, "denials.edit"):
        return {}
    open_denials = [d for d in denials if d.status in OPEN_STATUSES]
    adjudicated = claim.adjudicated_at is not None and bool(claim.payer_claim_number)
    correctable = claim.status in (
        ClaimStatus.DENIED,
        ClaimStatus.PARTIALLY_PAID,
        ClaimStatus.APPEALED,
    ) and any(d.status != DenialStatus.APPEALED for d in open_denials)
    return {
        "correct": adjudicated and correctable and claim.status != ClaimStatus.APPEALED,
        "void": adjudicated and correctable and claim.status != ClaimStatus.APPEALED,
        "write_off": bool(open_denials) and claim.status != ClaimStatus.WRITTEN_OFF,
        "appeal": bool(open_denials),
    }


@role_required("denials.edit")
@require_POST
def take(request, pk: int):
    denial = _denial(request, pk)
    services.denial_take(denial=denial, user=request.user)
    messages.success(request, "This denial is now yours.")
    return redirect("denials:detail", pk=pk)


@role_required("denials.edit")
@require_POST
def review(request, pk: int):
    denial = _denial(request, pk)
    try:
        services.denial_review(denial=denial, user=request.user)
    except ValidationError as error:
        messages.error(request, _error_text(error))
    return redirect("denials:detail", pk=pk)


@role_required("denials.edit")
@require_POST
def note(request, pk: int):
    denial = _denial(request, pk)
    try:
        services.denial_note_add(denial=denial, user=request.user, text=request.POST.get("text", ""))
    except ValidationError as error:
        messages.error(request, _error_text(error))
    return redirect(reverse("denials:detail", args=[pk]) + "#notes")


# --- claim-level actions (from the claim page or a denial's page) ------------------------------------


def _claim(request, pk: int) -> Claim:
    return get_scoped_or_404(Claim, request.practice, pk=pk)


@role_required("denials.edit")
@require_POST
def claim_correct(request, pk: int):
    claim = _claim(request, pk)
    back = _back(request, reverse("claims:detail", args=[pk]))
    try:
        claim = services.denial_correct(
            claim=claim,
            user=request.user,
            prior_authorization=request.POST.get("prior_authorization") or None,
            note=request.POST.get("note", "").strip(),
        )
    except ValidationError as error:
        messages.error(request, _error_text(error))
        return redirect(back)
    if claim.status == ClaimStatus.READY:
        messages.success(
            request,
            f"Corrected claim (frequency 7, payer claim {claim.payer_claim_number}) is clean and ready: "
            "it goes out in the next 837P batch.",
        )
    else:
        messages.warning(
            request, "The corrected claim has scrubber errors: fix them on the claim, then it goes out."
        )
    return redirect(back)


@role_required("denials.edit")
@require_POST
def claim_void(request, pk: int):
    claim = _claim(request, pk)
    back = _back(request, reverse("claims:detail", args=[pk]))
    try:
        services.denial_void(claim=claim, reason=request.POST.get("reason", ""), user=request.user)
    except ValidationError as error:
        messages.error(request, _error_text(error))
        return redirect(back)
    messages.success(request, "Void (frequency 8) is ready: it goes to the payer in the next 837P batch.")
    return redirect(back)


@role_required("denials.edit")
@require_POST
def claim_write_off(request, pk: int):
    claim = _claim(request, pk)
    back = _back(request, reverse("claims:detail", args=[pk]))
    try:
        services.denial_write_off(claim=claim, reason=request.POST.get("reason", ""), user=request.user)
    except ValidationError as error:
        messages.error(request, _error_text(error))
        return redirect(back)
    messages.success(request, "The denied balance is written off.")
    return redirect(back)


def claim_panel(request, claim) -> dict | None:
    """The claim page's denials panel (registered in ``DenialsConfig.ready``): nothing for a claim the payer
    never adjudicated (no query), else each denial with its words, root cause, deadline, ERA, actions."""
    if claim.adjudicated_at is None or not role_can(request.role, "denials.view"):
        return None
    denials = selectors.claim_denials(claim)
    if not denials:
        return None
    return {
        "template": "denials/_claim_panel.html",
        "context": {
            "denials": denials,
            "actions": _claim_actions(request, claim, denials),
            "claim": claim,
            "soon": DEADLINE_SOON_DAYS,
            "next_url": request.get_full_path(),
        },
    }


# --- appeal letters -----------------------------------------------------------------------------------


def _letter(request, pk: int) -> AppealLetter:
    return get_scoped_or_404(
        AppealLetter.objects.select_related("denial", "claim").defer("pdf"), request.practice, pk=pk
    )


@role_required("denials.edit")
@require_POST
def letter_new(request, pk: int):
    denial = _denial(request, pk)
    try:
        letter = letter_services.letter_create(
            denial=denial, user=request.user, template=request.POST.get("template", "")
        )
    except ValidationError as error:
        messages.error(request, _error_text(error))
        return redirect("denials:detail", pk=pk)
    if letter.after_deadline:
        messages.warning(
            request,
            f"The appeal deadline ({denial.appeal_deadline:%m/%d/%Y}) has passed: the payer may refuse "
            "a late appeal. The letter records it.",
        )
    return redirect("denials:letter", pk=letter.pk)


@role_required("denials.view")
@never_cache
@require_http_methods(["GET", "POST"])
def letter(request, pk: int):
    letter = _letter(request, pk)
    can_edit = role_can(request.role, "denials.edit")
    if request.method == "POST":
        if not can_edit:
            raise Http404("No such letter.")
        action = request.POST.get("action", "save")
        try:
            if action == "save":
                letter_services.letter_update(
                    letter=letter, body=request.POST.get("body", ""), user=request.user
                )
                messages.success(request, "Letter saved.")
            elif action == "final":
                letter_services.letter_update(
                    letter=letter, body=request.POST.get("body", ""), user=request.user
                )
                letter_services.letter_finalize(letter=letter, user=request.user)
                messages.success(
                    request, "The letter is final: download the PDF and send it, then mark it sent."
                )
            elif action == "sent":
                sent_on = _date(request.POST.get("sent_on", ""))
                letter_services.letter_mark_sent(
                    letter=letter, sent_on=sent_on, channel=request.POST.get("channel", ""), user=request.user
                )
                messages.success(request, "Marked sent: the claim is appealed.")
            elif action == "outcome":
                letter_services.letter_record_outcome(
                    letter=letter, outcome=request.POST.get("outcome", ""), user=request.user
                )
                messages.success(request, "Outcome recorded.")
            else:
                messages.error(request, f"Unknown action {action!r}.")
        except ValidationError as error:
            messages.error(request, _error_text(error))
        return redirect("denials:letter", pk=pk)
    audit_view(request, letter)
    return render(
        request,
        "denials/letter.html",
        {
            "letter": letter,
            "denial": letter.denial,
            "can_edit": can_edit,
            "channels": LetterChannel.choices,
            "outcomes": [c for c in AppealOutcome.choices if c[0]],
            "today": timezone.localdate(),
            "template_label": letter_services.TEMPLATE_LABELS.get(letter.template, letter.template),
        },
    )


def _date(value: str) -> datetime.date | None:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise ValidationError({"sent_on": "Give the date sent (YYYY-MM-DD)."}) from None


@role_required("denials.view")
@require_GET
def letter_pdf(request, pk: int):
    letter = get_scoped_or_404(AppealLetter.objects.all(), request.practice, pk=pk)
    if not letter.is_final:
        raise Http404("The letter has no PDF until it is final.")
    audit_record(
        action=AuditAction.EXPORT,
        practice=request.practice,
        object_type="denials.appealletter",
        object_id=letter.pk,
    )
    response = HttpResponse(bytes(letter.pdf), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{letter.pdf_name}"'
    response["Cache-Control"] = "no-store"
    return response


# --- root-cause rules (manager) -----------------------------------------------------------------------


@role_required("denials.rules")
@never_cache
@require_http_methods(["GET", "POST"])
def rules(request):
    practice = request.practice
    if request.method == "POST":
        if request.POST.get("action") == "apply":
            count = services.rules_apply_to_open(practice=practice, user=request.user)
            messages.success(
                request, f"{count} open denial{'s' if count != 1 else ''} re-read with the rules."
            )
            return redirect("denials:rules")
        try:
            rule = services.rule_save(
                practice=practice,
                reason_code=request.POST.get("reason_code", ""),
                category=request.POST.get("category", ""),
                owner=request.POST.get("owner", ""),
                preventable=request.POST.get("preventable") == "on",
                what_to_do=request.POST.get("what_to_do", ""),
                user=request.user,
            )
        except ValidationError as error:
            messages.error(request, _error_text(error))
        else:
            messages.success(
                request,
                f"CARC {rule.reason_code} saved: new denials read it now; "
                "apply it to the open ones if you wish.",
            )
        return redirect(reverse("denials:rules") + f"?carc={request.POST.get('reason_code', '')}")
    carc = request.GET.get("carc", "").strip().upper()
    every = selectors.rule_rows(practice)
    show_all = request.GET.get("all") == "1"
    # By default the codes the map reads (a category other than "other") and the practice's own rules.
    rows = every if show_all else [row for row in every if row.custom or row.category != "other"]
    return render(
        request,
        "denials/rules.html",
        {
            "rows": rows,
            "editing": next((row for row in every if row.reason_code == carc), None),
            "show_all": show_all,
            "total": len(every),
            "carc": carc,
            "categories": CATEGORY_CHOICES,
            "owners": OWNER_CHOICES,
        },
    )
