"""The underpayments API: underpayments with their evidence and actions (appeal, accept, recovered, the
appeal letter), expected against allowed per adjudicated line, and drift findings. Everything is scoped to
the request's practice (another practice's underpayment is a 404); opening one is audited (it names the
claim); actions go through ``claims.underpayments.services`` and a refusal is a 400 that changes nothing."""

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from claims.models import LineVariance, Underpayment, UnderpaymentStatus, VarianceKind
from claims.underpayments.letters import letter_filename, underpayment_letter_pdf
from claims.underpayments.selectors import (
    drift_findings,
    line_variances,
    underpayment_detail,
    underpayment_list,
    with_cas,
    with_evidence,
)
from claims.underpayments.services import (
    underpayment_accept,
    underpayment_appeal,
    underpayment_mark_recovered,
)
from rcm.api.base import PracticeAPIView, PracticeScopedViewSet
from rcm.api.parsers import JSONParser
from rcm.api.serializers import EnumField
from rcm.api.views import PRACTICE_HEADER, error_responses
from rcm.audit import audit_view


def _money(**kwargs):
    return serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True, **kwargs)


class LineVarianceSerializer(serializers.ModelSerializer):
    """One adjudicated line against its contract. ``expected_allowed``, ``variance``, ``contract`` and
    ``fee_row`` are null when no contract or row applied on the date of service (kind unknown)."""

    kind = EnumField(VarianceKind)
    line_number = serializers.IntegerField(source="claim_line.line_number")
    contract_name = serializers.CharField(source="contract.name", allow_null=True, default=None)
    expected_allowed = _money(allow_null=True, help_text="What the contract says the line is allowed.")
    allowed = _money(help_text="What the payer allowed: paid + patient responsibility (or AMT*B6).")
    paid = _money()
    variance = _money(allow_null=True, help_text="expected_allowed − allowed: positive is short.")
    cas = serializers.ListField(
        child=serializers.CharField(), default=list, help_text='The line\'s CAS codes, e.g. "CO-45 12.00".'
    )
    basis = serializers.CharField(
        read_only=True,
        help_text='Where the expected amount came from, e.g. "row 99214 non-facility $130.00" or '
        '"110.00% of Medicare (Medicare 2027): row 99214 non-facility $110.00".',
    )

    class Meta:
        model = LineVariance
        fields = [
            "id",
            "claim",
            "line_number",
            "procedure_code",
            "service_date",
            "paid_date",
            "payer",
            "contract",
            "contract_name",
            "fee_row",
            "basis",
            "expected_allowed",
            "allowed",
            "paid",
            "variance",
            "kind",
            "cas",
        ]


class UnderpaymentSerializer(serializers.ModelSerializer):
    status = EnumField(UnderpaymentStatus)
    claim_number = serializers.CharField(source="claim.patient_control_number")
    shortfall = _money(help_text="What the short lines are short now.")
    found_shortfall = _money(help_text="The largest shortfall seen.")
    recovered_amount = _money()
    evidence = LineVarianceSerializer(
        many=True, help_text="The lines short now (all lines on one underpayment)."
    )

    class Meta:
        model = Underpayment
        fields = [
            "id",
            "claim",
            "claim_number",
            "payer",
            "status",
            "shortfall",
            "found_shortfall",
            "recovered_amount",
            "found_at",
            "resolved_at",
            "note",
            "evidence",
        ]


class UnderpaymentFilterSerializer(serializers.Serializer):
    status = EnumField(UnderpaymentStatus, default=UnderpaymentStatus.OPEN)


class UnderpaymentActionSerializer(serializers.Serializer):
    reason = serializers.CharField(
        required=False, allow_blank=True, default="", help_text="Required to accept; a note otherwise."
    )


class DriftFindingSerializer(serializers.Serializer):
    sentence = serializers.CharField(help_text='"Payer X allows 97110 at $28.12 since March 2026; ..."')
    payer = serializers.IntegerField(source="payer_id")
    payer_name = serializers.CharField()
    procedure_code = serializers.CharField()
    contract = serializers.IntegerField(source="contract_id")
    contract_name = serializers.CharField()
    allowed_per_unit = _money()
    expected_per_unit = _money()
    since = serializers.DateField()
    last = serializers.DateField()
    lines = serializers.IntegerField()
    claims = serializers.IntegerField()
    short = _money()


