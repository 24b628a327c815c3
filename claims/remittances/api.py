"""The remittance API: ERA (835) payments received, each with its claim payments, lines, adjustments in
plain words, PLBs and the deposit reconciliation; and the exceptions the posting left, resolved through
``claims.posting.exception_resolve`` (post, against a chosen claim for an unmatched payment, or dismiss
with a reason).

Reads go through the remittance selectors, scoped to the request's practice (another practice's
remittance or exception is a 404); opening a remittance's detail is written to the audit log. Files are
imported with ``POST /api/x12-files/``."""

from django.db import models
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from claims.models import (
    Claim,
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
from claims.remittances.posting import exception_resolve, exceptions_dismiss
from claims.remittances.selectors import (
    exception_suggestions,
    remittance_details,
    remittance_exception_list,
    remittance_explain,
    remittance_list,
)
from rcm.api.base import PracticeScopedViewSet
from rcm.api.parsers import JSONParser
from rcm.api.reference import PayerBriefSerializer
from rcm.api.serializers import MAX_ID, EnumField, PracticeRelatedField
from rcm.api.views import PRACTICE_HEADER, error_responses
from rcm.audit import audit_view


def _money(**kwargs):
    return serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True, **kwargs)


# --- Out ---------------------------------------------------------------------------------------


class RemittanceSerializer(serializers.ModelSerializer):
    """A remittance (one 835 payment) as lists show it."""

    payer = PayerBriefSerializer(
        allow_null=True, help_text="The practice's payer; null when none matches the ERA."
    )
    payer_name = serializers.CharField(help_text="As the ERA names the payer (N1*PR).")
    trace_number = serializers.CharField(help_text="TRN02: the check or EFT number.")
    payment_method = serializers.CharField(help_text="BPR04: ACH (EFT), CHK (check), NON (no payment)...")
    payment_amount = _money(help_text="BPR02: the deposit.")
    posted_payments = _money(help_text="Σ CLP04 of the claim payments posted.")
    interest = _money(
        source="interest_total",
        help_text="Interest paid: Σ AMT*I of the claim payments plus provider-level interest (PLB L6).",
    )
    provider_adjustment_total = _money(help_text="Σ PLB; a positive amount was taken from the payment.")
    open_exception_count = serializers.IntegerField(help_text="Exceptions still to resolve.")
    exception_count = serializers.IntegerField(help_text="Exceptions the posting raised, resolved or not.")
    status = EnumField(
        RemittanceStatus,
        source="current_status",
        help_text="exceptions while one is still open; posted otherwise.",
    )

    class Meta:
        model = Remittance
        fields = [
            "id",
            "payer",
            "payer_name",
            "payer_identifier",
            "trace_number",
            "payment_method",
            "payment_amount",
            "payment_date",
            "posted_payments",
            "interest",
            "provider_adjustment_total",
            "claim_count",
            "exception_count",
            "open_exception_count",
            "status",
            "received_at",
            "x12_file",
        ]


class RemarkSerializer(serializers.Serializer):
    code = serializers.CharField(help_text="RARC (LQ*HE, MOA).")
    words = serializers.CharField()


class AdjustmentSerializer(serializers.ModelSerializer):
    group_code = serializers.CharField(help_text="CAS01: CO, PR, OA, PI, CR.")
    reason_code = serializers.CharField(help_text="CARC.")
    words = serializers.CharField(
        help_text='e.g. "CO-45: charge exceeds the fee schedule or contracted amount (...)".'
    )

    class Meta:
        model = RemittanceAdjustment
        fields = ["group_code", "reason_code", "amount", "quantity", "words"]


class RemittanceLineSerializer(serializers.ModelSerializer):
    claim_line = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text="The claim line matched; null when none."
    )
    claim_line_number = serializers.IntegerField(source="claim_line.line_number", allow_null=True)
    modifiers = serializers.ListField(child=serializers.CharField())
    allowed = _money(allow_null=True, help_text="Paid + patient responsibility (or AMT*B6).")
    expected_allowed = _money(allow_null=True, help_text="From the payer's contract; null without one.")
    short_by = _money(
        allow_null=True, help_text="expected_allowed − allowed when the payer allowed less; else null."
    )
    match_reason = serializers.CharField(help_text="How the line was matched to the claim line.")
    adjustments = AdjustmentSerializer(many=True)
    remarks = RemarkSerializer(source="remark_words", many=True)

    class Meta:
        model = RemittanceLine
        fields = [
            "id",
            "claim_line",
            "claim_line_number",
            "procedure_code",
            "modifiers",
            "units",
            "service_date",
            "charge",
            "paid",
            "allowed",
            "expected_allowed",
            "short_by",
            "match_reason",
            "adjustments",
            "remarks",
        ]


