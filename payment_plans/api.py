"""The patient account API: the account (what is owed and why, credits, payments, statements, what was
sent), patient payments (list, record), statements (list, PDF), statement runs (start one, follow its
progress) and the collections worklist.

Every view is scoped to the request's practice (another practice's patient is a 404), reads of an account
are written to the audit log, and writes go through the same services as the pages."""

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.response import Response

from claims.models import Claim, ClaimStatus
from payment_plans.collections import SORTS, collections_worklist
from payment_plans.models import (
    PatientPayment,
    PaymentAllocation,
    PaymentMethod,
    Statement,
    StatementRun,
    StatementRunSource,
)
from payment_plans.payments import patient_payment_record
from payment_plans.selectors import (
    patient_account,
    patient_payments,
    patient_statements,
    statement_runs_with_progress,
)
from payment_plans.statements import statement_run_queue
from rcm.api.base import PracticeAPIView
from rcm.api.serializers import MAX_ID
from rcm.api.views import PRACTICE_HEADER, error_responses
from rcm.audit import audit_view
from rcm.models import Patient
from rcm.tenancy import get_scoped_or_404

RUNS_LISTED = 50


def _money(**kwargs):
    return serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True, **kwargs)


class AllocationSerializer(serializers.ModelSerializer):
    claim = serializers.CharField(source="claim.patient_control_number", read_only=True)
    line_number = serializers.IntegerField(source="line.line_number", read_only=True)
    amount = _money()

    class Meta:
        model = PaymentAllocation
        fields = ["kind", "claim", "line_number", "amount", "transaction"]


class PaymentSerializer(serializers.ModelSerializer):
    amount = _money()
    allocations = AllocationSerializer(many=True, read_only=True)

    class Meta:
        model = PatientPayment
        fields = [
            "id",
            "receipt_number",
            "amount",
            "method",
            "reference",
            "received_on",
            "recorded_at",
            "allocations",
        ]


class PaymentInSerializer(serializers.Serializer):
    amount = serializers.CharField(help_text='Dollars and cents as text, e.g. "45.00" (no float).')
    method = serializers.ChoiceField(choices=PaymentMethod.choices)
    reference = serializers.CharField(
        required=False, allow_blank=True, max_length=64, help_text="Never a card number."
    )
    received_on = serializers.DateField()
    claim = serializers.IntegerField(
        required=False, allow_null=True, min_value=1, max_value=MAX_ID, help_text="Apply to this claim only."
    )


class StatementSerializer(serializers.ModelSerializer):
    balance = _money()
    credit = _money()

    class Meta:
        model = Statement
        fields = ["id", "kind", "statement_date", "balance", "credit", "claim_count", "sent_at"]


class LineAccountSerializer(serializers.Serializer):
    line_number = serializers.IntegerField(source="line.line_number")
    procedure_code = serializers.CharField(source="line.procedure_code")
    charge = _money(source="line.charge_total")
    insurance_paid = _money(source="line.insurance_paid")
    adjustments = _money(source="line.adjustments")
    patient_paid = _money()
    balance = _money()
    reasons = serializers.DictField(child=serializers.DecimalField(max_digits=14, decimal_places=2))


class ClaimAccountSerializer(serializers.Serializer):
    claim = serializers.CharField(source="claim.patient_control_number")
    claim_id = serializers.IntegerField(source="claim.pk")
    service_date = serializers.DateField(source="claim.service_date")
    status = serializers.CharField(source="claim.status")
    payer = serializers.CharField(source="claim.payer.name", default=None)
    balance = _money()
    lines = LineAccountSerializer(many=True)


class SentSerializer(serializers.Serializer):
    at = serializers.DateTimeField()
    kind = serializers.CharField()
    channel = serializers.CharField()
    summary = serializers.CharField()
    statement_id = serializers.IntegerField(allow_null=True)


class TotalsSerializer(serializers.Serializer):
    owed = _money()
    credit = _money()
    net = _money()


class AccountSerializer(serializers.Serializer):
    totals = TotalsSerializer()
    claims = ClaimAccountSerializer(many=True)
    payments = PaymentSerializer(many=True)
    statements = StatementSerializer(many=True)
    sent = SentSerializer(many=True)
    on_hold = serializers.BooleanField()


class WorkItemSerializer(serializers.Serializer):
    patient_id = serializers.IntegerField(source="patient.pk")
    account_number = serializers.CharField(source="patient.account_number")
    owed = _money()
    oldest = serializers.DateField(allow_null=True)
    age_days = serializers.IntegerField()
    reasons = serializers.ListField(child=serializers.CharField())
    assigned_to = serializers.CharField(source="assigned_to_name")


def _patient(request, patient_id) -> Patient:
    return get_scoped_or_404(Patient, request.practice, pk=patient_id)


class AccountView(PracticeAPIView):
    required_permission = "patients.view"

    @extend_schema(
        responses={200: AccountSerializer, **error_responses(403, 404)}, parameters=[PRACTICE_HEADER]
    )
    def get(self, request, patient_id: int):
        """The patient account: owed and credit, claims and lines with the reasons, payments, statements."""
        patient = _patient(request, patient_id)
        audit_view(request, patient)
        account = patient_account(patient)
        account["on_hold"] = bool(account["holds"])
        return Response(AccountSerializer(account).data)