@extend_schema(parameters=[PRACTICE_HEADER])
@extend_schema_view(
    list=extend_schema(
        summary="Underpayments in one status (open by default), the largest shortfall first, with evidence",
        parameters=[UnderpaymentFilterSerializer],
        responses={200: UnderpaymentSerializer(many=True), **error_responses(400, 403)},
    ),
    retrieve=extend_schema(
        summary="One underpayment with every line of its claim against the contract (audited)",
        responses={200: UnderpaymentSerializer, **error_responses(403, 404)},
    ),
)
class UnderpaymentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PracticeScopedViewSet):
    queryset = Underpayment.objects.all()
    serializer_class = UnderpaymentSerializer
    parser_classes = [JSONParser]
    required_permission = {"*": "underpayments.view", "POST": "underpayments.edit"}

    def get_queryset(self):
        filters = UnderpaymentFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        return underpayment_list(self.request.practice, status=filters.validated_data["status"])

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(UnderpaymentSerializer(with_evidence(page), many=True).data)

    def _one(self, pk) -> Underpayment:
        return underpayment_detail(self.request.practice, pk)

    def retrieve(self, request, pk=None):
        underpayment = self._one(pk)
        audit_view(request, underpayment.claim)
        return Response(UnderpaymentSerializer(underpayment).data)

    def _act(self, request, pk, service, **arguments):
        body = UnderpaymentActionSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        service(
            underpayment=self._one(pk),
            user=request.user,
            **{k: body.validated_data["reason"] for k in arguments},
        )
        return Response(UnderpaymentSerializer(self._one(pk)).data)

    @extend_schema(
        summary="Appeal an open underpayment (then download its letter)",
        request=UnderpaymentActionSerializer,
        responses={200: UnderpaymentSerializer, **error_responses(400, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def appeal(self, request, pk=None):
        return self._act(request, pk, underpayment_appeal, note=True)

    @extend_schema(
        summary="Accept the shortfall with a reason (required)",
        request=UnderpaymentActionSerializer,
        responses={200: UnderpaymentSerializer, **error_responses(400, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def accept(self, request, pk=None):
        return self._act(request, pk, underpayment_accept, reason=True)

    @extend_schema(
        summary="Mark recovered (paid outside an 835; an 835 paying the difference recovers it by itself)",
        request=UnderpaymentActionSerializer,
        responses={200: UnderpaymentSerializer, **error_responses(400, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def recover(self, request, pk=None):
        return self._act(request, pk, underpayment_mark_recovered, note=True)

    @extend_schema(
        summary="The underpayment appeal letter (PDF)",
        responses={
            (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY),
            **error_responses(403, 404),
        },
    )
    @action(detail=True, methods=["get"])
    def letter(self, request, pk=None):
        underpayment = self._one(pk)
        audit_view(request, underpayment.claim)
        response = HttpResponse(underpayment_letter_pdf(underpayment), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{letter_filename(underpayment)}"'
        return response


class DriftFindingsView(PracticeAPIView):
    required_permission = "underpayments.view"

    @extend_schema(
        summary="Drift findings: a payer allowing a code below contract across many claims",
        parameters=[PRACTICE_HEADER],
        responses={200: DriftFindingSerializer(many=True), **error_responses(403)},
    )
    def get(self, request):
        return Response(DriftFindingSerializer(drift_findings(request.practice), many=True).data)


class LineVarianceFilterSerializer(serializers.Serializer):
    claim = serializers.IntegerField(required=False, help_text="A claim id of the practice.")
    kind = EnumField(VarianceKind, required=False)


@extend_schema(parameters=[PRACTICE_HEADER])
@extend_schema_view(
    list=extend_schema(
        summary="Expected against allowed per adjudicated line (filter by claim and kind)",
        parameters=[LineVarianceFilterSerializer],
        responses={200: LineVarianceSerializer(many=True), **error_responses(400, 403)},
    ),
)
class LineVarianceViewSet(mixins.ListModelMixin, PracticeScopedViewSet):
    queryset = LineVariance.objects.all()
    serializer_class = LineVarianceSerializer
    required_permission = "underpayments.view"

    def get_queryset(self):
        filters = LineVarianceFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        wanted = filters.validated_data
        lines = line_variances(self.request.practice, claim_id=wanted.get("claim"), kind=wanted.get("kind"))
        return lines

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(LineVarianceSerializer(with_cas(page), many=True).data)
