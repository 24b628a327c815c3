"""The payment plans API: plans (create with the affordability check, schedule, payments, new terms,
cancel), the affordability check alone, and the reminder log.

Every read is scoped to the request's practice; opening a plan is written to the audit log. Money is a
string with two decimals both ways; bad input comes back in the one error format, nothing saved."""

from django.core.exceptions import ValidationError
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from claims.models import Claim
from payment_plans.models import (
    Frequency,
    Installment,
    InstallmentStatus,
    PaymentMethod,
    PaymentPlan,
    PlanPayment,
    PlanStatus,
    Reminder,
    ReminderChannel,
    ReminderKind,
    ReminderStatus,
)
from payment_plans.plans.affordability import affordability_check
from payment_plans.plans.schedule import Due
from payment_plans.plans.selectors import plan_list, plan_remaining, policy_for
from payment_plans.plans.services import (
    plan_add_balance,
    plan_cancel,
    plan_create,
    plan_modify,
    plan_payment_record,
)
from payment_plans.reminders.selectors import reminder_log
from rcm.api.base import PracticeScopedViewSet
from rcm.api.parsers import JSONParser
from rcm.api.serializers import DecimalAsSentField, EnumField, PracticeRelatedField
from rcm.api.views import PRACTICE_HEADER, error_responses
from rcm.audit import audit_view
from rcm.models import Patient

READ = "collections.view"
EDIT = "collections.edit"


def _money(**kwargs):
    return serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True, **kwargs)


def _money_in(**kwargs):
    return DecimalAsSentField(max_digits=12, decimal_places=2, **kwargs)


# --- Out -------------------------------------------------------------------------------------------


class InstallmentSerializer(serializers.ModelSerializer):
    status = EnumField(InstallmentStatus)
    amount = _money()
    paid_amount = _money()

    class Meta:
        model = Installment
        fields = ["id", "sequence", "due_date", "amount", "paid_amount", "status", "paid_at"]


class PlanSerializer(serializers.ModelSerializer):
    status = EnumField(PlanStatus)
    frequency = EnumField(Frequency)
    total_amount = _money()
    down_payment = _money()
    installment_amount = _money()
    suggested_payment = _money(allow_null=True)

    class Meta:
        model = PaymentPlan
        fields = [
            "id",
            "patient",
            "status",
            "status_changed_at",
            "total_amount",
            "down_payment",
            "installment_amount",
            "frequency",
            "term",
            "start_date",
            "autopay",
            "suggested_payment",
            "created_at",
        ]


class PlanDetailSerializer(PlanSerializer):
    claims = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    installments = InstallmentSerializer(many=True, read_only=True)
    remaining = serializers.SerializerMethodField()

    class Meta(PlanSerializer.Meta):
        fields = [*PlanSerializer.Meta.fields, "claims", "remaining", "installments"]

    def get_remaining(self, plan) -> str:
        return str(plan_remaining(plan))


class PlanPaymentSerializer(serializers.ModelSerializer):
    method = EnumField(PaymentMethod)
    amount = _money()
    receipt_number = serializers.CharField(source="ledger_reference", read_only=True)
    allocations = serializers.SerializerMethodField()

    class Meta:
        model = PlanPayment
        fields = [
            "id",
            "amount",
            "method",
            "reference",
            "received_on",
            "recorded_at",
            "receipt_number",
            "allocations",
        ]

    def get_allocations(self, payment) -> list[dict]:
        return [
            {"installment": a.installment_id, "sequence": a.installment.sequence, "amount": str(a.amount)}
            for a in payment.allocations.all()
        ]


class AffordabilityOutSerializer(serializers.Serializer):
    monthly_income = _money()
    household_size = serializers.IntegerField()
    essential_expenses = _money()
    allowance = _money(help_text="The HHS poverty guideline for the household, monthly.")
    discretionary = _money(help_text="income − essential expenses − allowance, never below zero")
    suggested_payment = _money(help_text="10% of discretionary income, at least the practice's minimum")


class ReminderSerializer(serializers.ModelSerializer):
    kind = EnumField(ReminderKind)
    channel = EnumField(ReminderChannel)
    status = EnumField(ReminderStatus)

    class Meta:
        model = Reminder
        fields = [
            "id",
            "patient",
            "plan",
            "installment",
            "kind",
            "key",
            "channel",
            "language",
            "status",
            "not_before",
            "created_at",
            "sent_at",
            "body",
            "detail",
        ]


# --- In --------------------------------------------------------------------------------------------


