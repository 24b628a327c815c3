"""The API of payers, contracts and fee schedules, with its one router (included by ``rcm.api.urls``).

Payers: list, read, create, change (PATCH), deactivate. Contracts: list (by payer), read, create, change,
a new rate year from a date. Fee schedules: the rows (paged), loading a CSV or XLSX file (checked and applied
whole, or refused with the same row-by-row report as the page, nothing saved; ``dry_run`` only checks), and
the export as CSV or XLSX. Writes go through ``rcm.contracts.services`` and ``fee_schedules``."""

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.routers import SimpleRouter

from rcm.api.base import PracticeScopedViewSet
from rcm.api.errors import error_response
from rcm.api.parsers import JSONParser
from rcm.api.reference import PayerSerializer
from rcm.api.serializers import EnumField, PracticeRelatedField
from rcm.api.views import PRACTICE_HEADER, error_responses
from rcm.audit import audit_record
from rcm.contracts import services
from rcm.contracts.fee_schedules import (
    FeeScheduleRefused,
    FeeScheduleReport,
    fee_schedule_apply,
    fee_schedule_csv,
    fee_schedule_preview,
    fee_schedule_xlsx,
)
from rcm.contracts.selectors import contract_fee_rows
from rcm.exports import XLSX_TYPE
from rcm.models import AuditAction, FeeScheduleRow, Payer, PayerContract, PayerKind, PricingMethod

# --- Serializers -------------------------------------------------------------------------------


class PayerWriteSerializer(serializers.ModelSerializer):
    kind = EnumField(PayerKind)

    class Meta:
        model = Payer
        fields = [f for f in services.PAYER_FIELDS if f != "is_active"]
        extra_kwargs = {"payer_id": {"validators": []}}


class PayerPatchSerializer(PayerWriteSerializer):
    class Meta(PayerWriteSerializer.Meta):
        fields = list(services.PAYER_FIELDS)


class ContractSerializer(serializers.ModelSerializer):
    pricing_method = EnumField(PricingMethod)
    prior_auth_codes = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = PayerContract
        fields = ["id", "payer", *services.CONTRACT_FIELDS]


class ContractWriteSerializer(serializers.ModelSerializer):
    pricing_method = EnumField(PricingMethod, required=False)
    prior_auth_codes = serializers.ListField(child=serializers.CharField(), required=False)
    base_payer = PracticeRelatedField(
        queryset=Payer.objects.all(),
        required=False,
        allow_null=True,
        help_text="For % of a base schedule: the base payer (an id); its contract in force on each date of "
        "service is the base.",
    )

    class Meta:
        model = PayerContract
        fields = list(services.CONTRACT_FIELDS)

    def validate(self, attrs):
        return attrs  # the service runs the model's rules and the overlap rule, with the payer known


class ContractCreateSerializer(ContractWriteSerializer):
    payer = PracticeRelatedField(queryset=Payer.objects.all())

    class Meta(ContractWriteSerializer.Meta):
        fields = ["payer", *services.CONTRACT_FIELDS]


class RateYearSerializer(serializers.Serializer):
    effective_date = serializers.DateField(help_text="The first date of the new rates.")
    name = serializers.CharField(required=False, allow_blank=True, max_length=120)


class ContractFilterSerializer(serializers.Serializer):
    payer = serializers.IntegerField(required=False, help_text="Only this payer's contracts (an id).")


class FeeRowSerializer(serializers.ModelSerializer):
    code = serializers.CharField(source="procedure_code")
    setting = serializers.SerializerMethodField()

    class Meta:
        model = FeeScheduleRow
        fields = ["id", "code", "modifier", "setting", "allowed_amount"]

    def get_setting(self, row) -> str:
        return "facility" if row.facility else "non-facility"


class FeeScheduleUploadSerializer(serializers.Serializer):
    file = serializers.FileField(help_text="A .csv or .xlsx file: code, modifier, setting, allowed_amount.")
    dry_run = serializers.BooleanField(
        default=False, help_text="Only check the file and say what applying it would change."
    )


class ProblemSerializer(serializers.Serializer):
    row = serializers.IntegerField(
        allow_null=True, help_text="The spreadsheet's row (1 = header); null: the file."
    )
    column = serializers.CharField()
    value = serializers.CharField()
    message = serializers.CharField()


