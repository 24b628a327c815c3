"""The biller's work queues: which claims need work, in what order, for whom.

Each queue is a filter over the practice's claims; every queue is annotated with ``balance_total``,
``age_days`` (since the date of service) and ``deadline`` (the timely filing or appeal deadline
that applies, from the payer's contract), and can be sorted by priority, balance, age or deadline.
A row says what it is about: the rejected queue annotates ``rejection_reason`` (the reason the claim last
moved to rejected), the underpaid queue ``expected_allowed_total`` and ``paid_allowed_total`` (over the
lines of the claim's posted payments the contract priced); a scrub error's first finding is in the
claim's ``scrub_findings`` (``first_scrub_error``). A list costs the same number of queries whatever the
number of rows: the annotations are subqueries of the one list query."""

import dataclasses
import datetime

from django.db.models import (
    Case,
    CharField,
    DateField,
    DecimalField,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Cast
from django.utils import timezone

from claims.models import Claim, ClaimStatus, ClaimStatusChange, RemittanceLine, ScrubStatus
from claims.queues.columns import queue_columns
from rcm.models import Membership, Payer, PayerContract
from rcm.practice_cache import practice_cached
from rcm.roles import PERMISSIONS

S = ClaimStatus
UNSUBMITTED = [S.DRAFT, S.READY, S.REJECTED, S.CORRECTED]
DEADLINE_WINDOW_DAYS = 30
# A deadline this close is highlighted ("soon") on the work queues and the denial queue.
DEADLINE_SOON_DAYS = 14


@dataclasses.dataclass(frozen=True)
class Queue:
    slug: str
    title: str
    description: str


QUEUES = [
    Queue(
        "scrub_errors", "Scrub errors", "Drafts and corrections the scrubber stopped: fix and scrub again."
    ),
    Queue(
        "rejected", "Rejected", "Rejected by the clearinghouse or payer (999/277CA): correct and resubmit."
    ),
    Queue(
        "denied", "Denied", "Denied on adjudication: appeal, correct or write off before the appeal deadline."
    ),
    Queue("no_response", "No response", "Submitted with no answer after the payer's usual time: follow up."),
    Queue(
        "underpaid",
        "Underpaid",
        "Paid less than the contract says, beyond the tolerance: dispute, the largest shortfall first.",
    ),
    Queue("deadlines", "Deadlines", f"Timely filing or appeal deadline within {DEADLINE_WINDOW_DAYS} days."),
    Queue(
        "ready",
        "Ready",
        "Scrubbed clean, waiting for the next batch: look at the denial risk before sending.",
    ),
]
QUEUE_BY_SLUG = {q.slug: q for q in QUEUES}

SORTS = {
    "priority": (F("deadline").asc(nulls_last=True), F("balance_total").desc(), "id"),
    "balance": (F("balance_total").desc(), "id"),
    "age": ("service_date", "id"),
    "deadline": (F("deadline").asc(nulls_last=True), "id"),
}


def _contract_days(practice) -> dict[int, tuple[int, int]]:
    """Payer id -> (timely filing days, appeal days) from the payer's most recent contract."""
    days = {}
    for contract in PayerContract.objects.filter(practice=practice).order_by("payer_id", "-effective_date"):
        days.setdefault(contract.payer_id, (contract.timely_filing_days, contract.appeal_limit_days))
    return days


def _deadline_expression(contract_days: dict[int, tuple[int, int]]):
    """Timely filing deadline (service date + filing days) for unsubmitted claims, appeal deadline
    (adjudication date + appeal days) for denied ones."""
    whens = []
    for payer_id, (filing, appeal) in contract_days.items():
        # date + interval is a timestamp on PostgreSQL: cast back to a date.
        whens.append(
            When(
                Q(payer_id=payer_id, status__in=UNSUBMITTED),
                then=Cast(F("service_date") + datetime.timedelta(days=filing), output_field=DateField()),
            )
        )
        whens.append(
            When(
                Q(payer_id=payer_id, status=S.DENIED, adjudicated_at__isnull=False),
                then=Cast(
                    F("adjudicated_at__date") + datetime.timedelta(days=appeal), output_field=DateField()
                ),
            )
        )
    if not whens:
        return Value(None, output_field=DateField())
    return Case(*whens, default=Value(None, output_field=DateField()), output_field=DateField())


def _deadline_by(contract_days: dict[int, tuple[int, int]], last_day: datetime.date) -> Q:
    """``deadline <= last_day`` as plain column ranges per payer (service date for unsubmitted claims,
    adjudication date for denied ones), so an index serves it instead of computing every row's deadline."""
    query = Q(pk__in=[])
    for payer_id, (filing, appeal) in contract_days.items():
        query |= Q(
            payer_id=payer_id,
            status__in=UNSUBMITTED,
            service_date__lte=last_day - datetime.timedelta(days=filing),
        )
        query |= Q(
            payer_id=payer_id,
            status=S.DENIED,
            adjudicated_at__isnull=False,
            adjudicated_at__date__lte=last_day - datetime.timedelta(days=appeal),
        )
    return query


def queue_claims(
    practice,
    slug: str,
    *,
    assigned_to=None,
    unassigned=False,
    sort: str = "priority",
    today: datetime.date | None = None,
    contract_days=None,
) -> QuerySet[Claim]:
    today = today or timezone.localdate()
    if slug not in QUEUE_BY_SLUG:
        raise KeyError(slug)
    contract_days = _contract_days(practice) if contract_days is None else contract_days
    queryset = Claim.objects.filter(practice=practice).annotate(
        balance_total=ExpressionWrapper(
            F("insurance_balance") + F("patient_balance"),
            output_field=DecimalField(max_digits=14, decimal_places=2),
        ),
        deadline=_deadline_expression(contract_days),
    )
    if slug == "scrub_errors":
        queryset = queryset.filter(status__in=[S.DRAFT, S.CORRECTED], scrub_status=ScrubStatus.ERRORS)
    elif slug == "rejected":
        queryset = queryset.filter(status=S.REJECTED).annotate(
            rejection_reason=Subquery(
                ClaimStatusChange.objects.filter(claim=OuterRef("pk"), to_status=S.REJECTED)
                .order_by("-at", "-id")
                .values("reason")[:1],
                output_field=CharField(),
            )
        )
    elif slug == "denied":
        queryset = queryset.filter(status=S.DENIED)
    elif slug == "no_response":
        # Submitted (last) on or before the day ``no_response_days`` ago: counted in whole days, so the queue
        # changes at midnight or when a claim changes, never in between.
        overdue = Q(pk__in=[])
        for payer_id, days in Payer.objects.filter(practice=practice).values_list("pk", "no_response_days"):
            overdue |= Q(
                payer_id=payer_id, last_submitted_at__lt=_start_of(today - datetime.timedelta(days=days - 1))
            )
        queryset = queryset.filter(overdue, status__in=[S.SUBMITTED, S.ACCEPTED])
    elif slug == "underpaid":
        queryset = (
            queryset.filter(underpaid_amount__gt=0)
            .exclude(status__in=[S.VOIDED, S.WRITTEN_OFF])
            .annotate(
                expected_allowed_total=_priced_lines_sum("expected_allowed"),
                paid_allowed_total=_priced_lines_sum("allowed"),
            )
        )
    elif slug == "deadlines":
        queryset = queryset.filter(
            _deadline_by(contract_days, today + datetime.timedelta(days=DEADLINE_WINDOW_DAYS))
        )
    elif slug == "ready":
        queryset = queryset.filter(status=S.READY)
    for column in queue_columns(slug):
        queryset = column.annotate(queryset)
    if assigned_to is not None:
        queryset = queryset.filter(assigned_to=assigned_to)
    elif unassigned:
        queryset = queryset.filter(assigned_to__isnull=True)
    ordering = SORTS.get(sort, SORTS["priority"])
    if slug == "underpaid" and sort not in ("balance", "age", "deadline"):
        # Adjudicated claims have no filing or appeal deadline here: the biggest shortfall is the priority
        # (walked in the order of the claim_underpaid index).
        ordering = (F("underpaid_amount").desc(), F("id").desc())
    return queryset.select_related("patient", "payer", "assigned_to").order_by(*ordering)


def _priced_lines_sum(field: str) -> Subquery:
    """The sum of ``field`` over the claim's lines the payer paid and the contract priced (posted claim
    payments not reversed since, with an expected allowed amount): what "underpaid" compared."""
    lines = (
        RemittanceLine.objects.filter(
            remittance_claim__claim=OuterRef("pk"),
            remittance_claim__posted=True,
            remittance_claim__reversed_by__isnull=True,
            expected_allowed__isnull=False,
        )
        .order_by()
        .values("remittance_claim__claim")
        .annotate(total=Sum(field))
        .values("total")
    )
    return Subquery(lines, output_field=DecimalField(max_digits=14, decimal_places=2))


def first_scrub_error(claim) -> str:
    """The first error the scrubber found on the claim (by line), as the queue row shows it."""
    errors = [f for f in claim.scrub_findings or [] if f.get("severity") == "error"]
    if not errors:
        return ""
    return min(errors, key=lambda f: f.get("line") or 0)["message"]  # a line's message names the line


def _start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def queue_counts(practice, *, today=None) -> dict[str, int]:
    """Number of claims in each queue (one query per queue, plus the contracts and payers once), cached
    for the day until the practice's claims, payers or contracts change (``rcm.practice_cache``)."""
    today = today or timezone.localdate()

    def count():
        contract_days = _contract_days(practice)
        return {
            q.slug: queue_claims(practice, q.slug, today=today, contract_days=contract_days).count()
            for q in QUEUES
        }

    return practice_cached(practice, f"queue-counts:{today.isoformat()}", count)


def drafts_by_age(practice) -> QuerySet[Claim]:
    """Every draft of the practice, the oldest date of service first (the charge lag that costs most),
    whatever its scrub status: a draft nobody submits can hide in no queue here."""
    return (
        Claim.objects.filter(practice=practice, status=S.DRAFT)
        .select_related("patient", "payer", "assigned_to")
        .order_by("service_date", "created_at", "id")
    )


def queue_assignees(practice) -> list:
    """Members of the practice who work claim queues, by name: the choices of an "Assign to" select."""
    memberships = (
        Membership.objects.filter(
            practice=practice, is_active=True, role__in=PERMISSIONS["claims.queues"], user__is_active=True
        )
        .select_related("user")
        .order_by("user__first_name", "user__last_name", "user__username")
    )
    return [membership.user for membership in memberships]