class AffordabilityInSerializer(serializers.Serializer):
    monthly_income = _money_in(min_value=0)
    household_size = serializers.IntegerField(min_value=1, max_value=20)
    essential_expenses = _money_in(min_value=0)


class DueInSerializer(serializers.Serializer):
    due_date = serializers.DateField()
    amount = _money_in()


class PlanCreateSerializer(serializers.Serializer):
    patient = PracticeRelatedField(queryset=Patient.objects.all())
    frequency = EnumField(Frequency)
    start_date = serializers.DateField()
    installment_amount = _money_in(required=False, allow_null=True)
    term = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    down_payment = _money_in(required=False, default="0")
    autopay = serializers.BooleanField(default=False)
    payment_method_token = serializers.CharField(required=False, allow_blank=True, default="", max_length=80)
    affordability = AffordabilityInSerializer(required=False)
    installments = DueInSerializer(many=True, required=False, help_text="An explicit schedule (must add up).")
    accept_warning = serializers.BooleanField(
        default=False, help_text="Create even when the payment is above 15% of discretionary income."
    )


class PlanModifySerializer(serializers.Serializer):
    frequency = EnumField(Frequency)
    start_date = serializers.DateField()
    installment_amount = _money_in(required=False, allow_null=True)
    term = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    reason = serializers.CharField(max_length=255)


class PlanPaymentInSerializer(serializers.Serializer):
    amount = _money_in()
    method = EnumField(PaymentMethod)
    reference = serializers.CharField(required=False, allow_blank=True, default="", max_length=60)
    received_on = serializers.DateField(required=False)


class AddBalanceSerializer(serializers.Serializer):
    claims = PracticeRelatedField(queryset=Claim.objects.all(), many=True, allow_empty=False)
    term = serializers.IntegerField(required=False, allow_null=True, min_value=1)
    installment_amount = _money_in(required=False, allow_null=True)


class CancelSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=255)


class PlanFilterSerializer(serializers.Serializer):
    status = EnumField(PlanStatus, required=False)
    patient = serializers.IntegerField(required=False)