class PaymentsView(PracticeAPIView):
    required_permission = {"*": "patients.view", "POST": "collections.edit"}

    @extend_schema(
        responses={200: PaymentSerializer(many=True), **error_responses(403, 404)},
        parameters=[PRACTICE_HEADER],
    )
    def get(self, request, patient_id: int):
        """The patient's payments, newest first, with what each was applied to."""
        return Response(PaymentSerializer(patient_payments(_patient(request, patient_id)), many=True).data)

    @extend_schema(
        request=PaymentInSerializer,
        responses={201: PaymentSerializer, **error_responses(400, 403, 404)},
        parameters=[PRACTICE_HEADER],
    )
    def post(self, request, patient_id: int):
        """Record a payment: applied oldest first (or to ``claim``), the rest kept as credit."""
        patient = _patient(request, patient_id)
        incoming = PaymentInSerializer(data=request.data)
        incoming.is_valid(raise_exception=True)
        data = incoming.validated_data
        claim = None
        if data.get("claim"):
            claim = get_scoped_or_404(
                Claim.objects.exclude(status=ClaimStatus.VOIDED),
                request.practice,
                pk=data["claim"],
                patient=patient,
            )
        payment = patient_payment_record(
            practice=request.practice,
            patient=patient,
            amount=data["amount"],
            method=data["method"],
            reference=data.get("reference", ""),
            received_on=data["received_on"],
            claim=claim,
            user=request.user,
        )
        return Response(PaymentSerializer(payment).data, status=status.HTTP_201_CREATED)


class StatementsView(PracticeAPIView):
    required_permission = "patients.view"

    @extend_schema(
        responses={200: StatementSerializer(many=True), **error_responses(403, 404)},
        parameters=[PRACTICE_HEADER],
    )
    def get(self, request, patient_id: int):
        """Statements sent to the patient, newest first."""
        return Response(
            StatementSerializer(patient_statements(_patient(request, patient_id)), many=True).data
        )


class StatementPdfView(PracticeAPIView):
    required_permission = "patients.view"

    @extend_schema(
        responses={
            200: OpenApiResponse(OpenApiTypes.BINARY, description="The statement as sent (PDF)."),
            **error_responses(403, 404),
        },
        parameters=[PRACTICE_HEADER],
    )
    def get(self, request, patient_id: int, statement_id: int):
        """The statement PDF as it was sent."""
        patient = _patient(request, patient_id)
        statement = get_scoped_or_404(Statement, request.practice, pk=statement_id, patient=patient)
        audit_view(request, statement)
        response = HttpResponse(bytes(statement.pdf), content_type="application/pdf")
        response["Content-Disposition"] = (
            f'attachment; filename="statement-{statement.statement_date:%Y-%m-%d}.pdf"'
        )
        return response


class StatementRunSerializer(serializers.ModelSerializer):
    started_by = serializers.CharField(source="started_by.username", read_only=True, default=None)
    sent = serializers.IntegerField(read_only=True)
    not_sent = serializers.IntegerField(read_only=True)
    failed = serializers.IntegerField(read_only=True)
    chunk_count = serializers.IntegerField(read_only=True)
    chunks_done = serializers.IntegerField(read_only=True)
    done = serializers.SerializerMethodField()

    class Meta:
        model = StatementRun
        fields = [
            "id",
            "run",
            "statement_date",
            "source",
            "started_by",
            "started_at",
            "finished_at",
            "done",
            "selected",
            "held",
            "sent",
            "not_sent",
            "failed",
            "chunk_count",
            "chunks_done",
        ]

    def get_done(self, record) -> bool:
        return record.finished_at is not None


class StatementRunsView(PracticeAPIView):
    required_permission = {"*": "collections.view", "POST": "collections.edit"}

    @extend_schema(
        responses={200: StatementRunSerializer(many=True), **error_responses(403)},
        parameters=[PRACTICE_HEADER],
    )
    def get(self, request):
        """The practice's last statement runs, newest first, with their progress."""
        runs = statement_runs_with_progress(request.practice)[:RUNS_LISTED]
        return Response(StatementRunSerializer(runs, many=True).data)

    @extend_schema(
        request=None,
        responses={201: StatementRunSerializer, **error_responses(400, 403)},
        parameters=[PRACTICE_HEADER],
    )
    def post(self, request):
        """Start today's statement run in the background (refused while one is still going); follow it at
        ``/api/statement-runs/{id}/``."""
        record = statement_run_queue(
            practice=request.practice, user=request.user, source=StatementRunSource.API
        )
        record = statement_runs_with_progress(request.practice).get(pk=record.pk)
        return Response(StatementRunSerializer(record).data, status=status.HTTP_201_CREATED)


class StatementRunView(PracticeAPIView):
    required_permission = "collections.view"

    @extend_schema(
        responses={200: StatementRunSerializer, **error_responses(403, 404)}, parameters=[PRACTICE_HEADER]
    )
    def get(self, request, run_id: int):
        """One statement run and its progress: sent, not sent, failed, parts done."""
        record = get_scoped_or_404(
            statement_runs_with_progress(request.practice), request.practice, pk=run_id
        )
        return Response(StatementRunSerializer(record).data)


class WorklistView(PracticeAPIView):
    required_permission = "collections.view"

    @extend_schema(
        responses={200: WorkItemSerializer(many=True), **error_responses(403)},
        parameters=[
            PRACTICE_HEADER,
            OpenApiParameter("sort", str, enum=list(SORTS), description="amount (default) or age"),
        ],
    )
    def get(self, request):
        """The collections worklist: largest balance first, or oldest first with ``sort=age``."""
        sort = request.query_params.get("sort", "amount")
        items = collections_worklist(request.practice, sort=sort if sort in SORTS else "amount")
        return Response(WorkItemSerializer(items, many=True).data)
