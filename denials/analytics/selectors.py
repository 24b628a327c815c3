"""Denial analytics: how often and how much the payers deny, over time and by payer, procedure, provider,
root-cause category, CARC and owner; the Pareto of root causes by dollars; the preventable share; appeal
overturn rate and days to resolve. Every number carries the filter of the denials behind it (``drill``).

The unit of the rate is the **adjudication**: a posted claim payment (CLP) that decided the claim (not a
reversal, not reversed since), dated by its remittance's payment date. Denial rate by count = adjudications
with at least one denial ÷ adjudications; by dollars = denied amount ÷ charges adjudicated. A denial is dated
by its remittance's payment date (``remit_date``) too, so numerator and denominator cover the same days.
By procedure the unit is the adjudicated line (a claim-level denial counts as "whole claim").

Set-based: each table is one grouped query, so the page costs the same number of queries whatever the data."""

import dataclasses
import datetime
from decimal import ROUND_HALF_UP, Decimal
from urllib.parse import urlencode

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

from claims.models import RemittanceClaim, RemittanceLine
from denials.models import ZERO, Denial, DenialStatus, DenialStatusChange
from denials.reference import CATEGORY_CHOICES, OWNER_CHOICES, carc_words
from denials.state_machine import CLOSED_STATUSES
from rcm.models import Payer, Provider
from rcm.practice_cache import practice_cached

S = DenialStatus
DECISIONS = ("1", "2", "3", "4", "19", "20", "21", "23")  # CLP02 values that decide a claim (22 reverses)
WON = (S.OVERTURNED, S.PARTLY_OVERTURNED)
DECIDED = (*WON, S.UPHELD, S.WRITTEN_OFF)  # after an appeal: the payer answered (or we gave up)
CATEGORY_LABELS = dict(CATEGORY_CHOICES)
OWNER_LABELS = dict(OWNER_CHOICES)
WHOLE_CLAIM = "whole claim"
VIEWS = ("summary", "month", "payer", "provider", "procedure", "category", "carc", "owner")
DRILLS = (
    "month",
    "payer",
    "provider",
    "category",
    "carc",
    "owner",
    "procedure",
    "preventable",
    "appeal",
    "resolved",
)


def _cents(value) -> Decimal:
    return Decimal(value).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def _percent(part, whole) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


