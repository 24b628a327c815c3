"""Reads for remittances (ERA 835): the list, the detail with its words and reconciliation, the exceptions."""

import dataclasses
import datetime
from decimal import Decimal

from django.db.models import (
    Case,
    CharField,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce

from claims.models import (
    ZERO,
    Claim,
    ClaimLine,
    ClaimStatus,
    ExceptionKind,
    ExceptionStatus,
    ProviderAdjustment,
    Remittance,
    RemittanceAdjustment,
    RemittanceClaim,
    RemittanceException,
    RemittanceLine,
    RemittanceStatus,
)
from claims.remittances.reason_codes import adjustment_words, rarc_words
from rcm.templatetags.rcm_tags import money
from rcm.tenancy import scoped

# --- Remittances (ERA 835): list, detail with words and reconciliation, exceptions ---------------

# CLP02, the claim status code of a claim payment, in plain words.
CLAIM_PAYMENT_STATUS_WORDS = {
    "1": "processed as primary",
    "2": "processed as secondary",
    "3": "processed as tertiary",
    "4": "denied",
    "19": "processed as primary, forwarded to additional payer(s)",
    "20": "processed as secondary, forwarded to additional payer(s)",
    "21": "processed as tertiary, forwarded to additional payer(s)",
    "22": "reversal of a previous payment",
    "23": "not our claim, forwarded to additional payer(s)",
    "25": "predetermination pricing only, no payment",
}

# PLB03-1, why the payer adds to or takes from the whole payment. A positive amount is taken back.
PROVIDER_ADJUSTMENT_WORDS = {
    "50": "late charge",
    "51": "interest penalty charge",
    "72": "authorized return",
    "90": "early payment allowance",
    "AH": "origination fee",
    "AM": "applied to borrower's account",
    "AP": "acceleration of benefits",
    "B2": "rebate",
    "B3": "recovery allowance",
    "BD": "bad debt adjustment",
    "BN": "bonus",
    "C5": "temporary allowance",
    "CR": "capitation interest",
    "CS": "adjustment",
    "CT": "capitation payment",
    "CV": "capital passthrough",
    "CW": "certified registered nurse anesthetist passthrough",
    "DM": "direct medical education passthrough",
    "E3": "withholding",
    "FB": "forwarding balance",
    "FC": "fund allocation",
    "GO": "graduate medical education passthrough",
    "HM": "hemophilia clotting factor supplement",
    "IP": "incentive premium payment",
    "IR": "Internal Revenue Service withholding",
    "IS": "interim settlement",
    "J1": "nonreimbursable",
    "L3": "penalty",
    "L6": "interest owed",
    "LE": "levy",
    "LS": "lump sum",
    "OA": "organ acquisition passthrough",
    "OB": "offset for affiliated providers",
    "PI": "periodic interim payment",
    "PL": "payment final",
    "RA": "retro-activity adjustment",
    "RE": "return on equity",
    "SL": "student loan repayment",
    "TL": "third party liability",
    "WO": "overpayment recovery",
    "WU": "unspecified recovery",
}

# BPR04, how the money came.
PAYMENT_METHOD_WORDS = {
    "ACH": "EFT (ACH)",
    "CHK": "check",
    "NON": "no payment",
    "BOP": "bank's option",
    "FWT": "wire transfer",
}

REMITTANCE_SORTS = {"date": "payment_date", "-date": "-payment_date"}
EXCEPTION_VIEWS = ("open", "resolved")


def claim_payment_status_words(code: str) -> str:
    return CLAIM_PAYMENT_STATUS_WORDS.get(code, f"code {code}")


def provider_adjustment_words(code: str) -> str:
    return PROVIDER_ADJUSTMENT_WORDS.get(code, f"code {code}")


def payment_method_words(code: str) -> str:
    return PAYMENT_METHOD_WORDS.get(code, code or "not given")


def _open_exception_count():
    per_remittance = (
        RemittanceException.objects.filter(remittance=OuterRef("pk"), status=ExceptionStatus.OPEN)
        .order_by()
        .values("remittance")
        .annotate(n=Count("id"))
        .values("n")[:1]
    )
    return Coalesce(Subquery(per_remittance), Value(0))


def _with_open_exceptions(queryset: QuerySet) -> QuerySet:
    """``open_exception_count`` and ``current_status``: "exceptions" while one is still open, else "posted"
    (the stored status says only whether the file raised any)."""
    return queryset.annotate(open_exception_count=_open_exception_count()).annotate(
        current_status=Case(
            When(open_exception_count__gt=0, then=Value(RemittanceStatus.EXCEPTIONS.value)),
            default=Value(RemittanceStatus.POSTED.value),
            output_field=CharField(),
        )
    )


# PLB reason code for interest the payer adds to the payment.
INTEREST_PLB = "L6"


def _with_interest(queryset: QuerySet) -> QuerySet:
    """``interest_total``: the interest the payer paid on the remittance, on the claims (Σ AMT*I, stored as
    ``interest``) and at provider level (a PLB L6, negative because it adds to the payment)."""
    plb_interest = (
        ProviderAdjustment.objects.filter(remittance=OuterRef("pk"), reason_code=INTEREST_PLB)
        .values("remittance")
        .annotate(total=Sum("amount"))
        .values("total")[:1]
    )
    return queryset.annotate(
        interest_total=ExpressionWrapper(
            F("interest") - Coalesce(Subquery(plb_interest), Value(ZERO)),
            output_field=DecimalField(max_digits=12, decimal_places=2),
        )
    )


def remittance_list(practice, *, payer_id=None, status: str = "", sort: str = "-date") -> QuerySet:
    """Remittances of the practice, payer joined and ``open_exception_count`` / ``current_status``,
    ``posted_net`` (posted less PLB, as the remittance page reads) and ``provider_adjustment_effect`` (what
    the PLBs added to the payment) annotated, in one query. ``status`` "exceptions": with an exception still
    open; "posted": none open."""
    remittances = _with_open_exceptions(scoped(Remittance, practice).select_related("payer"))
    queryset = _with_interest(remittances).annotate(
        posted_net=F("posted_payments") - F("provider_adjustment_total"),
        provider_adjustment_effect=-F("provider_adjustment_total"),
    )
    if payer_id:
        queryset = queryset.filter(payer_id=payer_id)
    if status:
        queryset = queryset.filter(current_status=status)
    date = F("payment_date")
    if sort == "date":
        return queryset.order_by(date.asc(nulls_last=True), "id")
    return queryset.order_by(date.desc(nulls_last=True), "-id")


def remittance_status_counts(practice, *, payer_id=None) -> dict[str, int]:
    """How many remittances in all, with an exception open, and with none open (one query)."""
    queryset = scoped(Remittance, practice)
    if payer_id:
        queryset = queryset.filter(payer_id=payer_id)
    counts = _with_open_exceptions(queryset).aggregate(
        all=Count("id"),
        exceptions=Count("id", filter=Q(open_exception_count__gt=0)),
    )
    return {
        "all": counts["all"],
        RemittanceStatus.EXCEPTIONS.value: counts["exceptions"],
        RemittanceStatus.POSTED.value: counts["all"] - counts["exceptions"],
    }


def remittance_details(practice) -> QuerySet:
    """Remittances for ``get_scoped_or_404`` with everything the detail shows prefetched: each claim
    payment (claim and patient joined), its claim-level adjustments (``claim_adjustments``), its lines
    (matched claim line joined) with their adjustments, the PLBs and the exceptions. A fixed number of
    queries however many claims the remittance pays."""
    return (
        _with_interest(_with_open_exceptions(scoped(Remittance, practice)))
        .select_related("payer", "x12_file", "practice")  # practice: for the audit row
        .defer("x12_file__content", "x12_file__validation_findings")
        .prefetch_related(
            Prefetch(
                "claim_payments",
                queryset=RemittanceClaim.objects.select_related("claim", "claim__patient")
                .defer("raw")
                .order_by("position", "id"),
            ),
            Prefetch(
                "claim_payments__adjustments",
                to_attr="claim_adjustments",
                queryset=RemittanceAdjustment.objects.filter(remittance_line__isnull=True).order_by("id"),
            ),
            Prefetch(
                "claim_payments__lines",
                queryset=RemittanceLine.objects.select_related("claim_line").order_by("id"),
            ),
            Prefetch(
                "claim_payments__lines__adjustments", queryset=RemittanceAdjustment.objects.order_by("id")
            ),
            Prefetch("provider_adjustments", queryset=ProviderAdjustment.objects.order_by("id")),
            Prefetch(
                "exceptions",
                queryset=RemittanceException.objects.select_related("remittance_claim", "resolved_by")
                .defer("remittance_claim__raw")
                .order_by("created_at", "id"),
            ),
        )
    )


@dataclasses.dataclass(frozen=True)
class Reconciliation:
    """The deposit against what was posted. BPR02 = Σ CLP04 − Σ PLB when the file balances; the
    difference is what is not posted yet (0.00 once every claim payment is posted)."""

    payment_amount: Decimal  # BPR02
    posted: Decimal  # Σ CLP04 of the claim payments posted
    posted_count: int
    not_posted: Decimal  # Σ CLP04 of the claim payments left in exceptions
    not_posted_count: int
    provider_adjustments: Decimal  # Σ PLB; a positive amount was taken from the payment
    posted_net: Decimal  # posted − provider_adjustments
    difference: Decimal  # payment_amount − posted_net
    unexplained: (
        Decimal  # payment_amount − (posted + not_posted − provider_adjustments): the file's own imbalance
    )
    paid_count: int = 0  # claim payments posted that pay something
    denied_count: int = 0  # claim payments posted that deny the claim (CLP02 4, or nothing paid)
    interest_claims: Decimal = ZERO  # Σ AMT*I of the claim payments
    interest_provider_level: Decimal = ZERO  # PLB L6 (interest owed), added to the payment
    interest: Decimal = ZERO  # both


# CLP02 of a claim payment that pays (or denies) as primary, secondary or tertiary, forwarded or not.
_ADJUDICATED = frozenset({"1", "2", "3", "19", "20", "21"})


def claim_payment_denied(payment) -> bool:
    """A posted claim payment that denies: CLP02 4, or adjudicated and nothing paid."""
    return payment.status_code == "4" or (payment.status_code in _ADJUDICATED and payment.paid <= 0)


def remittances_with_exceptions(practice) -> QuerySet:
    """The practice's remittances that raised an exception, latest first: the exceptions page's remittance
    filter (one query)."""
    return (
        scoped(Remittance, practice)
        .filter(exception_count__gt=0)
        .select_related("payer")
        .only("id", "payer_name", "trace_number", "payment_date", "payer__name")
        .order_by(F("payment_date").desc(nulls_last=True), "-id")
    )


def remittance_reconciliation(remittance) -> Reconciliation:
    """From the rows ``remittance_details`` prefetched (no query)."""
    payments = list(remittance.claim_payments.all())
    posted = sum((p.paid for p in payments if p.posted), ZERO)
    not_posted = sum((p.paid for p in payments if not p.posted), ZERO)
    provider_adjustments = sum((a.amount for a in remittance.provider_adjustments.all()), ZERO)
    posted_net = posted - provider_adjustments
    denied = sum(1 for p in payments if p.posted and claim_payment_denied(p))
    # A PLB takes a positive amount from the payment: interest the payer adds comes as a negative L6.
    interest_plb = -sum(
        (a.amount for a in remittance.provider_adjustments.all() if a.reason_code == INTEREST_PLB), ZERO
    )
    return Reconciliation(
        paid_count=sum(1 for p in payments if p.posted and p.status_code != "22") - denied,
        denied_count=denied,
        interest_claims=remittance.interest,
        interest_provider_level=interest_plb,
        interest=remittance.interest + interest_plb,
        payment_amount=remittance.payment_amount,
        posted=posted,
        posted_count=sum(1 for p in payments if p.posted),
        not_posted=not_posted,
        not_posted_count=sum(1 for p in payments if not p.posted),
        provider_adjustments=provider_adjustments,
        posted_net=posted_net,
        difference=remittance.payment_amount - posted_net,
        unexplained=remittance.payment_amount - (posted + not_posted - provider_adjustments),
    )


def _remarks(codes) -> list[dict]:
    return [{"code": code, "words": rarc_words(code)} for code in codes or []]


def remittance_explain(remittance):
    """Put plain words on a remittance from ``remittance_details`` (no query), for pages and API alike:
    ``status_words`` (CLP02) and ``remark_words`` on claim payments, ``words`` on adjustments and PLBs,
    ``remark_words`` and ``short_by`` (expected allowed − allowed, when the payer allowed something but
    less) on lines, and
    ``reconciliation`` on the remittance."""
    for payment in remittance.claim_payments.all():
        payment.status_words = claim_payment_status_words(payment.status_code)
        payment.denied = payment.posted and claim_payment_denied(payment)
        payment.remark_words = _remarks(payment.remarks)
        for adjustment in payment.claim_adjustments:
            adjustment.words = adjustment_words(adjustment.group_code, adjustment.reason_code)
        for line in payment.lines.all():
            line.remark_words = _remarks(line.remarks)
            # A line allowed nothing was denied (its CARC says why): short only when the payer allowed less.
            short = (
                line.expected_allowed - line.allowed
                if line.expected_allowed is not None and line.allowed
                else ZERO
            )
            line.short_by = short if short > 0 else None
            for adjustment in line.adjustments.all():
                adjustment.words = adjustment_words(adjustment.group_code, adjustment.reason_code)
    for plb in remittance.provider_adjustments.all():
        plb.words = provider_adjustment_words(plb.reason_code)
    remittance.method_words = payment_method_words(remittance.payment_method)
    remittance.reconciliation = remittance_reconciliation(remittance)
    return remittance


def _exception_statuses(view: str) -> list[str] | None:
    if view == "all":
        return None
    if view == "resolved":
        return [ExceptionStatus.POSTED, ExceptionStatus.DISMISSED]
    if view in ExceptionStatus.values:
        return [view]
    return [ExceptionStatus.OPEN]


def remittance_exception_list(
    practice, *, view: str = "open", remittance_id=None, kind: str = ""
) -> QuerySet:
    """Exceptions of the practice: ``view`` "open" (oldest first: the work to do), "resolved" (latest
    resolved first), one status, or "all"; of one remittance and one kind when asked; remittance, claim
    payment and resolver joined (one query)."""
    queryset = (
        scoped(RemittanceException, practice)
        .select_related("remittance__payer", "remittance_claim", "resolved_by")
        .defer("remittance_claim__raw")
    )
    statuses = _exception_statuses(view)
    if statuses is not None:
        queryset = queryset.filter(status__in=statuses)
    if remittance_id:
        queryset = queryset.filter(remittance_id=remittance_id)
    if kind:
        queryset = queryset.filter(kind=kind)
    if view == "open":
        return queryset.order_by("created_at", "id")
    return queryset.order_by("-resolved_at", "-id")


def remittance_exception_counts(practice, *, remittance_id=None, kind: str = "") -> dict[str, int]:
    """Open and resolved exceptions (one query)."""
    queryset = scoped(RemittanceException, practice)
    if remittance_id:
        queryset = queryset.filter(remittance_id=remittance_id)
    if kind:
        queryset = queryset.filter(kind=kind)
    counts = queryset.aggregate(
        open=Count("id", filter=Q(status=ExceptionStatus.OPEN)),
        resolved=Count("id", filter=~Q(status=ExceptionStatus.OPEN)),
    )
    return {"open": counts["open"], "resolved": counts["resolved"]}


# --- Suggested claims for an unmatched claim payment --------------------------------------------

SUGGESTION_WINDOW_DAYS = 30  # a claim more than a month from the dates paid is not a candidate
SUGGESTION_LIMIT = 3  # shown per exception
CANDIDATE_LIMIT = 200  # read per page of exceptions, before scoring
# Claims a payment can still be posted against (a draft was never sent, a voided one is gone).
_NOT_PAYABLE = ("draft", "ready", "voided")


@dataclasses.dataclass(frozen=True)
class PaymentFacts:
    """What an 835 claim payment says about the claim it pays (CLP, NM1*QC, SVC, DTM*472)."""

    exception_id: int
    first_name: str
    last_name: str
    member_id: str
    service_dates: frozenset
    charge: Decimal
    procedures: frozenset

    @classmethod
    def from_raw(cls, exception_id: int, raw: dict) -> "PaymentFacts":
        names = (raw.get("patient_name") or "").split()
        dates = set()
        for service in raw.get("services") or []:
            if service.get("service_date_from"):
                dates.add(datetime.date.fromisoformat(service["service_date_from"]))
        if not dates and raw.get("statement_from"):
            dates.add(datetime.date.fromisoformat(raw["statement_from"]))
        return cls(
            exception_id=exception_id,
            first_name=names[0] if names else "",
            last_name=names[-1] if len(names) > 1 else "",
            member_id=(raw.get("member_id") or "").strip(),
            service_dates=frozenset(dates),
            charge=Decimal(raw.get("charge") or "0"),
            procedures=frozenset(s["procedure"] for s in raw.get("services") or [] if s.get("procedure")),
        )


@dataclasses.dataclass(frozen=True)
class ClaimSuggestion:
    """A claim the payment may pay, with how well it fits and why, in words."""

    claim: Claim
    score: int
    reason: str


def _candidate_filter(facts: PaymentFacts) -> Q | None:
    who = Q()
    if facts.member_id:
        who |= Q(coverage__member_id__iexact=facts.member_id)
    if facts.first_name and facts.last_name:
        who |= Q(patient__first_name__iexact=facts.first_name, patient__last_name__iexact=facts.last_name)
    if facts.service_dates:
        # Nobody named alike: the same date of service and the same charge still make a candidate.
        who |= Q(service_date__in=facts.service_dates, charge_total=facts.charge)
    if not who or not facts.service_dates:
        return who or None
    window = datetime.timedelta(days=SUGGESTION_WINDOW_DAYS)
    return who & Q(service_date__range=(min(facts.service_dates) - window, max(facts.service_dates) + window))


def _words(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _score(facts: PaymentFacts, claim: Claim) -> ClaimSuggestion | None:
    same, differs, score = [], [], 0
    member_id = claim.coverage.member_id if claim.coverage_id else ""
    if facts.member_id and member_id.lower() == facts.member_id.lower():
        same.append("member id")
        score += 40
    patient = claim.patient
    if (
        facts.last_name
        and patient.last_name.lower() == facts.last_name.lower()
        and patient.first_name.lower() == facts.first_name.lower()
    ):
        same.append("patient name")
        score += 20
    claim_dates = {line.service_date_from for line in claim.lines.all()} or {claim.service_date}
    if facts.service_dates and facts.service_dates <= claim_dates:
        same.append("date of service")
        score += 30
    elif facts.service_dates:
        apart = min(abs((a - b).days) for a in facts.service_dates for b in claim_dates)
        differs.append(f"dates of service {apart} day{'s' if apart != 1 else ''} apart")
        score += max(0, 10 - apart)
    procedures = {line.procedure_code for line in claim.lines.all()}
    if facts.procedures and facts.procedures <= procedures:
        same.append("procedures")
        score += 10
    elif facts.procedures:
        missing = sorted(facts.procedures - procedures)
        differs.append(f"{', '.join(missing)} not on the claim")
        if not facts.procedures & procedures:
            score -= 30  # nothing paid is on the claim: the payment cannot post to it as sent
    if claim.charge_total == facts.charge:
        same.append("charge")
        score += 10
    else:
        differs.append(f"charge differs by {money(abs(claim.charge_total - facts.charge))}")
    if claim.status == ClaimStatus.PAID:
        differs.append("the claim is paid already")
        score -= 20
    if score < 30:  # neither who nor when fits well enough to offer it
        return None
    parts = ([f"same {_words(same)}"] if same else []) + differs
    return ClaimSuggestion(claim=claim, score=score, reason=", ".join(parts))


def exception_suggestions(practice, exceptions) -> dict[int, list[ClaimSuggestion]]:
    """For each unmatched exception among ``exceptions`` (open ones of ``practice``), the claims of the
    practice its payment may pay, best first (at most ``SUGGESTION_LIMIT``), each with its reason in words.

    From what the 835 carries (kept in the claim payment's ``raw``): candidates are claims sent to a payer
    with the same member id or patient name, or the same date of service and charge, within
    ``SUGGESTION_WINDOW_DAYS`` of the dates paid; they are scored in Python. Three queries however many
    exceptions (their payments, the candidate claims, their lines); none when no exception is unmatched."""
    wanted = [
        e
        for e in exceptions
        if e.kind == ExceptionKind.UNMATCHED and e.status == ExceptionStatus.OPEN and e.remittance_claim_id
    ]
    result: dict[int, list[ClaimSuggestion]] = {e.pk: [] for e in exceptions}
    if not wanted:
        return result
    raws = dict(
        RemittanceClaim.objects.filter(
            pk__in=[e.remittance_claim_id for e in wanted], remittance__practice=practice
        ).values_list("pk", "raw")
    )
    facts = [PaymentFacts.from_raw(e.pk, raws.get(e.remittance_claim_id) or {}) for e in wanted]
    condition = Q(pk__in=[])
    for fact in facts:
        found = _candidate_filter(fact)
        if found is not None:
            condition |= found
    candidates = list(
        scoped(Claim, practice)
        .exclude(status__in=_NOT_PAYABLE)
        .filter(condition)
        .select_related("patient", "coverage", "payer")
        .prefetch_related(
            Prefetch(
                "lines",
                queryset=ClaimLine.objects.filter(removed=False)
                .only("id", "claim_id", "procedure_code", "service_date_from")
                .order_by("line_number"),
            )
        )
        .order_by("-service_date", "-id")[:CANDIDATE_LIMIT]
    )
    for fact in facts:
        scored = [s for s in (_score(fact, claim) for claim in candidates) if s is not None]
        scored.sort(key=lambda s: (-s.score, -s.claim.service_date.toordinal(), -s.claim.pk))
        result[fact.exception_id] = scored[:SUGGESTION_LIMIT]
    return result