class FeeScheduleResultSerializer(serializers.Serializer):
    file_name = serializers.CharField()
    applied = serializers.BooleanField(help_text="False for a dry run.")
    already_loaded = serializers.BooleanField(
        help_text="This very file is the schedule already: nothing changed."
    )
    import_id = serializers.IntegerField(allow_null=True, help_text="The kept file.")
    row_count = serializers.IntegerField()
    counts = serializers.DictField(
        child=serializers.IntegerField(), help_text="added, changed, removed, unchanged"
    )


def _refused(report: FeeScheduleReport) -> Response:
    response = error_response(report.summary if not report.problems else f"{report.summary} {_first(report)}")
    response.data["error"]["problem_count"] = report.problem_count
    response.data["error"]["problems"] = [problem.as_dict() for problem in report.problems]
    return response


def _first(report: FeeScheduleReport) -> str:
    problem = report.problems[0]
    return f"First: row {problem.row}: {problem.message}" if problem.row else f"First: {problem.message}"


# --- Views -------------------------------------------------------------------------------------


@extend_schema(parameters=[PRACTICE_HEADER])
@extend_schema_view(
    list=extend_schema(summary="Payers", responses={200: PayerSerializer(many=True), **error_responses(403)}),
    retrieve=extend_schema(
        summary="One payer", responses={200: PayerSerializer, **error_responses(403, 404)}
    ),
    create=extend_schema(
        summary="Create a payer (its EDI payer ID unique in the practice)",
        request=PayerWriteSerializer,
        responses={201: PayerSerializer, **error_responses(400, 403)},
    ),
    partial_update=extend_schema(
        summary="Change a payer's fields",
        request=PayerPatchSerializer,
        responses={200: PayerSerializer, **error_responses(400, 403, 404)},
    ),
)
class PayerViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PracticeScopedViewSet):
    queryset = Payer.objects.all()
    serializer_class = PayerSerializer
    parser_classes = [JSONParser]
    http_method_names = ["get", "post", "patch", "head", "options"]
    required_permission = {"*": "payers.view", "POST": "payers.edit", "PATCH": "payers.edit"}

    def create(self, request, *args, **kwargs):
        payload = PayerWriteSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        payer = services.payer_create(practice=request.practice, **payload.validated_data)
        return Response(PayerSerializer(payer).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        payer = self.get_object()
        payload = PayerPatchSerializer(payer, data=request.data, partial=True)
        payload.is_valid(raise_exception=True)
        payer = services.payer_update(payer=payer, **payload.validated_data)
        return Response(PayerSerializer(payer).data)

    @extend_schema(
        summary="Deactivate a payer (its claims and contracts stay)",
        request=None,
        responses={200: PayerSerializer, **error_responses(403, 404)},
    )
    @action(detail=True, methods=["post"])
    def deactivate(self, request, pk=None):
        payer = services.payer_deactivate(payer=self.get_object())
        return Response(PayerSerializer(payer).data)


@extend_schema(parameters=[PRACTICE_HEADER])
@extend_schema_view(
    list=extend_schema(
        summary="Contracts, latest first",
        parameters=[ContractFilterSerializer],
        responses={200: ContractSerializer(many=True), **error_responses(400, 403)},
    ),
    retrieve=extend_schema(
        summary="One contract", responses={200: ContractSerializer, **error_responses(403, 404)}
    ),
    create=extend_schema(
        summary="Create a contract with a payer (refused when it overlaps another of the payer's)",
        request=ContractCreateSerializer,
        responses={201: ContractSerializer, **error_responses(400, 403)},
    ),
    partial_update=extend_schema(
        summary="Correct a contract's terms or dates (new rates from a date: a new rate year)",
        request=ContractWriteSerializer,
        responses={200: ContractSerializer, **error_responses(400, 403, 404)},
    ),
)
class ContractViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PracticeScopedViewSet):
    queryset = PayerContract.objects.select_related("payer").order_by("payer__name", "-effective_date", "-pk")
    serializer_class = ContractSerializer
    parser_classes = [JSONParser]
    http_method_names = ["get", "post", "patch", "head", "options"]
    required_permission = {"*": "payers.view", "POST": "payers.edit", "PATCH": "payers.edit"}

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action == "list":
            filters = ContractFilterSerializer(data=self.request.query_params)
            filters.is_valid(raise_exception=True)
            if payer_id := filters.validated_data.get("payer"):
                queryset = queryset.filter(payer_id=payer_id)
        return queryset

    def create(self, request, *args, **kwargs):
        payload = ContractCreateSerializer(data=request.data, context=self.get_serializer_context())
        payload.is_valid(raise_exception=True)
        contract = services.contract_create(practice=request.practice, **payload.validated_data)
        return Response(ContractSerializer(contract).data, status=status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs):
        contract = self.get_object()
        payload = ContractWriteSerializer(
            contract, data=request.data, partial=True, context=self.get_serializer_context()
        )
        payload.is_valid(raise_exception=True)
        contract = services.contract_update(contract=contract, **payload.validated_data)
        return Response(ContractSerializer(contract).data)

    @extend_schema(
        summary="A new rate year: a new contract from a date with the same terms and fee rows; this one "
        "ends the day before (earlier claims keep their expected amounts)",
        request=RateYearSerializer,
        responses={201: ContractSerializer, **error_responses(400, 403, 404)},
    )
    @action(detail=True, methods=["post"], url_path="new-rate-year")
    def new_rate_year(self, request, pk=None):
        payload = RateYearSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        new = services.contract_new_rate_year(
            contract=self.get_object(), user=request.user, **payload.validated_data
        )
        return Response(ContractSerializer(new).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        methods=["get"],
        summary="The contract's fee schedule rows",
        responses={200: FeeRowSerializer(many=True), **error_responses(403, 404)},
    )
    @extend_schema(
        methods=["post"],
        summary="Load a fee schedule file (CSV or XLSX): applied whole, or refused with every problem",
        description="A refused file answers 400 with `error.problems` (row, column, value, message) and "
        "saves "
        "nothing. The same file loaded again changes nothing (`already_loaded`).",
        request={"multipart/form-data": FeeScheduleUploadSerializer},
        responses={200: FeeScheduleResultSerializer, **error_responses(400, 403, 404)},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        url_path="fee-schedule",
        parser_classes=[MultiPartParser],
        required_permission={"GET": "payers.view", "POST": "payers.edit"},
    )
    def fee_schedule(self, request, pk=None):
        contract = self.get_object()
        if request.method == "GET":
            page = self.paginate_queryset(contract_fee_rows(contract))
            return self.get_paginated_response(FeeRowSerializer(page, many=True).data)
        payload = FeeScheduleUploadSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        upload = payload.validated_data["file"]
        preview = fee_schedule_preview(
            contract=contract, file_name=upload.name, content=upload.read(), user=request.user
        )
        if not preview.report.ok:
            return _refused(preview.report)
        fee_import = preview.fee_import
        applied = False
        if not payload.validated_data["dry_run"] and not preview.already_loaded:
            try:
                fee_import = fee_schedule_apply(fee_import=fee_import, user=request.user)
            except FeeScheduleRefused as refused:
                return _refused(refused.report)
            applied = True
        counts = fee_import.counts if applied else preview.changes.counts
        return Response(
            FeeScheduleResultSerializer(
                {
                    "file_name": upload.name,
                    "applied": applied,
                    "already_loaded": preview.already_loaded,
                    "import_id": fee_import.pk,
                    "row_count": len(preview.report.lines),
                    "counts": counts,
                }
            ).data
        )

    @extend_schema(
        summary="Export the fee schedule as CSV or XLSX (the import's layout; text cells neutralised)",
        parameters=[OpenApiParameter("as", str, enum=["csv", "xlsx"], description="csv (default) or xlsx")],
        responses={
            (200, "text/csv"): OpenApiTypes.STR,
            (200, XLSX_TYPE): OpenApiResponse(OpenApiTypes.BINARY),
            **error_responses(400, 403, 404),
        },
    )
    @action(detail=True, methods=["get"], url_path="fee-schedule/export")
    def fee_schedule_export(self, request, pk=None):
        kind = request.query_params.get("as", "csv")
        if kind not in ("csv", "xlsx"):
            return error_response("as: write csv or xlsx.")
        contract = self.get_object()
        audit_record(
            action=AuditAction.EXPORT,
            practice=request.practice,
            object_type="rcm.payercontract",
            object_id=contract.pk,
            changes={"fee_schedule": kind},
        )
        if kind == "xlsx":
            response = HttpResponse(fee_schedule_xlsx(contract), content_type=XLSX_TYPE)
        else:
            response = HttpResponse(fee_schedule_csv(contract), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="fee-schedule-{contract.pk}.{kind}"'
        return response


router = SimpleRouter()
router.register("payers", PayerViewSet, basename="payer")
router.register("contracts", ContractViewSet, basename="contract")

urlpatterns = router.urls
