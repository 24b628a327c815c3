"""The KPIs API: every KPI's value over a date range (with the dashboard's filters), monthly series, and
the claims behind a number, and the revenue-cycle cost of each month (the cost to collect's numerator).
Values and money are strings with their decimals; a KPI that needs a feature not built yet has
``value: null`` and says what it needs; one that lacks an input for the period says so in ``missing``."""

import datetime

from django.utils import timezone
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from kpis.definitions import BY_SLUG, DEFINITIONS
from kpis.forms import DEFAULT_DAYS, MAX_DAYS, scope_from
from kpis.measures import SELF_PAY
from kpis.models import Dimension
from kpis.scorecard import month_end, month_start, payer_scorecard
from kpis.selectors import (
    COST_MONTHS,
    TREND_MONTHS,
    kpi_claims,
    kpi_series,
    kpi_values,
    revenue_cycle_costs,
    snapshot_status,
)
from kpis.services import revenue_cycle_cost_set
from rcm.api.base import PracticeAPIMixin
from rcm.api.errors import error_response
from rcm.api.pagination import StandardPagination
from rcm.api.parsers import JSONParser
from rcm.api.views import PRACTICE_HEADER, error_responses
from rcm.models import Payer, Provider
from rcm.tenancy import scoped

# --- In ----------------------------------------------------------------------------------------


class KpiFilterSerializer(serializers.Serializer):
    start = serializers.DateField(required=False, help_text=f"Default: {DEFAULT_DAYS} days before end.")
    end = serializers.DateField(required=False, help_text="Default: the last computed day (else today).")
    scope = serializers.RegexField(
        r"^(|payer:(\d+|self-pay)|provider:\d+|place_of_service:\w{1,2})$",
        required=False,
        default="",
        help_text='"" for the whole practice, "payer:<id>", "payer:self-pay", "provider:<id>" or '
        '"place_of_service:<code>".',
    )
    part = serializers.ChoiceField(["numerator", "denominator"], required=False, default="denominator")

    def validate(self, data):
        practice, default_end = self.context["practice"], self.context["default_end"]
        end = data.get("end") or default_end
        start = data.get("start") or end - datetime.timedelta(days=DEFAULT_DAYS - 1)
        if start > end:
            raise serializers.ValidationError({"start": "The range starts after it ends."})
        if (end - start).days >= MAX_DAYS:
            raise serializers.ValidationError({"start": "Choose a range of at most three years."})
        scope = scope_from(data["scope"])
        known = {
            Dimension.PAYER: lambda v: v == SELF_PAY or scoped(Payer, practice).filter(pk=v).exists(),
            Dimension.PROVIDER: lambda v: scoped(Provider, practice).filter(pk=v).exists(),
        }
        if scope.dimension in known and not known[scope.dimension](scope.value):
            raise serializers.ValidationError({"scope": "No such payer or provider in this practice."})
        return {**data, "start": start, "end": end, "scope": scope}


# --- Out ---------------------------------------------------------------------------------------


def _number(**kwargs):
    return serializers.DecimalField(
        max_digits=18, decimal_places=2, read_only=True, allow_null=True, **kwargs
    )


class KpiValueSerializer(serializers.Serializer):
    slug = serializers.CharField(source="definition.slug")
    name = serializers.CharField(source="definition.name")
    unit = serializers.CharField(source="definition.unit", help_text="percent, days or money")
    kind = serializers.CharField(
        source="definition.kind",
        help_text="flow (summed over days), stock (last day) or monthly (the whole months the range touches)",
    )
    value = _number(
        help_text="null when there is nothing to divide by, or the KPI needs a feature not built yet"
    )
    previous = _number(help_text="the value over the same number of days just before")
    change = _number()
    numerator = _number()
    denominator = _number()
    band = serializers.CharField(help_text='"ok", "warn", "bad", or "" without a target')
    target_good = _number(source="good")
    target_warn = _number(source="warn")
    needs = serializers.CharField(
        source="definition.needs", help_text="what the KPI needs before it has a number"
    )
    missing = serializers.CharField(
        help_text='why a computed KPI has no number for this range, e.g. "enter the month\'s cost: Mar 2026"'
    )
    formula = serializers.CharField(source="definition.formula")
    numerator_means = serializers.CharField(source="definition.numerator")
    denominator_means = serializers.CharField(source="definition.denominator")
    period_rule = serializers.CharField(source="definition.period_rule")


