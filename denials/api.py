"""The denials API: the work queue with its filters, one denial, status changes and assignment, the
actions on the denied claim (corrected claim, void, write-off) and appeal letters (create, edit, final,
PDF download, sent, outcome). Every denial shows its claim, line, CARC, RARCs, category and amount; money
is a string with two decimals; errors use the API's one format."""

from django.contrib.auth import get_user_model
from django.http import HttpResponse
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from claims.queues.selectors import queue_assignees
from denials import letters as letter_services
from denials import selectors, services
from denials.models import AppealLetter, AppealOutcome, Denial, DenialStatus, LetterChannel
from denials.reference import carc_words, rarc_words
from rcm.api.base import PracticeScopedViewSet
from rcm.api.errors import error_response
from rcm.api.parsers import JSONParser
from rcm.api.serializers import MAX_ID, EnumField
from rcm.api.views import error_responses
from rcm.audit import audit_record, audit_view
from rcm.models import AuditAction

# --- Out ---------------------------------------------------------------------------------------


class CodeSerializer(serializers.Serializer):
    code = serializers.CharField()
    words = serializers.CharField()


class DenialSerializer(serializers.ModelSerializer):
    status = EnumField(DenialStatus)
    claim = serializers.IntegerField(source="claim_id")
    claim_number = serializers.CharField(source="claim.patient_control_number")
    payer = serializers.CharField(source="claim.payer.name", default="")
    line = serializers.IntegerField(source="line_id", allow_null=True)
    line_number = serializers.IntegerField(source="line.line_number", default=None)
    procedure_code = serializers.CharField(source="line.procedure_code", default="")
    carc = serializers.SerializerMethodField()
    rarcs = serializers.SerializerMethodField()
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    recovered_amount = serializers.DecimalField(max_digits=12, decimal_places=2)
    assignee = serializers.IntegerField(source="assignee_id", allow_null=True)
    era = serializers.IntegerField(source="remittance_claim.remittance_id")

    class Meta:
        model = Denial
        fields = [
            "id",
            "claim",
            "claim_number",
            "payer",
            "line",
            "line_number",
            "procedure_code",
            "group_code",
            "carc",
            "rarcs",
            "unknown_code",
            "amount",
            "recovered_amount",
            "category",
            "owner",
            "preventable",
            "status",
            "remit_date",
            "appeal_deadline",
            "assignee",
            "era",
            "created_at",
        ]

    def get_carc(self, denial) -> dict:
        return {"code": denial.reason_code, "words": carc_words(denial.reason_code)}

    def get_rarcs(self, denial) -> list[dict]:
        return [{"code": code, "words": rarc_words(code)} for code in denial.remark_codes]


class HistorySerializer(serializers.Serializer):
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    at = serializers.DateTimeField()
    by = serializers.CharField(source="by.username", default="")
    reason = serializers.CharField()


class DenialDetailSerializer(DenialSerializer):
    history = serializers.SerializerMethodField()
    what_to_do = serializers.SerializerMethodField()

    class Meta(DenialSerializer.Meta):
        fields = [*DenialSerializer.Meta.fields, "what_to_do", "history"]

    def get_history(self, denial) -> list[dict]:
        return HistorySerializer(selectors.denial_history(denial), many=True).data

    def get_what_to_do(self, denial) -> str:
        return selectors.decorate([denial], denial.practice_id)[0].what_to_do


class LetterSerializer(serializers.ModelSerializer):
    is_final = serializers.BooleanField(read_only=True)

    class Meta:
        model = AppealLetter
        fields = [
            "id",
            "denial",
            "claim",
            "template",
            "body",
            "after_deadline",
            "is_final",
            "finalized_at",
            "sent_on",
            "channel",
            "outcome",
            "outcome_at",
            "created_at",
        ]


# --- In ----------------------------------------------------------------------------------------


class QueueFilterSerializer(serializers.Serializer):
    payer = serializers.IntegerField(required=False)
    category = serializers.CharField(required=False, default="")
    carc = serializers.CharField(required=False, default="", max_length=5)
    provider = serializers.IntegerField(required=False)
    owner = serializers.CharField(required=False, default="")
    assignee = serializers.RegexField(r"^(\d+|me|none)$", required=False, default="")
    status = serializers.ChoiceField(["", "all", *DenialStatus.values], required=False, default="")
    sort = serializers.ChoiceField(list(selectors.SORTS), required=False, default="amount")