@extend_schema_view(
    list=extend_schema(parameters=[PRACTICE_HEADER, PlanFilterSerializer], responses={200: PlanSerializer}),
    retrieve=extend_schema(
        parameters=[PRACTICE_HEADER], responses={200: PlanDetailSerializer, **error_responses(404)}
    ),
)
class PaymentPlanViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PracticeScopedViewSet):
    queryset = PaymentPlan.objects.all()
    parser_classes = [JSONParser]
    lookup_value_regex = r"\d+"
    required_permission = {"*": READ, "POST": EDIT}

    def get_queryset(self):
        if self.action == "list":
            filters = PlanFilterSerializer(data=self.request.query_params)
            filters.is_valid(raise_exception=True)
            plans = plan_list(self.request.practice, status=filters.validated_data.get("status"))
            if filters.validated_data.get("patient"):
                plans = plans.filter(patient_id=filters.validated_data["patient"])
            return plans
        return super().get_queryset().select_related("practice", "patient").prefetch_related("installments")

    def get_serializer_class(self):
        return PlanSerializer if self.action == "list" else PlanDetailSerializer

    def _detail(self, plan) -> dict:
        return PlanDetailSerializer(self.get_queryset().get(pk=plan.pk)).data

    def retrieve(self, request, *args, **kwargs):
        plan = self.get_object()
        audit_view(request, plan)
        return Response(PlanDetailSerializer(plan).data)

    @extend_schema(
        request=PlanCreateSerializer,
        parameters=[PRACTICE_HEADER],
        responses={201: PlanDetailSerializer, **error_responses(400, 403)},
    )
    def create(self, request, *args, **kwargs):
        """Create a plan over the patient's open balances; with ``affordability`` the suggestion is kept and a
        payment above 15% of discretionary income is refused unless ``accept_warning``."""
        payload = PlanCreateSerializer(data=request.data, context=self.get_serializer_context())
        payload.is_valid(raise_exception=True)
        data = dict(payload.validated_data)
        affordability = None
        if data.get("affordability"):
            affordability = affordability_check(
                minimum_payment=policy_for(request.practice).minimum_monthly_payment, **data["affordability"]
            )
            amount = data.get("installment_amount")
            warning = affordability.warning(amount, data["frequency"]) if amount else ""
            if warning and not data["accept_warning"]:
                raise ValidationError({"installment_amount": warning})
        installments = [Due(**row) for row in data["installments"]] if data.get("installments") else None
        plan = plan_create(
            patient=data["patient"],
            user=request.user,
            frequency=data["frequency"],
            start_date=data["start_date"],
            term=None if installments else data.get("term"),
            installment_amount=None if installments else data.get("installment_amount"),
            down_payment=data["down_payment"],
            autopay=data["autopay"],
            payment_method_token=data["payment_method_token"],
            affordability=affordability,
            installments=installments,
        )
        return Response(self._detail(plan), status=status.HTTP_201_CREATED)

    @extend_schema(
        request=AffordabilityInSerializer,
        parameters=[PRACTICE_HEADER],
        responses={200: AffordabilityOutSerializer, **error_responses(400)},
    )
    @action(detail=False, methods=["post"], required_permission=READ)
    def affordability(self, request):
        """The affordability check alone: the suggested monthly payment (nothing saved)."""
        payload = AffordabilityInSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        result = affordability_check(
            minimum_payment=policy_for(request.practice).minimum_monthly_payment, **payload.validated_data
        )
        return Response(AffordabilityOutSerializer(result).data)

    @extend_schema(parameters=[PRACTICE_HEADER], responses={200: InstallmentSerializer(many=True)})
    @action(detail=True, methods=["get"])
    def schedule(self, request, pk=None):
        plan = self.get_object()
        return Response(InstallmentSerializer(plan.installments.order_by("sequence"), many=True).data)

    @extend_schema(
        methods=["GET"], parameters=[PRACTICE_HEADER], responses={200: PlanPaymentSerializer(many=True)}
    )
    @extend_schema(
        methods=["POST"],
        request=PlanPaymentInSerializer,
        parameters=[PRACTICE_HEADER],
        responses={201: PlanPaymentSerializer, **error_responses(400, 403, 404)},
    )
    @action(detail=True, methods=["get", "post"])
    def payments(self, request, pk=None):
        plan = self.get_object()
        if request.method == "GET":
            rows = plan.payments.prefetch_related("allocations__installment").order_by("received_on", "id")
            return Response(PlanPaymentSerializer(rows, many=True).data)
        payload = PlanPaymentInSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        payment = plan_payment_record(plan=plan, user=request.user, **payload.validated_data)
        return Response(PlanPaymentSerializer(payment).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        request=PlanModifySerializer,
        parameters=[PRACTICE_HEADER],
        responses={200: PlanDetailSerializer, **error_responses(400, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def modify(self, request, pk=None):
        """New terms: the remaining balance re-amortised (history kept)."""
        plan = self.get_object()
        payload = PlanModifySerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        plan_modify(plan=plan, user=request.user, **payload.validated_data)
        return Response(self._detail(plan))

    @extend_schema(
        request=AddBalanceSerializer,
        parameters=[PRACTICE_HEADER],
        responses={200: PlanDetailSerializer, **error_responses(400, 403, 404)},
    )
    @action(detail=True, methods=["post"], url_path="add-balance")
    def add_balance(self, request, pk=None):
        """A new balance joins the plan (by default at the same installment: the plan gets longer)."""
        plan = self.get_object()
        payload = AddBalanceSerializer(data=request.data, context=self.get_serializer_context())
        payload.is_valid(raise_exception=True)
        plan_add_balance(plan=plan, user=request.user, **payload.validated_data)
        return Response(self._detail(plan))

    @extend_schema(
        request=CancelSerializer,
        parameters=[PRACTICE_HEADER],
        responses={200: PlanDetailSerializer, **error_responses(400, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request, pk=None):
        plan = self.get_object()
        payload = CancelSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        plan_cancel(plan=plan, user=request.user, reason=payload.validated_data["reason"])
        return Response(self._detail(plan))


class ReminderFilterSerializer(serializers.Serializer):
    status = EnumField(ReminderStatus, required=False)
    kind = EnumField(ReminderKind, required=False)
    patient = serializers.IntegerField(required=False)


@extend_schema_view(
    list=extend_schema(parameters=[PRACTICE_HEADER, ReminderFilterSerializer]),
    retrieve=extend_schema(parameters=[PRACTICE_HEADER]),
)
class ReminderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PracticeScopedViewSet):
    """The reminder log: every message sent, waiting or failed, newest first."""

    queryset = Reminder.objects.all()
    serializer_class = ReminderSerializer
    required_permission = READ

    def get_queryset(self):
        filters = ReminderFilterSerializer(data=self.request.query_params)
        filters.is_valid(raise_exception=True)
        wanted = filters.validated_data
        rows = reminder_log(self.request.practice, status=wanted.get("status"), kind=wanted.get("kind"))
        if wanted.get("patient"):
            rows = rows.filter(patient_id=wanted["patient"])
        return rows