class KpiValuesSerializer(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()
    computed_at = serializers.DateTimeField(allow_null=True)
    last_computed_day = serializers.DateField(allow_null=True)
    results = KpiValueSerializer(many=True)


class SeriesPointSerializer(serializers.Serializer):
    month = serializers.DateField()
    computed = serializers.BooleanField()
    value = _number()


class KpiClaimSerializer(serializers.Serializer):
    id = serializers.IntegerField(source="pk")
    patient_control_number = serializers.CharField()
    payer = serializers.CharField(source="payer.name", default=None, allow_null=True)
    status = serializers.CharField()
    service_date = serializers.DateField()
    charge_total = _number()
    balance = _number()
    counts_for = _number(help_text="what the claim adds to the numerator or denominator asked for")


FILTERS = [
    OpenApiParameter("start", datetime.date),
    OpenApiParameter("end", datetime.date),
    OpenApiParameter("scope", str),
]


class _OneObjectListSchema(AutoSchema):
    """The KPI list answers one object (the range and its values), not an array of them."""

    def _is_list_view(self, serializer=None):
        return False


class KpiViewSet(PracticeAPIMixin, viewsets.ViewSet):
    """KPIs read from the precomputed daily snapshots; the claims behind a number from the KPI's own query."""

    schema = _OneObjectListSchema()

    required_permission = "kpis.view"
    lookup_field = "slug"
    lookup_value_regex = "[a-z0-9_]+"

    def _filters(self):
        status = snapshot_status(self.request.practice)
        filters = KpiFilterSerializer(
            data=self.request.query_params,
            context={
                "practice": self.request.practice,
                "default_end": status["last_day"] or timezone.localdate(),
            },
        )
        filters.is_valid(raise_exception=True)
        return status, filters.validated_data

    @extend_schema(
        operation_id="kpis_list",
        parameters=[PRACTICE_HEADER, *FILTERS],
        responses={200: KpiValuesSerializer, **error_responses(400, 403)},
    )
    def list(self, request):
        status, wanted = self._filters()
        values = kpi_values(request.practice, start=wanted["start"], end=wanted["end"], scope=wanted["scope"])
        return Response(
            KpiValuesSerializer(
                {
                    "start": wanted["start"],
                    "end": wanted["end"],
                    "computed_at": status["computed_at"],
                    "last_computed_day": status["last_day"],
                    "results": [values[d.slug] for d in DEFINITIONS],
                }
            ).data
        )

    @extend_schema(
        parameters=[PRACTICE_HEADER, *FILTERS],
        responses={200: KpiValueSerializer, **error_responses(400, 403, 404)},
    )
    def retrieve(self, request, slug=None):
        if slug not in BY_SLUG:
            return error_response(f"No KPI {slug!r}.", code="not_found", http_status=404)
        _status, wanted = self._filters()
        values = kpi_values(request.practice, start=wanted["start"], end=wanted["end"], scope=wanted["scope"])
        return Response(KpiValueSerializer(values[slug]).data)

    @extend_schema(
        parameters=[PRACTICE_HEADER, *FILTERS],
        responses={200: SeriesPointSerializer(many=True), **error_responses(400, 403, 404)},
        description=f"Monthly values for the {TREND_MONTHS} months ending with end's month.",
    )
    @action(detail=True, methods=["get"])
    def series(self, request, slug=None):
        definition = BY_SLUG.get(slug)
        if definition is None or not definition.computed:
            return error_response(f"No computed KPI {slug!r}.", code="not_found", http_status=404)
        _status, wanted = self._filters()
        series = kpi_series(request.practice, slugs=[slug], end=wanted["end"], scope=wanted["scope"])
        return Response(SeriesPointSerializer(series[slug], many=True).data)

    @extend_schema(
        parameters=[
            PRACTICE_HEADER,
            *FILTERS,
            OpenApiParameter("part", str, enum=["numerator", "denominator"]),
        ],
        responses={200: KpiClaimSerializer(many=True), **error_responses(400, 403, 404)},
    )
    @action(detail=True, methods=["get"])
    def claims(self, request, slug=None):
        definition = BY_SLUG.get(slug)
        if definition is None or not definition.computed:
            return error_response(f"No computed KPI {slug!r}.", code="not_found", http_status=404)
        _status, wanted = self._filters()
        drilldown = kpi_claims(
            request.practice,
            slug,
            start=wanted["start"],
            end=wanted["end"],
            scope=wanted["scope"],
            part=wanted["part"],
        )
        paginator = StandardPagination()
        page = list(drilldown.label(paginator.paginate_queryset(drilldown.claims, request, view=self)))
        return paginator.get_paginated_response(KpiClaimSerializer(page, many=True).data)


# --- the payer scorecard ---------------------------------------------------------------------------------


class ScorecardFilterSerializer(serializers.Serializer):
    months = serializers.ChoiceField([3, 6, 12], default=12, help_text="How many months, ending with end's.")
    end = serializers.DateField(required=False, help_text="A day of the last month (default: today).")


class PayerScorecardSerializer(serializers.Serializer):
    """One payer over the months: counts, dollars (strings with two decimals) and rates (null when there is
    nothing to divide)."""

    payer = serializers.IntegerField(source="payer_id")
    payer_name = serializers.CharField()
    claims = serializers.IntegerField()
    charges = serializers.DecimalField(max_digits=16, decimal_places=2)
    payments = serializers.DecimalField(max_digits=16, decimal_places=2)
    days_to_pay = serializers.DecimalField(max_digits=8, decimal_places=1, allow_null=True)
    days_to_pay_p90 = serializers.IntegerField(
        allow_null=True, help_text="The worst month's 90th percentile."
    )
    initial_denial_rate = serializers.DecimalField(max_digits=6, decimal_places=1, allow_null=True)
    top_carcs = serializers.ListField(child=serializers.ListField(), help_text='[["CARC", count], ...]')
    clean_claim_rate = serializers.DecimalField(max_digits=6, decimal_places=1, allow_null=True)
    underpaid = serializers.DecimalField(max_digits=16, decimal_places=2)
    underpaid_percent = serializers.DecimalField(max_digits=6, decimal_places=1, allow_null=True)
    recovered = serializers.DecimalField(max_digits=16, decimal_places=2)
    appeal_overturn_rate = serializers.DecimalField(max_digits=6, decimal_places=1, allow_null=True)


class PayerScorecardView(PracticeAPIMixin, viewsets.ViewSet):
    """The payer scorecard numbers (the manager's ``/kpis/payers/`` page)."""

    required_permission = "kpis.scorecard"

    @extend_schema(
        summary="Every payer's scorecard over 3, 6 or 12 months",
        parameters=[PRACTICE_HEADER, ScorecardFilterSerializer],
        responses={200: PayerScorecardSerializer(many=True), **error_responses(400, 403)},
    )
    def list(self, request):
        filters = ScorecardFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        end = month_end(month_start(filters.validated_data.get("end") or timezone.localdate()))
        start = month_start(end)
        for _ in range(int(filters.validated_data["months"]) - 1):
            start = month_start(start - datetime.timedelta(days=1))
        cards = payer_scorecard(request.practice, start=start, end=end)
        return Response(PayerScorecardSerializer(cards, many=True).data)


# --- the revenue-cycle cost of each month ----------------------------------------------------------------


class RevenueCycleCostInSerializer(serializers.Serializer):
    amount = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=0, help_text='Dollars and cents, e.g. "1500.00".'
    )
    note = serializers.CharField(max_length=200, required=False, default="", allow_blank=True)