@dataclasses.dataclass(frozen=True)
class AnalyticsFilters:
    start: datetime.date
    end: datetime.date
    payer: int | None = None
    provider: int | None = None

    @classmethod
    def from_query(cls, query, *, today: datetime.date | None = None) -> tuple["AnalyticsFilters", list[str]]:
        """The filters of a query string, and what was wrong with it (then the default is used): the last
        twelve months (from the first day of the month eleven months back) to today."""
        today = today or timezone.localdate()
        month = today.month - 11
        default_start = datetime.date(today.year + (month - 1) // 12, (month - 1) % 12 + 1, 1)
        errors = []
        start = _date(query.get("from"), default_start, "From", errors)
        end = _date(query.get("to"), today, "To", errors)
        if start > end:
            errors.append(
                f"From ({start:%m/%d/%Y}) is after To ({end:%m/%d/%Y}): showing the last 12 months."
            )
            start, end = default_start, today
        payer = query.get("payer", "")
        provider = query.get("provider", "")
        return (
            cls(
                start=start,
                end=end,
                payer=int(payer) if payer.isdigit() else None,
                provider=int(provider) if provider.isdigit() else None,
            ),
            errors,
        )

    def params(self, **extra) -> dict[str, str]:
        params = {"from": self.start.isoformat(), "to": self.end.isoformat()}
        if self.payer:
            params["payer"] = str(self.payer)
        if self.provider:
            params["provider"] = str(self.provider)
        params.update({key: str(value) for key, value in extra.items() if value is not None})
        return params

    def query(self, **extra) -> str:
        return urlencode(self.params(**extra))


def _date(value, default: datetime.date, label: str, errors: list[str]) -> datetime.date:
    if not value:
        return default
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        errors.append(f"{label} date {value!r} is not a date (YYYY-MM-DD): using {default:%m/%d/%Y}.")
        return default


@dataclasses.dataclass
class Row:
    """One bar of a breakdown: the denials of a group, and (where it has one) the group's denominator."""

    key: str
    label: str
    denials: int
    denied_claims: int  # adjudications with a denial in the group (lines, by procedure)
    amount: Decimal
    drill: dict[str, str]
    adjudicated: int | None = None
    charges: Decimal | None = None
    share: Decimal | None = None  # of the period's denied dollars
    cumulative: Decimal | None = None  # Pareto: this row and the ones before it

    def __post_init__(self):
        self.amount = _cents(self.amount)
        self.charges = None if self.charges is None else _cents(self.charges)

    @property
    def rate(self) -> Decimal | None:
        return _percent(self.denied_claims, self.adjudicated)

    @property
    def rate_amount(self) -> Decimal | None:
        return _percent(self.amount, self.charges)

    @property
    def query(self) -> str:
        """The query string of the denials behind the row."""
        return urlencode(self.drill)


@dataclasses.dataclass
class Summary:
    adjudicated: int
    charges: Decimal
    denied_claims: int
    denials: int
    amount: Decimal
    preventable_count: int
    preventable_amount: Decimal
    appeals_decided: int
    appeals_won: int
    resolved: int
    days_to_resolve: Decimal | None

    def __post_init__(self):
        self.charges, self.amount = _cents(self.charges), _cents(self.amount)
        self.preventable_amount = _cents(self.preventable_amount)

    @property
    def rate(self):
        return _percent(self.denied_claims, self.adjudicated)

    @property
    def rate_amount(self):
        return _percent(self.amount, self.charges)

    @property
    def preventable_share(self):
        return _percent(self.preventable_amount, self.amount)

    @property
    def preventable_count_share(self):
        return _percent(self.preventable_count, self.denials)

    @property
    def overturn_rate(self):
        return _percent(self.appeals_won, self.appeals_decided)


@dataclasses.dataclass
class Analytics:
    filters: AnalyticsFilters
    summary: Summary
    month: list[Row]
    payer: list[Row]
    provider: list[Row]
    procedure: list[Row]
    category: list[Row]  # the Pareto: by dollars, with the cumulative share
    carc: list[Row]
    owner: list[Row]


# --- the querysets everything starts from ----------------------------------------------------------


def _scope_claims(queryset: QuerySet, filters: AnalyticsFilters, claim: str) -> QuerySet:
    if filters.payer:
        queryset = queryset.filter(**{f"{claim}payer_id": filters.payer})
    if filters.provider:
        queryset = queryset.filter(**{f"{claim}rendering_provider_id": filters.provider})
    return queryset


def denials_in(practice, filters: AnalyticsFilters) -> QuerySet[Denial]:
    """The practice's denials from remittances paid in the range, for the payer and provider chosen."""
    queryset = Denial.objects.filter(
        practice=practice, remit_date__gte=filters.start, remit_date__lte=filters.end
    )
    return _scope_claims(queryset, filters, "claim__")


def adjudications_in(practice, filters: AnalyticsFilters) -> QuerySet[RemittanceClaim]:
    queryset = RemittanceClaim.objects.filter(
        remittance__practice=practice,
        posted=True,
        reversed_by__isnull=True,
        status_code__in=DECISIONS,
        claim__isnull=False,
        remittance__payment_date__gte=filters.start,
        remittance__payment_date__lte=filters.end,
    )
    return _scope_claims(queryset, filters, "claim__")


def _adjudicated_lines(practice, filters: AnalyticsFilters) -> QuerySet[RemittanceLine]:
    queryset = RemittanceLine.objects.filter(
        remittance_claim__remittance__practice=practice,
        remittance_claim__posted=True,
        remittance_claim__reversed_by__isnull=True,
        remittance_claim__status_code__in=DECISIONS,
        remittance_claim__claim__isnull=False,
        remittance_claim__remittance__payment_date__gte=filters.start,
        remittance_claim__remittance__payment_date__lte=filters.end,
    )
    return _scope_claims(queryset, filters, "remittance_claim__claim__")


def _appealed() -> Exists:
    return Exists(DenialStatusChange.objects.filter(denial=OuterRef("pk"), to_status=S.APPEALED))


# --- the drill: the denials behind a number ---------------------------------------------------------


def drill_denials(practice, filters: AnalyticsFilters, query) -> tuple[QuerySet[Denial], list[str]]:
    """The denials behind one number of the page: the range filters plus the one group the number is
    about (``month=2026-03``, ``category=coding``, ``procedure=97110``, ``preventable=1``, ``appeal=won``...).
    Returns the denials, largest first, and the words of what they are."""
    queryset = denials_in(practice, filters)
    said = []
    month = query.get("month", "")
    if month:
        try:
            first = datetime.date.fromisoformat(f"{month}-01")
        except ValueError:
            first = None
        if first is not None:
            last = (first.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
            queryset = queryset.filter(remit_date__gte=first, remit_date__lt=last)
            said.append(f"paid in {first:%B %Y}")
    for name, field, words in (
        ("category", "category", lambda v: f"category {CATEGORY_LABELS.get(v, v)}"),
        ("carc", "reason_code", lambda v: f"CARC {v}"),
        ("owner", "owner", lambda v: f"owner {OWNER_LABELS.get(v, v)}"),
    ):
        value = query.get(name, "")
        if value:
            queryset = queryset.filter(**{field: value})
            said.append(words(value))
    if "procedure" in query:
        code = query.get("procedure", "")
        queryset = queryset.filter(line__procedure_code=code) if code else queryset.filter(line__isnull=True)
        said.append(f"procedure {code}" if code else "denied as a whole claim")
    if query.get("preventable") == "1":
        queryset = queryset.filter(preventable=True)
        said.append("preventable")
    appeal = query.get("appeal", "")
    if appeal in ("decided", "won"):
        queryset = queryset.filter(_appealed(), status__in=WON if appeal == "won" else DECIDED)
        said.append("appealed and won" if appeal == "won" else "appealed and decided")
    if query.get("resolved") == "1":
        queryset = queryset.filter(status__in=sorted(CLOSED_STATUSES))
        said.append("resolved")
    rows = queryset.select_related("claim", "claim__payer", "line").order_by("-amount", "-remit_date", "pk")
    return rows, said


# --- the numbers ------------------------------------------------------------------------------------


def analytics_choices(practice) -> tuple[dict[int, str], dict[int, str]]:
    """The practice's payers and providers by id, by name: the filters' choices and the rows' labels."""
    payers = dict(Payer.objects.filter(practice=practice).order_by("name").values_list("pk", "name"))
    providers = {p.pk: str(p) for p in Provider.objects.filter(practice=practice).order_by("last_name", "pk")}
    return payers, providers


def denial_analytics(practice, filters: AnalyticsFilters, *, payers=None, providers=None) -> Analytics:
    """Every number of the analytics page: fifteen queries whatever the data (seventeen when the payer and
    provider names are not given), cached until the practice's claims change (``rcm.practice_cache``: ERA
    postings, appeals, write-offs and voids all change claims). A root-cause rule applied to open denials
    changes no claim: its new categories show when the cache expires (at most 15 minutes)."""
    if payers is None or providers is None:
        payers, providers = analytics_choices(practice)
    return practice_cached(
        practice,
        f"denial-analytics:{filters.query()}",
        lambda: _denial_analytics(practice, filters, payers, providers),
    )


def _denial_analytics(practice, filters: AnalyticsFilters, payers, providers) -> Analytics:
    denials = denials_in(practice, filters)
    adjudications = adjudications_in(practice, filters)
    summary = _summary(denials, adjudications)
    return Analytics(
        filters=filters,
        summary=summary,
        month=_by_month(denials, adjudications, filters, summary.amount),
        payer=_by_claim_field(denials, adjudications, filters, "payer", payers, summary.amount),
        provider=_by_claim_field(
            denials, adjudications, filters, "rendering_provider", providers, summary.amount
        ),
        procedure=_by_procedure(denials, _adjudicated_lines(practice, filters), filters, summary.amount),
        category=_pareto(_by_field(denials, "category", filters, CATEGORY_LABELS, summary.amount)),
        carc=_by_field(denials, "reason_code", filters, None, summary.amount, drill_name="carc"),
        owner=_by_field(denials, "owner", filters, OWNER_LABELS, summary.amount),
    )


def _denial_totals():
    return {
        "denials": Count("pk"),
        "denied_claims": Count("remittance_claim", distinct=True),
        "denied_amount": Coalesce(Sum("amount"), ZERO),
    }


def _summary(denials: QuerySet, adjudications: QuerySet) -> Summary:
    adjudicated = adjudications.aggregate(count=Count("pk"), charges=Coalesce(Sum("charge"), ZERO))
    totals = denials.aggregate(
        **_denial_totals(),
        preventable_count=Count("pk", filter=Q(preventable=True)),
        preventable_amount=Coalesce(Sum("amount", filter=Q(preventable=True)), ZERO),
    )
    appeals = denials.annotate(appealed=_appealed()).aggregate(
        decided=Count("pk", filter=Q(appealed=True, status__in=DECIDED)),
        won=Count("pk", filter=Q(appealed=True, status__in=WON)),
    )
    resolved = list(
        denials.filter(status__in=sorted(CLOSED_STATUSES)).values_list("remit_date", "status_changed_at")
    )
    days = [(timezone.localdate(at) - remitted).days for remitted, at in resolved]
    return Summary(
        adjudicated=adjudicated["count"],
        charges=adjudicated["charges"],
        denied_claims=totals["denied_claims"],
        denials=totals["denials"],
        amount=totals["denied_amount"],
        preventable_count=totals["preventable_count"],
        preventable_amount=totals["preventable_amount"],
        appeals_decided=appeals["decided"],
        appeals_won=appeals["won"],
        resolved=len(days),
        days_to_resolve=(Decimal(sum(days)) / len(days)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
        if days
        else None,
    )


def _share(amount: Decimal, total: Decimal) -> Decimal | None:
    return _percent(amount, total)


def _by_month(denials, adjudications, filters, total) -> list[Row]:
    denied = {
        _month_key(row["month"]): row
        for row in denials.annotate(month=TruncMonth("remit_date"))
        .values("month")
        .annotate(**_denial_totals())
    }
    adjudicated = {
        _month_key(row["month"]): row
        for row in adjudications.annotate(month=TruncMonth("remittance__payment_date"))
        .values("month")
        .annotate(count=Count("pk"), charges=Coalesce(Sum("charge"), ZERO))
    }
    rows = []
    month = filters.start.replace(day=1)
    while month <= filters.end:
        row = denied.get(month, {})
        base = adjudicated.get(month, {})
        rows.append(
            Row(
                key=f"{month:%Y-%m}",
                label=f"{month:%b %Y}",
                denials=row.get("denials", 0),
                denied_claims=row.get("denied_claims", 0),
                amount=row.get("denied_amount", ZERO),
                adjudicated=base.get("count", 0),
                charges=base.get("charges", ZERO),
                share=_share(row.get("denied_amount", ZERO), total),
                drill=filters.params(month=f"{month:%Y-%m}"),
            )
        )
        month = (month + datetime.timedelta(days=32)).replace(day=1)
    return rows


def _month_key(value) -> datetime.date:
    return value.date() if isinstance(value, datetime.datetime) else value


def _by_claim_field(denials, adjudications, filters, field, names, total) -> list[Row]:
    """Denials and adjudications grouped by a field of the claim (payer, rendering provider)."""
    denied = {
        row["key"]: row
        for row in denials.annotate(key=F(f"claim__{field}_id")).values("key").annotate(**_denial_totals())
    }
    adjudicated = {
        row["key"]: row
        for row in adjudications.annotate(key=F(f"claim__{field}_id"))
        .values("key")
        .annotate(count=Count("pk"), charges=Coalesce(Sum("charge"), ZERO))
    }
    drill_name = "payer" if field == "payer" else "provider"
    rows = []
    for key in {*denied, *adjudicated}:
        row, base = denied.get(key, {}), adjudicated.get(key, {})
        rows.append(
            Row(
                key=str(key or ""),
                label=names.get(key, "none (self-pay)" if field == "payer" else "not named"),
                denials=row.get("denials", 0),
                denied_claims=row.get("denied_claims", 0),
                amount=row.get("denied_amount", ZERO),
                adjudicated=base.get("count", 0),
                charges=base.get("charges", ZERO),
                share=_share(row.get("denied_amount", ZERO), total),
                drill=dataclasses.replace(filters, **{drill_name: key}).params() if key else filters.params(),
            )
        )
    return sorted(rows, key=lambda r: (-r.amount, -r.denials, r.label))


def _by_procedure(denials, lines, filters, total) -> list[Row]:
    denied = {
        row["key"] or "": row
        for row in denials.annotate(key=F("line__procedure_code"))
        .values("key")
        .annotate(denials=Count("pk"), denied_amount=Coalesce(Sum("amount"), ZERO))
    }
    adjudicated = {
        row["procedure_code"]: row
        for row in lines.values("procedure_code").annotate(
            count=Count("pk"), charges=Coalesce(Sum("charge"), ZERO)
        )
    }
    rows = []
    for key, row in denied.items():
        base = adjudicated.get(key) if key else None
        rows.append(
            Row(
                key=key,
                label=key or WHOLE_CLAIM,
                denials=row["denials"],
                denied_claims=row["denials"],  # the unit is the line
                amount=row["denied_amount"],
                adjudicated=base["count"] if base else None,
                charges=base["charges"] if base else None,
                share=_share(row["denied_amount"], total),
                drill=filters.params(procedure=key),
            )
        )
    return sorted(rows, key=lambda r: (-r.amount, -r.denials, r.label))


def _by_field(denials, field, filters, labels, total, drill_name=None) -> list[Row]:
    rows = []
    for row in denials.values(field).annotate(**_denial_totals()):
        key = row[field]
        rows.append(
            Row(
                key=key,
                label=(labels or {}).get(key, key) if labels else f"{key}: {carc_words(key)}",
                denials=row["denials"],
                denied_claims=row["denied_claims"],
                amount=row["denied_amount"],
                share=_share(row["denied_amount"], total),
                drill=filters.params(**{drill_name or field: key}),
            )
        )
    return sorted(rows, key=lambda r: (-r.amount, -r.denials, r.key))


def _pareto(rows: list[Row]) -> list[Row]:
    """Rows by dollars (as sorted) with the cumulative share of the denied dollars."""
    total = sum((row.amount for row in rows), ZERO)
    running = ZERO
    for row in rows:
        running += row.amount
        row.cumulative = _percent(running, total)
    return rows