class ClaimPaymentSerializer(serializers.ModelSerializer):
    """One CLP: what the payer did with one claim."""

    claim = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text="The claim paid; null when none matched."
    )
    status_code = serializers.CharField(help_text="CLP02.")
    status_words = serializers.CharField(help_text='CLP02 in words, e.g. "processed as primary".')
    paid = _money(help_text="CLP04.")
    posted = serializers.BooleanField(help_text="False while the payment is in an exception.")
    reversed_by = serializers.PrimaryKeyRelatedField(
        read_only=True, allow_null=True, help_text="The later claim payment reversing this one."
    )
    adjustments = AdjustmentSerializer(source="claim_adjustments", many=True, help_text="Claim-level CAS.")
    remarks = RemarkSerializer(source="remark_words", many=True)
    lines = RemittanceLineSerializer(many=True)

    class Meta:
        model = RemittanceClaim
        fields = [
            "id",
            "claim",
            "patient_control_number",
            "status_code",
            "status_words",
            "charge",
            "paid",
            "patient_responsibility",
            "interest",
            "payer_claim_number",
            "posted",
            "reversed_by",
            "adjustments",
            "remarks",
            "lines",
        ]


class ProviderAdjustmentSerializer(serializers.ModelSerializer):
    reason_code = serializers.CharField(help_text="PLB03-1.")
    words = serializers.CharField(help_text='e.g. "overpayment recovery" (WO).')
    amount = _money(help_text="Positive: taken from the payment; negative: added to it.")

    class Meta:
        model = ProviderAdjustment
        fields = [
            "id",
            "reason_code",
            "words",
            "reference",
            "provider_identifier",
            "fiscal_period_date",
            "amount",
        ]


class ReconciliationSerializer(serializers.Serializer):
    """The deposit against what was posted: difference = payment_amount − posted_net, 0.00 once every
    claim payment is posted."""

    payment_amount = _money(help_text="BPR02.")
    posted = _money(help_text="Σ CLP04 of the claim payments posted.")
    posted_count = serializers.IntegerField()
    not_posted = _money(help_text="Σ CLP04 of the claim payments in exceptions, not posted.")
    not_posted_count = serializers.IntegerField()
    provider_adjustments = _money(help_text="Σ PLB.")
    posted_net = _money(help_text="posted − provider_adjustments.")
    difference = _money(help_text="payment_amount − posted_net.")
    unexplained = _money(
        help_text="payment_amount − (posted + not_posted − provider_adjustments): non-zero only "
        "when the payer's file does not balance."
    )
    paid_count = serializers.IntegerField(help_text="Claim payments posted that pay something.")
    denied_count = serializers.IntegerField(
        help_text="Claim payments posted that deny the claim (CLP02 4, or nothing paid)."
    )
    interest = _money(help_text="interest_claims + interest_provider_level.")
    interest_claims = _money(help_text="Σ AMT*I of the claim payments.")
    interest_provider_level = _money(help_text="PLB L6: interest the payer added to the payment.")


class RemittanceExceptionBriefSerializer(serializers.ModelSerializer):
    kind = EnumField(ExceptionKind)
    status = EnumField(ExceptionStatus)

    class Meta:
        model = RemittanceException
        fields = ["id", "kind", "status", "message", "remittance_claim", "created_at", "resolved_at"]


class RemittanceDetailSerializer(RemittanceSerializer):
    """A remittance with everything in it (the view is audited)."""

    claims = ClaimPaymentSerializer(source="claim_payments", many=True, help_text="In file order.")
    provider_adjustments = ProviderAdjustmentSerializer(many=True, help_text="PLB: not against a claim.")
    exceptions = RemittanceExceptionBriefSerializer(many=True)
    reconciliation = ReconciliationSerializer()

    class Meta(RemittanceSerializer.Meta):
        fields = [
            *RemittanceSerializer.Meta.fields,
            "handling_code",
            "production_date",
            "payee_name",
            "payee_npi",
            "claims",
            "provider_adjustments",
            "exceptions",
            "reconciliation",
        ]


class ExceptionRemittanceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Remittance
        fields = ["id", "payer_name", "trace_number", "payment_date"]


class ExceptionClaimPaymentSerializer(serializers.ModelSerializer):
    claim = serializers.PrimaryKeyRelatedField(read_only=True, allow_null=True)

    class Meta:
        model = RemittanceClaim
        fields = ["id", "claim", "patient_control_number", "status_code", "charge", "paid", "posted"]