class RevenueCycleCostMonthSerializer(serializers.Serializer):
    month = serializers.DateField(help_text="The month's first day.")
    cost = serializers.DecimalField(
        source="cost.amount", max_digits=12, decimal_places=2, allow_null=True, default=None
    )
    note = serializers.CharField(source="cost.note", allow_null=True, default=None)
    entered_by = serializers.CharField(source="cost.entered_by.get_username", allow_null=True, default=None)
    entered_at = serializers.DateTimeField(source="cost.entered_at", allow_null=True, default=None)
    cash = serializers.DecimalField(
        max_digits=16, decimal_places=2, help_text="Payments minus refunds dated in the month (as computed)."
    )
    cost_to_collect = serializers.DecimalField(
        source="percent",
        max_digits=8,
        decimal_places=2,
        allow_null=True,
        help_text="Cost ÷ cash, in percent; null without a cost or without cash.",
    )


MONTH_VALUE = r"20[0-9]{2}-(0[1-9]|1[0-2])"  # a month of this century: YYYY-MM


class RevenueCycleCostViewSet(PracticeAPIMixin, viewsets.ViewSet):
    """The practice's revenue-cycle cost per calendar month (the manager's ``/kpis/costs/`` page): the last
    24 months with their cash and cost to collect, and the upsert of one month."""

    required_permission = "kpis.targets"
    parser_classes = [JSONParser]
    lookup_field = "month"
    lookup_value_regex = MONTH_VALUE

    @extend_schema(
        summary=f"The last {COST_MONTHS} months' revenue-cycle costs, cash and cost to collect",
        parameters=[PRACTICE_HEADER],
        responses={200: RevenueCycleCostMonthSerializer(many=True), **error_responses(403)},
    )
    def list(self, request):
        months = revenue_cycle_costs(request.practice, end_month=timezone.localdate())
        return Response(RevenueCycleCostMonthSerializer(months, many=True).data)

    @extend_schema(
        summary="Enter or correct one month's revenue-cycle cost",
        description="The month in the address as YYYY-MM. Creates the month's cost or replaces it (each "
        "change is audited); a month that has not started, a negative amount or more than 2 decimals is "
        "refused (400) and nothing is saved.",
        parameters=[
            PRACTICE_HEADER,
            OpenApiParameter("month", str, OpenApiParameter.PATH, pattern=MONTH_VALUE),
        ],
        request=RevenueCycleCostInSerializer,
        responses={200: RevenueCycleCostMonthSerializer, **error_responses(400, 403)},
    )
    def update(self, request, month=None):
        payload = RevenueCycleCostInSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        first = datetime.date.fromisoformat(f"{month}-01")
        revenue_cycle_cost_set(
            practice=request.practice,
            month=first,
            amount=payload.validated_data["amount"],
            note=payload.validated_data["note"],
            user=request.user,
            today=timezone.localdate(),
        )
        [row] = revenue_cycle_costs(request.practice, end_month=first, months=1)
        return Response(RevenueCycleCostMonthSerializer(row).data)
