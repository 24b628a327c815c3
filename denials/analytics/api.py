"""The denial analytics API: the numbers of ``/denials/analytics/`` (same filters, same definitions), each
row with the URL of the denials behind it. Money and percentages are strings with their decimals."""

from django.urls import reverse
from django.utils import timezone
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from denials.analytics.selectors import AnalyticsFilters, denial_analytics
from rcm.api.base import PracticeAPIView
from rcm.api.views import PRACTICE_HEADER, error_responses
from rcm.models import Payer, Provider
from rcm.tenancy import scoped


class AnalyticsFilterSerializer(serializers.Serializer):
    start = serializers.DateField(
        required=False, help_text="Default: the first day of the month 11 months ago."
    )
    end = serializers.DateField(required=False, help_text="Default: today.")
    payer = serializers.IntegerField(required=False, min_value=1)
    provider = serializers.IntegerField(required=False, min_value=1)

    def validate(self, data):
        practice = self.context["practice"]
        defaults, _errors = AnalyticsFilters.from_query({}, today=timezone.localdate())
        start, end = data.get("start") or defaults.start, data.get("end") or defaults.end
        if start > end:
            raise serializers.ValidationError({"start": "The range starts after it ends."})
        if data.get("payer") and not scoped(Payer, practice).filter(pk=data["payer"]).exists():
            raise serializers.ValidationError({"payer": "No such payer in this practice."})
        if data.get("provider") and not scoped(Provider, practice).filter(pk=data["provider"]).exists():
            raise serializers.ValidationError({"provider": "No such provider in this practice."})
        return AnalyticsFilters(start=start, end=end, payer=data.get("payer"), provider=data.get("provider"))


def _percent(**kwargs):
    return serializers.DecimalField(max_digits=7, decimal_places=1, read_only=True, allow_null=True, **kwargs)


def _money(**kwargs):
    return serializers.DecimalField(
        max_digits=16, decimal_places=2, read_only=True, allow_null=True, **kwargs
    )


class SummarySerializer(serializers.Serializer):
    adjudicated = serializers.IntegerField(
        help_text="claim adjudications (posted claim payments that decided)"
    )
    charges_adjudicated = _money(source="charges")
    denied_adjudications = serializers.IntegerField(source="denied_claims")
    denials = serializers.IntegerField()
    denied_amount = _money(source="amount")
    denial_rate = _percent(source="rate", help_text="% of adjudications with a denial")
    denial_rate_amount = _percent(source="rate_amount", help_text="% of charges adjudicated denied")
    preventable_denials = serializers.IntegerField(source="preventable_count")
    preventable_amount = _money()
    preventable_share = _percent(help_text="% of denied dollars that were preventable")
    appeals_decided = serializers.IntegerField()
    appeals_won = serializers.IntegerField()
    appeal_overturn_rate = _percent(source="overturn_rate")
    resolved = serializers.IntegerField()
    days_to_resolve = _percent(help_text="mean days from the remit date to the denial's resolution")


class RowSerializer(serializers.Serializer):
    key = serializers.CharField()
    label = serializers.CharField()
    denials = serializers.IntegerField()
    denied_adjudications = serializers.IntegerField(source="denied_claims")
    amount = _money()
    share = _percent(help_text="% of the period's denied dollars")
    adjudicated = serializers.IntegerField(allow_null=True)
    charges = _money()
    rate = _percent()
    rate_amount = _percent()
    cumulative = _percent(help_text="Pareto (category only): cumulative % of denied dollars")
    denials_url = serializers.SerializerMethodField()

    def get_denials_url(self, row) -> str:
        return f"{reverse('denials:analytics_denials')}?{row.query}"


class AnalyticsSerializer(serializers.Serializer):
    start = serializers.DateField(source="filters.start")
    end = serializers.DateField(source="filters.end")
    summary = SummarySerializer()
    month = RowSerializer(many=True)
    payer = RowSerializer(many=True)
    provider = RowSerializer(many=True)
    procedure = RowSerializer(many=True)
    category = RowSerializer(many=True, help_text="the Pareto of root causes by dollars")
    carc = RowSerializer(many=True)
    owner = RowSerializer(many=True)


class DenialAnalyticsView(PracticeAPIView):
    """Denial rate by count and dollars, over time and by payer, provider, procedure, category, CARC and
    owner; the Pareto of root causes; preventable share; appeal overturn rate; days to resolve."""

    required_permission = "denials.view"

    @extend_schema(
        parameters=[
            PRACTICE_HEADER,
            OpenApiParameter("start", str, description="YYYY-MM-DD"),
            OpenApiParameter("end", str, description="YYYY-MM-DD"),
            OpenApiParameter("payer", int),
            OpenApiParameter("provider", int),
        ],
        responses={200: AnalyticsSerializer, **error_responses(400, 403)},
    )
    def get(self, request):
        filters = AnalyticsFilterSerializer(data=request.query_params, context={"practice": request.practice})
        filters.is_valid(raise_exception=True)
        return Response(AnalyticsSerializer(denial_analytics(request.practice, filters.validated_data)).data)