class RemittanceExceptionSerializer(serializers.ModelSerializer):
    """Something in an ERA the posting did not post, for a biller to resolve."""

    kind = EnumField(ExceptionKind)
    status = EnumField(ExceptionStatus)
    remittance = ExceptionRemittanceSerializer()
    claim_payment = ExceptionClaimPaymentSerializer(
        source="remittance_claim", allow_null=True, help_text="Null for a check-level exception."
    )
    resolved_by = serializers.CharField(source="resolved_by.username", allow_null=True)

    class Meta:
        model = RemittanceException
        fields = [
            "id",
            "kind",
            "status",
            "message",
            "remittance",
            "claim_payment",
            "created_at",
            "resolved_at",
            "resolved_by",
            "resolution_note",
        ]


class ClaimSuggestionSerializer(serializers.Serializer):
    """A claim of the practice an unmatched payment may pay, with why, in words."""

    claim = serializers.IntegerField(source="claim.pk", help_text="The claim id: post with it.")
    patient_control_number = serializers.CharField(source="claim.patient_control_number")
    patient_name = serializers.SerializerMethodField()
    service_date = serializers.DateField(source="claim.service_date")
    charge = _money(source="claim.charge_total")
    payer = serializers.CharField(source="claim.payer.name", allow_null=True, default=None)
    status = serializers.CharField(source="claim.status")
    score = serializers.IntegerField(help_text="Higher fits better.")
    reason = serializers.CharField(
        help_text='Why, e.g. "same member id and date of service, charge differs by $10.00".'
    )

    def get_patient_name(self, suggestion) -> str:
        patient = suggestion.claim.patient
        return f"{patient.last_name}, {patient.first_name}"


# --- In ----------------------------------------------------------------------------------------


class RemittanceFilterSerializer(serializers.Serializer):
    ORDERINGS = {"payment_date": "date", "-payment_date": "-date"}

    payer = serializers.IntegerField(required=False, help_text="A payer id.")
    status = EnumField(
        RemittanceStatus,
        required=False,
        help_text="exceptions: with an exception still open; posted: none open.",
    )
    ordering = serializers.ChoiceField(
        choices=list(ORDERINGS), default="-payment_date", help_text="Latest payment first by default."
    )


class ExceptionFilterSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=["open", "resolved", *[s for s in ExceptionStatus.values if s != ExceptionStatus.OPEN]],
        default="open",
        help_text="open (oldest first, the default), resolved (posted or dismissed; latest first), "
        "or one resolution.",
    )
    kind = EnumField(ExceptionKind, required=False, help_text="Only exceptions of this kind.")
    remittance = serializers.IntegerField(
        required=False, min_value=1, help_text="Only exceptions of this remittance (its id)."
    )


class ResolveAction(models.TextChoices):
    POST = "post", "Post the payment (against the claim given, for an unmatched one)"
    DISMISS = "dismiss", "Dismiss the exception with a note saying why"


class ExceptionResolveSerializer(serializers.Serializer):
    action = EnumField(ResolveAction)
    claim = PracticeRelatedField(
        queryset=Claim.objects.all(),
        required=False,
        allow_null=True,
        help_text="post: the claim an unmatched payment pays (a claim id of the practice); "
        "null to post as sent.",
    )
    note = serializers.CharField(
        required=False, allow_blank=True, max_length=255, default="", help_text="Required to dismiss: why."
    )


class ExceptionsDismissSerializer(serializers.Serializer):
    exception_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        allow_empty=False,
        help_text="Open exceptions of the practice.",
    )
    note = serializers.CharField(max_length=255, help_text="Why they are dismissed (required).")


class ExceptionsDismissedSerializer(serializers.Serializer):
    dismissed = serializers.ListField(child=serializers.IntegerField())


# --- Views -------------------------------------------------------------------------------------


@extend_schema(parameters=[PRACTICE_HEADER])
@extend_schema_view(
    list=extend_schema(
        summary="Remittances (ERA 835 payments received), latest payment first",
        parameters=[RemittanceFilterSerializer],
        responses={200: RemittanceSerializer(many=True), **error_responses(400, 403)},
    ),
    retrieve=extend_schema(
        summary="One remittance: claim payments, lines, adjustments in words, PLBs and the deposit "
        "reconciliation (the view is audited)",
        responses={200: RemittanceDetailSerializer, **error_responses(403, 404)},
    ),
)
class RemittanceViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PracticeScopedViewSet):
    queryset = Remittance.objects.all()
    serializer_class = RemittanceSerializer
    required_permission = "claims.view"

    def get_queryset(self):
        if self.action == "list":
            filters = RemittanceFilterSerializer(data=self.request.query_params)
            filters.is_valid(raise_exception=True)
            wanted = filters.validated_data
            return remittance_list(
                self.request.practice,
                payer_id=wanted.get("payer"),
                status=wanted.get("status", ""),
                sort=RemittanceFilterSerializer.ORDERINGS[wanted["ordering"]],
            )
        return remittance_details(self.request.practice)

    def get_serializer_class(self):
        return RemittanceSerializer if self.action == "list" else RemittanceDetailSerializer

    def retrieve(self, request, *args, **kwargs):
        remittance = self.get_object()
        audit_view(request, remittance)
        return Response(RemittanceDetailSerializer(remittance_explain(remittance)).data)


