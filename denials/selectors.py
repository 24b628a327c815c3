"""Reads of denials: the work queue with its filters and order, one denial with what its page shows,
and the root-cause rules as the manager edits them. Every read is scoped to the practice."""

import dataclasses
import datetime

from django.db.models import F, Prefetch, QuerySet
from django.utils import timezone

from claims.models import RemittanceClaim
from denials.models import AppealLetter, Denial, DenialNote, DenialStatus, RootCauseRule
from denials.reference import (
    CARC,
    CATEGORY_CHOICES,
    CATEGORY_DEFAULTS,
    OWNER_CHOICES,
    carc_words,
    rarc_words,
    root_cause_default,
)
from denials.rules import root_causes_for
from denials.state_machine import OPEN_STATUSES, TRANSITIONS
from rcm.tenancy import scoped

SORTS = {
    # The most money to win back first, the nearest deadline breaking ties.
    "amount": (F("recoverable").desc(), F("appeal_deadline").asc(nulls_last=True), "pk"),
    "deadline": (F("appeal_deadline").asc(nulls_last=True), F("recoverable").desc(), "pk"),
}
FILTERS = ("payer", "category", "carc", "provider", "owner", "assignee", "status")


@dataclasses.dataclass
class QueueFilters:
    payer: str = ""
    category: str = ""
    carc: str = ""
    provider: str = ""
    owner: str = ""
    assignee: str = ""  # a user id, "me" or "none"
    status: str = ""  # "" = every open status, "all", or one status
    sort: str = "amount"

    @classmethod
    def from_query(cls, query) -> "QueueFilters":
        values = {name: (query.get(name) or "").strip() for name in (*FILTERS, "sort")}
        if values["sort"] not in SORTS:
            values["sort"] = "amount"
        return cls(**values)

    def active(self) -> dict[str, str]:
        return {name: getattr(self, name) for name in FILTERS if getattr(self, name)}


def denial_queue(practice, filters: QueueFilters | None = None, *, user=None) -> QuerySet[Denial]:
    """The practice's denials to work (open ones unless ``filters.status`` says otherwise), filtered and
    sorted (recoverable amount, days left to the deadline), with what a row shows loaded."""
    filters = filters or QueueFilters()
    queryset = scoped(Denial, practice)
    if filters.status == "all":
        pass
    elif filters.status in DenialStatus.values:
        queryset = queryset.filter(status=filters.status)
    else:
        queryset = queryset.filter(status__in=sorted(OPEN_STATUSES))
    if filters.payer.isdigit():
        queryset = queryset.filter(claim__payer_id=int(filters.payer))
    if filters.category:
        queryset = queryset.filter(category=filters.category)
    if filters.carc:
        queryset = queryset.filter(reason_code=filters.carc.upper())
    if filters.provider.isdigit():
        queryset = queryset.filter(claim__rendering_provider_id=int(filters.provider))
    if filters.owner:
        queryset = queryset.filter(owner=filters.owner)
    if filters.assignee == "none":
        queryset = queryset.filter(assignee__isnull=True)
    elif filters.assignee == "me" and user is not None:
        queryset = queryset.filter(assignee=user)
    elif filters.assignee.isdigit():
        queryset = queryset.filter(assignee_id=int(filters.assignee))
    # Four joins, the rest fetched by id: joining the assignee and the remittance claim as well made
    # PostgreSQL spend 50-80 ms planning each page (8 tables), twenty times what running it takes.
    return (
        queryset.select_related("claim__payer", "claim__rendering_provider", "claim__patient", "line")
        .prefetch_related(
            "assignee",
            Prefetch("remittance_claim", queryset=RemittanceClaim.objects.only("id", "remittance_id")),
        )
        .order_by(*SORTS[filters.sort])
    )


def days_left(denial: Denial, today: datetime.date | None = None) -> int | None:
    if denial.appeal_deadline is None:
        return None
    return (denial.appeal_deadline - (today or timezone.localdate())).days


TONES = {
    "new": "bad",
    "upheld": "bad",
    "in_review": "warn",
    "corrected": "warn",
    "appealed": "warn",
    "partly_overturned": "warn",
    "overturned": "ok",
}


def decorate(denials, practice_id: int) -> list[Denial]:
    """Add what pages show to each denial: the codes in words, days left, what to do (from the rules)."""
    denials = list(denials)
    causes = root_causes_for(practice_id, {d.reason_code for d in denials})
    today = timezone.localdate()
    for denial in denials:
        denial.carc_words = carc_words(denial.reason_code)
        denial.rarcs = [(code, rarc_words(code)) for code in denial.remark_codes]
        denial.closed = denial.status not in OPEN_STATUSES
        denial.days_left = None if denial.closed else days_left(denial, today)
        denial.what_to_do = causes[denial.reason_code].what_to_do
        denial.next_statuses = sorted(TRANSITIONS[denial.status])
        denial.tone = TONES.get(denial.status, "")
        denial.recoverable = denial.amount - denial.recovered_amount  # exact cents (SQLite drops them)
    return denials


def denial_history(denial: Denial) -> list:
    return list(denial.status_history.select_related("by").order_by("at", "pk"))


def denial_notes(denial: Denial) -> list[DenialNote]:
    return list(denial.notes.select_related("author").order_by("at", "pk"))


def denial_letters(denial: Denial) -> list[AppealLetter]:
    return list(AppealLetter.objects.filter(denial=denial).defer("pdf").order_by("-created_at", "-pk"))


def claim_denials(claim) -> list[Denial]:
    """Every denial of a claim, oldest first, with its remittance (for the link) and words."""
    return decorate(
        Denial.objects.filter(claim=claim)
        .select_related("line", "remittance_claim__remittance", "assignee")
        .order_by("created_at", "pk"),
        claim.practice_id,
    )


def what_to_do_by_category() -> list[tuple[str, str, str]]:
    """(category key, label, what to do): the reference's guidance per category."""
    return [(key, label, CATEGORY_DEFAULTS[key].what_to_do) for key, label in CATEGORY_CHOICES]


@dataclasses.dataclass
class RuleRow:
    reason_code: str
    words: str
    category: str
    owner: str
    preventable: bool
    what_to_do: str
    custom: bool

    @property
    def category_label(self) -> str:
        return dict(CATEGORY_CHOICES).get(self.category, self.category)

    @property
    def owner_label(self) -> str:
        return dict(OWNER_CHOICES).get(self.owner, self.owner)


def rule_rows(practice) -> list[RuleRow]:
    """Every CARC of the reference (and any the practice added), read as the practice reads it now."""
    custom = {rule.reason_code: rule for rule in scoped(RootCauseRule, practice)}
    codes = sorted(set(CARC) | set(custom), key=lambda c: (not c.isdigit(), int(c) if c.isdigit() else 0, c))
    rows = []
    for code in codes:
        rule = custom.get(code)
        reading = rule or root_cause_default(code)
        rows.append(
            RuleRow(
                code,
                carc_words(code),
                reading.category,
                reading.owner,
                reading.preventable,
                reading.what_to_do,
                rule is not None,
            )
        )
    return rows