class StatusChangeSerializer(serializers.Serializer):
    to_status = serializers.ChoiceField([DenialStatus.IN_REVIEW, DenialStatus.APPEALED])
    note = serializers.CharField(required=False, default="", allow_blank=True, max_length=200)


class AssignSerializer(serializers.Serializer):
    denial_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), allow_empty=False, max_length=1000
    )
    assignee = serializers.IntegerField(allow_null=True, min_value=1, max_value=MAX_ID)


class ReasonSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=200, allow_blank=True)


class CorrectSerializer(serializers.Serializer):
    prior_authorization = serializers.CharField(required=False, allow_null=True, default=None, max_length=50)
    note = serializers.CharField(required=False, default="", allow_blank=True, max_length=200)


class LetterCreateSerializer(serializers.Serializer):
    template = serializers.ChoiceField(["", *letter_services.TEMPLATE_LABELS], required=False, default="")


class LetterEditSerializer(serializers.Serializer):
    body = serializers.CharField(allow_blank=True)


class LetterSentSerializer(serializers.Serializer):
    sent_on = serializers.DateField()
    channel = serializers.ChoiceField(LetterChannel.values)


class LetterOutcomeSerializer(serializers.Serializer):
    outcome = serializers.ChoiceField([c for c in AppealOutcome.values if c])


# --- Views -------------------------------------------------------------------------------------


def _queue_parameters() -> list[OpenApiParameter]:
    return [OpenApiParameter(name, str, required=False) for name in (*selectors.FILTERS, "sort")]


class DenialViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PracticeScopedViewSet):
    queryset = Denial.objects.all()
    serializer_class = DenialSerializer
    parser_classes = [JSONParser]
    required_permission = {"*": "denials.view", "POST": "denials.edit"}

    def get_queryset(self):
        if self.action == "list":
            wanted = QueueFilterSerializer(data=self.request.query_params)
            wanted.is_valid(raise_exception=True)
            data = {k: ("" if v is None else str(v)) for k, v in wanted.validated_data.items()}
            return selectors.denial_queue(
                self.request.practice, selectors.QueueFilters(**data), user=self.request.user
            )
        return (
            super()
            .get_queryset()
            .select_related("claim__payer", "line", "remittance_claim", "assignee", "practice")
        )

    def _denial(self, denial) -> dict:
        return DenialDetailSerializer(self.get_queryset().get(pk=denial.pk)).data

    @extend_schema(parameters=_queue_parameters())
    def list(self, request, *args, **kwargs):
        return super().list(request, *args, **kwargs)

    @extend_schema(responses={200: DenialDetailSerializer, **error_responses(403, 404)})
    def retrieve(self, request, *args, **kwargs):
        denial = self.get_object()
        audit_view(request, denial)
        return Response(DenialDetailSerializer(denial).data)

    @extend_schema(
        summary="Move a denial: in review, or appealed (files the claim's appeal)",
        request=StatusChangeSerializer,
        responses={200: DenialDetailSerializer, **error_responses(400, 403, 404)},
    )
    @action(detail=True, methods=["post"], url_path="status")
    def status_change(self, request, pk=None):
        denial = self.get_object()
        payload = StatusChangeSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        if payload.validated_data["to_status"] == DenialStatus.IN_REVIEW:
            services.denial_review(denial=denial, user=request.user, note=payload.validated_data["note"])
        else:
            services.appeal_file(claim=denial.claim, user=request.user, note=payload.validated_data["note"])
        return Response(self._denial(denial))

    @extend_schema(
        summary="Assign denials (all or none) to a member who works denials, or to nobody (null)",
        request=AssignSerializer,
        responses={200: DenialSerializer(many=True), **error_responses(400, 403)},
    )
    @action(detail=False, methods=["post"])
    def assign(self, request):
        payload = AssignSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        assignee_id = payload.validated_data["assignee"]
        assignee = None
        if assignee_id is not None:
            assignee = next((u for u in queue_assignees(request.practice) if u.pk == assignee_id), None)
            if assignee is None and get_user_model().objects.filter(pk=assignee_id).exists():
                return error_response("This user cannot work denials in this practice.")
            if assignee is None:
                return error_response("No such user.")
        found = services.denials_assign(
            practice=request.practice,
            denial_ids=payload.validated_data["denial_ids"],
            assignee=assignee,
            user=request.user,
        )
        return Response(
            DenialSerializer(self.get_queryset().filter(pk__in=[d.pk for d in found]), many=True).data
        )

    @extend_schema(
        summary="Send a corrected claim (frequency 7, payer claim number in REF*F8) into the next 837P batch",
        request=CorrectSerializer,
        responses={200: DenialDetailSerializer, **error_responses(400, 403, 404)},
    )
    @action(detail=True, methods=["post"], url_path="corrected-claim")
    def corrected_claim(self, request, pk=None):
        denial = self.get_object()
        payload = CorrectSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.denial_correct(claim=denial.claim, user=request.user, **payload.validated_data)
        return Response(self._denial(denial))

    @extend_schema(
        summary="Void the denied claim with the payer (frequency 8) in the next 837P batch",
        request=ReasonSerializer,
        responses={200: DenialDetailSerializer, **error_responses(400, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def void(self, request, pk=None):
        denial = self.get_object()
        payload = ReasonSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.denial_void(claim=denial.claim, reason=payload.validated_data["reason"], user=request.user)
        return Response(self._denial(denial))

    @extend_schema(
        summary="Write off what insurance still owes on the claim's denied lines (through the ledger)",
        request=ReasonSerializer,
        responses={200: DenialDetailSerializer, **error_responses(400, 403, 404)},
    )
    @action(detail=True, methods=["post"], url_path="write-off")
    def write_off(self, request, pk=None):
        denial = self.get_object()
        payload = ReasonSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        services.denial_write_off(
            claim=denial.claim, reason=payload.validated_data["reason"], user=request.user
        )
        return Response(self._denial(denial))

    @extend_schema(
        summary="Draft an appeal letter from the category's template (a late appeal is allowed and recorded)",
        request=LetterCreateSerializer,
        responses={201: LetterSerializer, **error_responses(400, 403, 404)},
    )
    @action(detail=True, methods=["post"])
    def letters(self, request, pk=None):
        denial = self.get_object()
        payload = LetterCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        letter = letter_services.letter_create(
            denial=denial, user=request.user, template=payload.validated_data["template"]
        )
        return Response(LetterSerializer(letter).data, status=status.HTTP_201_CREATED)


class AppealLetterViewSet(mixins.RetrieveModelMixin, PracticeScopedViewSet):
    queryset = AppealLetter.objects.defer("pdf")
    serializer_class = LetterSerializer
    parser_classes = [JSONParser]
    required_permission = {"*": "denials.view", "POST": "denials.edit", "PATCH": "denials.edit"}

    @extend_schema(
        request=LetterEditSerializer, responses={200: LetterSerializer, **error_responses(400, 403, 404)}
    )
    def partial_update(self, request, pk=None):
        payload = LetterEditSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        letter = letter_services.letter_update(
            letter=self.get_object(), body=payload.validated_data["body"], user=request.user
        )
        return Response(LetterSerializer(letter).data)

    @extend_schema(request=None, responses={200: LetterSerializer, **error_responses(400, 403, 404)})
    @action(detail=True, methods=["post"])
    def final(self, request, pk=None):
        letter = letter_services.letter_finalize(letter=self.get_object(), user=request.user)
        return Response(LetterSerializer(letter).data)

    @extend_schema(
        request=LetterSentSerializer, responses={200: LetterSerializer, **error_responses(400, 403, 404)}
    )
    @action(detail=True, methods=["post"])
    def sent(self, request, pk=None):
        payload = LetterSentSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        letter = letter_services.letter_mark_sent(
            letter=self.get_object(), user=request.user, **payload.validated_data
        )
        return Response(LetterSerializer(letter).data)

    @extend_schema(
        request=LetterOutcomeSerializer, responses={200: LetterSerializer, **error_responses(400, 403, 404)}
    )
    @action(detail=True, methods=["post"])
    def outcome(self, request, pk=None):
        payload = LetterOutcomeSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        letter = letter_services.letter_record_outcome(
            letter=self.get_object(), outcome=payload.validated_data["outcome"], user=request.user
        )
        return Response(LetterSerializer(letter).data)

    @extend_schema(summary="The final letter as PDF", responses={(200, "application/pdf"): bytes})
    @action(detail=True, methods=["get"])
    def pdf(self, request, pk=None):
        letter = AppealLetter.objects.get(pk=self.get_object().pk)
        if not letter.is_final:
            return error_response(
                "The letter has no PDF until it is final.", code="not_found", http_status=404
            )
        audit_record(
            action=AuditAction.EXPORT,
            practice=request.practice,
            object_type="denials.appealletter",
            object_id=letter.pk,
        )
        response = HttpResponse(bytes(letter.pdf), content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="{letter.pdf_name}"'
        return response