@extend_schema(parameters=[PRACTICE_HEADER])
@extend_schema_view(
    list=extend_schema(
        summary="Remittance exceptions: open ones (oldest first) by default",
        parameters=[ExceptionFilterSerializer],
        responses={200: RemittanceExceptionSerializer(many=True), **error_responses(400, 403)},
    ),
    retrieve=extend_schema(
        summary="One remittance exception",
        responses={200: RemittanceExceptionSerializer, **error_responses(403, 404)},
    ),
)
class RemittanceExceptionViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PracticeScopedViewSet):
    queryset = RemittanceException.objects.all()
    serializer_class = RemittanceExceptionSerializer
    parser_classes = [JSONParser]
    required_permission = {"*": "claims.view", "POST": "claims.edit"}

    def get_queryset(self):
        view = "all"  # by id, an exception is found whatever its status
        if self.action == "list":
            filters = ExceptionFilterSerializer(data=self.request.query_params)
            filters.is_valid(raise_exception=True)
            wanted = filters.validated_data
            return remittance_exception_list(
                self.request.practice,
                view=wanted["status"],
                remittance_id=wanted.get("remittance"),
                kind=wanted.get("kind", ""),
            )
        return remittance_exception_list(self.request.practice, view=view)

    def get_serializer_class(self):
        if self.action == "resolve":
            return ExceptionResolveSerializer
        if self.action == "dismiss":
            return ExceptionsDismissSerializer
        if self.action == "suggestions":
            return ClaimSuggestionSerializer
        return RemittanceExceptionSerializer

    @extend_schema(
        summary="Claims an unmatched payment may pay, best first, each with its reason in words",
        description="From what the 835 carries (patient name, member id, dates of service, charge, "
        "procedures). Empty for other kinds of exception and for resolved ones. Post to one with "
        "`resolve` (`action` post, `claim` its id).",
        responses={200: ClaimSuggestionSerializer(many=True), **error_responses(403, 404)},
    )
    @action(detail=True, methods=["get"], pagination_class=None)  # a short list, never paged
    def suggestions(self, request, pk=None):
        exception = self.get_object()
        found = exception_suggestions(request.practice, [exception])[exception.pk]
        return Response(ClaimSuggestionSerializer(found, many=True).data)

    @extend_schema(
        summary="Dismiss several open exceptions with one note, all or none",
        description="Refused whole (400, the reason in `message`, nothing changed) when an id is not an "
        "exception of the practice, one is already resolved, or the note is empty.",
        request=ExceptionsDismissSerializer,
        responses={200: ExceptionsDismissedSerializer, **error_responses(400, 403)},
    )
    @action(detail=False, methods=["post"])
    def dismiss(self, request):
        payload = ExceptionsDismissSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        dismissed = exceptions_dismiss(
            practice=request.practice,
            exception_ids=payload.validated_data["exception_ids"],
            user=request.user,
            note=payload.validated_data["note"],
        )
        return Response({"dismissed": [e.pk for e in dismissed]})

    @extend_schema(
        summary="Resolve an open exception: post it (against the claim given, for an unmatched payment) or "
        "dismiss it with a note",
        description="Nothing is changed when the posting refuses (400, the reason in `message`): "
        "an exception already resolved, a dismissal without a note, a payment that still does not post "
        "against the claim given.",
        request=ExceptionResolveSerializer,
        responses={200: RemittanceExceptionSerializer, **error_responses(400, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def resolve(self, request, pk=None):
        exception = self.get_object()
        payload = ExceptionResolveSerializer(data=request.data, context=self.get_serializer_context())
        payload.is_valid(raise_exception=True)
        wanted = payload.validated_data
        exception_resolve(
            exception=exception,
            action=wanted["action"],
            user=request.user,
            note=wanted["note"],
            claim=wanted.get("claim"),
        )
        resolved = remittance_exception_list(request.practice, view="all").get(pk=exception.pk)
        return Response(RemittanceExceptionSerializer(resolved).data)
