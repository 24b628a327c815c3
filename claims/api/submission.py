"""The submission API: 837P batches (submit ready claims, list them, download the file), X12 files
received from the clearinghouse (upload 999/277CA, list them), and the biller's work queues.

Each operation parses its input, calls one service or selector and serializes the result:
``claims_submit``, ``x12_import``, ``queue_counts`` / ``queue_claims`` and ``claims_assign``. URLs
carry ids only, never patient details; the 837P and X12 files are read only by id, and reading one
is written to the audit log."""

import dataclasses
import datetime

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Prefetch
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import exceptions, mixins, renderers, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response

from claims.edi.intake import postable_practices, upload_refusal, x12_import
from claims.models import (
    BatchStatus,
    Claim,
    ClaimStatus,
    ScrubStatus,
    SubmissionBatch,
    X12File,
    X12FileKind,
    X12FileStatus,
)
from claims.queues.selectors import QUEUE_BY_SLUG, QUEUES, SORTS, queue_claims, queue_counts
from claims.queues.services import UNCHECKED, claim_take_next, claims_assign
from claims.submission.batches import batch_download_record, batch_mark_sent, claims_submit
from claims.submission.selectors import batch_list, batch_whereabouts
from rcm.api.base import PracticeAPIMixin, PracticeScopedViewSet
from rcm.api.errors import error_response
from rcm.api.pagination import StandardPagination
from rcm.api.parsers import JSONParser
from rcm.api.reference import PayerBriefSerializer
from rcm.api.serializers import MAX_ID, EnumField, FlatErrorsMixin, PracticeMemberField, PracticeRelatedField
from rcm.api.views import PRACTICE_HEADER, error_responses
from rcm.audit import audit_view
from rcm.models import Payer
from rcm.roles import BATCH_DOWNLOAD_REFUSED, role_can_download_batches
from rcm.tenancy import scoped

X12_MEDIA_TYPE = "application/edi-x12"
MAX_REASONS_IN_MESSAGE = 10


def _json_errors(*codes: int) -> dict:
    """``error_responses`` for an operation whose success is not JSON: errors stay JSON."""
    return {(code, "application/json"): response for code, response in error_responses(*codes).items()}


class X12Renderer(renderers.BaseRenderer):
    """Lets a client ask for ``application/edi-x12``; the file itself is sent as it was stored. An error
    met on the way is still the JSON error body."""

    media_type = X12_MEDIA_TYPE
    format = "x12"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, str):
            return data.encode(self.charset)
        return renderers.JSONRenderer().render(data)


# --- Batches: out ------------------------------------------------------------------------------


class BatchClaimSerializer(serializers.ModelSerializer):
    class Meta:
        model = Claim
        fields = ["id", "patient_control_number"]


class WhereaboutsSerializer(serializers.Serializer):
    label = serializers.CharField(help_text="Where the batch is, as the batch page's badge says it.")
    tone = serializers.ChoiceField(choices=["ok", "warn", "bad", ""], help_text="The badge's colour.")
    detail = serializers.CharField(help_text="Who, when and what comes next.")


class BatchSerializer(serializers.ModelSerializer):
    """An 837P batch as lists show it (``claim_count`` claims; the detail lists them), with where it is:
    built, downloaded (by whom, when), marked sent by hand, delivered by SFTP, acknowledged."""

    payer = PayerBriefSerializer()
    status = EnumField(BatchStatus)
    created_by = serializers.CharField(source="created_by.username", allow_null=True)
    downloaded_by = serializers.CharField(source="downloaded_by.username", allow_null=True, read_only=True)
    marked_sent_by = serializers.CharField(source="marked_sent_by.username", allow_null=True, read_only=True)
    whereabouts = serializers.SerializerMethodField()

    class Meta:
        model = SubmissionBatch
        fields = [
            "id",
            "file_name",
            "payer",
            "claim_count",
            "total_charge",
            "status",
            "interchange_control_number",
            "group_control_number",
            "transaction_control_number",
            "created_at",
            "created_by",
            "validation_ok",
            "downloaded_at",
            "downloaded_by",
            "marked_sent_at",
            "marked_sent_by",
            "whereabouts",
        ]

    @extend_schema_field(WhereaboutsSerializer)
    def get_whereabouts(self, batch) -> dict:
        return dataclasses.asdict(batch_whereabouts(batch))


class BatchDetailSerializer(BatchSerializer):
    claims = BatchClaimSerializer(many=True, help_text="The claims in the file, by id.")

    class Meta(BatchSerializer.Meta):
        fields = [*BatchSerializer.Meta.fields, "claims"]


class RefusedClaimSerializer(serializers.Serializer):
    claim = serializers.IntegerField(help_text="The claim id as given (or found ready).")
    reason = serializers.CharField()


class SubmitResultSerializer(serializers.Serializer):
    batches = BatchDetailSerializer(many=True, help_text="One per payer (at most 5,000 claims each).")
    refused = RefusedClaimSerializer(
        many=True, help_text="Claims not submitted and why; a claim with scrubber errors is back to draft."
    )


# --- Batches: in -------------------------------------------------------------------------------


class BatchCreateSerializer(FlatErrorsMixin, serializers.Serializer):
    claim_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID),
        required=False,
        allow_empty=False,
        help_text="Submit these ready claims; left out, every ready claim of the practice.",
    )
    payer = PracticeRelatedField(
        queryset=Payer.objects.all(), required=False, allow_null=True, help_text="Only this payer's claims."
    )


def _nothing_submitted_message(refused: dict[int, str]) -> str:
    if not refused:
        return "No ready claims to submit."
    reasons = [f"Claim {claim_id}: {reason.rstrip('.')}." for claim_id, reason in sorted(refused.items())]
    more = len(reasons) - MAX_REASONS_IN_MESSAGE
    listed = " ".join(reasons[:MAX_REASONS_IN_MESSAGE]) + (f" And {more} more." if more > 0 else "")
    return f"Nothing was submitted. {listed}"


# --- Batches: views ----------------------------------------------------------------------------


@extend_schema(parameters=[PRACTICE_HEADER])
@extend_schema_view(
    list=extend_schema(
        summary="837P batches, newest first",
        responses={200: BatchSerializer(many=True), **error_responses(403)},
    ),
    retrieve=extend_schema(
        summary="One 837P batch with its claims",
        responses={200: BatchDetailSerializer, **error_responses(403, 404)},
    ),
    create=extend_schema(
        summary="Submit ready claims: scrub them again, build and validate one 837P batch per payer",
        description="Claims with scrubber errors are never submitted: they are listed in `refused` "
        "(and go back to draft). When nothing could be submitted the answer is 400 and the message says why.",
        request=BatchCreateSerializer,
        responses={201: SubmitResultSerializer, **error_responses(400, 403)},
    ),
)
class BatchViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PracticeScopedViewSet):
    queryset = SubmissionBatch.objects.all()
    serializer_class = BatchSerializer
    parser_classes = [JSONParser]
    required_permission = {"*": "claims.view", "POST": "claims.edit"}

    def get_queryset(self):
        if self.action == "download":
            # practice: for the audit row
            return super().get_queryset().select_related("payer", "created_by", "practice")
        queryset = batch_list(self.request.practice).select_related("created_by")
        if self.action == "list":
            return queryset
        return _with_claims(queryset)

    def get_serializer_class(self):
        return BatchSerializer if self.action == "list" else BatchDetailSerializer

    def create(self, request, *args, **kwargs):
        payload = BatchCreateSerializer(data=request.data, context=self.get_serializer_context())
        payload.is_valid(raise_exception=True)
        payer = payload.validated_data.get("payer")
        result = claims_submit(
            practice=request.practice,
            claim_ids=payload.validated_data.get("claim_ids"),
            payer_id=payer.pk if payer else None,
            user=request.user,
        )
        if not result.batches:
            # A response, not an exception: the scrubber's findings on the refused claims are kept.
            return error_response(_nothing_submitted_message(result.refused), code="nothing_submitted")
        batches = _with_claims(
            batch_list(request.practice)
            .filter(pk__in=[b.pk for b in result.batches])
            .select_related("created_by")
            .order_by("pk")
        )
        data = {
            "batches": batches,
            "refused": [
                {"claim": claim_id, "reason": reason} for claim_id, reason in sorted(result.refused.items())
            ],
        }
        return Response(SubmitResultSerializer(data).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Say a downloaded batch was sent to the clearinghouse by hand",
        description="The batch becomes sent (waiting for its 999), with who said so and when. Refused (400, "
        "nothing changed) when the file was never downloaded, or is already sent or acknowledged.",
        request=None,
        responses={200: BatchDetailSerializer, **error_responses(400, 403, 404)},
    )
    @action(detail=True, methods=["post"], url_path="mark-sent")
    def mark_sent(self, request, pk=None):
        batch_mark_sent(batch=self.get_object(), user=request.user)
        return Response(BatchDetailSerializer(self.get_queryset().get(pk=pk)).data)

    @extend_schema(
        summary="Download the 837P file of a batch, as sent (who downloaded it and when is kept; audited)",
        parameters=[OpenApiParameter("format", exclude=True)],
        responses={
            (200, X12_MEDIA_TYPE): OpenApiResponse(OpenApiTypes.STR, description="The 837P file."),
            **_json_errors(403, 404),
        },
    )
    @action(detail=True, methods=["get"], renderer_classes=[renderers.JSONRenderer, X12Renderer])
    def download(self, request, pk=None):
        if not role_can_download_batches(request.role, request.practice):
            raise exceptions.PermissionDenied(BATCH_DOWNLOAD_REFUSED)
        batch = self.get_object()
        batch_download_record(batch=batch, user=request.user)
        response = HttpResponse(batch.content, content_type=X12_MEDIA_TYPE)
        response["Content-Disposition"] = f'attachment; filename="{batch.file_name}"'
        response["Cache-Control"] = "no-store"
        return response


def _with_claims(queryset):
    return queryset.prefetch_related(
        Prefetch("claims", queryset=Claim.objects.only("id", "patient_control_number").order_by("id"))
    )


# --- X12 files ---------------------------------------------------------------------------------


class X12FileSerializer(serializers.ModelSerializer):
    kind = EnumField(X12FileKind, help_text="Empty when the file could not be read.")
    status = EnumField(X12FileStatus)
    received_by = serializers.CharField(source="received_by.username", allow_null=True)
    outcome = serializers.DictField(
        child=serializers.IntegerField(),
        help_text="What applying the file did (counts).",
    )
    warnings = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = X12File
        fields = [
            "id",
            "file_name",
            "kind",
            "status",
            "source",
            "received_at",
            "received_by",
            "error",
            "outcome",
            "warnings",
            "validated_at",
        ]


class X12FileDetailSerializer(X12FileSerializer):
    """A received file with its content as it came (the view is audited)."""

    validation_findings = serializers.ListField(
        child=serializers.DictField(), help_text="What pyx12 found in the file (at most 200)."
    )

    class Meta(X12FileSerializer.Meta):
        fields = [*X12FileSerializer.Meta.fields, "validation_findings", "content"]


class X12UploadSerializer(serializers.Serializer):
    file = serializers.ListField(
        child=serializers.FileField(allow_empty_file=True),
        allow_empty=False,
        help_text="One or several 999, 277CA or 835 files, each at most RCM_MAX_UPLOAD_MB (20 MB by "
        "default).",
    )

    def validate_file(self, uploads):
        refusals = [refusal for upload in uploads if (refusal := upload_refusal(upload.name, upload.size))]
        if refusals:
            raise serializers.ValidationError(refusals)
        return uploads


class X12ImportResultSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="The X12 file kept (for a duplicate: the one applied earlier).")
    file_name = serializers.CharField(help_text="The name the file was uploaded with.")
    kind = EnumField(X12FileKind)
    status = EnumField(X12FileStatus, help_text="applied, or refused with nothing changed.")
    duplicate = serializers.BooleanField(
        help_text="The same content was applied before; nothing was changed."
    )
    message = serializers.CharField()
    validation = serializers.ChoiceField(
        choices=["done", "queued", "none"],
        help_text="pyx12 validation: done with the upload, queued for a worker (a large file; the file is "
        "applied either way), or none (refused or duplicate).",
    )
    outcome = serializers.DictField(child=serializers.IntegerField())


def _validation_state(result) -> str:
    if result.duplicate or not result.applied:
        return "none"
    if result.validation_queued:
        return "queued"
    return "done" if result.file.validated_at else "none"


class X12UploadResultSerializer(serializers.Serializer):
    files = X12ImportResultSerializer(many=True, help_text="One per file, in the order uploaded.")


@extend_schema(parameters=[PRACTICE_HEADER])
@extend_schema_view(
    list=extend_schema(
        summary="X12 files received (999, 277CA), newest first",
        responses={200: X12FileSerializer(many=True), **error_responses(403)},
    ),
    retrieve=extend_schema(
        summary="One X12 file with its content (the view is audited)",
        responses={200: X12FileDetailSerializer, **error_responses(403, 404)},
    ),
    create=extend_schema(
        summary="Upload 999 and 277CA files: each is kept, and applied whole or refused with nothing changed",
        description="Each file has its own result. The answer is 201 when at least one file was applied (or "
        "was a duplicate of one applied before), 400 when every file was refused.",
        request={"multipart/form-data": X12UploadSerializer},
        responses={201: X12UploadResultSerializer, **error_responses(400, 403)},
    ),
)
class X12FileViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PracticeScopedViewSet):
    queryset = X12File.objects.all()
    serializer_class = X12FileSerializer
    parser_classes = [MultiPartParser]
    required_permission = {"*": "claims.view", "POST": "claims.edit"}

    def get_queryset(self):
        queryset = super().get_queryset().select_related("received_by")
        if self.action == "list":
            return queryset.defer("content", "validation_findings")
        return queryset.select_related("practice")  # practice: for the audit row

    def get_serializer_class(self):
        return X12FileSerializer if self.action == "list" else X12FileDetailSerializer

    def retrieve(self, request, *args, **kwargs):
        x12_file = self.get_object()
        audit_view(request, x12_file)
        return Response(X12FileDetailSerializer(x12_file).data)

    def create(self, request, *args, **kwargs):
        payload = X12UploadSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        rows = []
        for upload in payload.validated_data["file"]:
            result = x12_import(
                practice=request.practice,
                file_name=upload.name,
                content=upload.read(),
                user=request.user,
                source="api",
                candidates=postable_practices(request),
            )
            rows.append(
                {
                    "id": result.file.pk,
                    "file_name": upload.name,
                    "kind": result.file.kind,
                    "status": result.file.status,
                    "duplicate": result.duplicate,
                    "message": result.message,
                    "outcome": {} if result.duplicate else result.file.outcome,
                    "validation": _validation_state(result),
                }
            )
        if all(row["status"] == X12FileStatus.REFUSED for row in rows):
            # A response, not an exception: the refused files are kept with their reasons.
            messages = [row["message"] for row in rows]
            response = error_response(
                messages[0] if len(messages) == 1 else "Every file was refused: " + " ".join(messages)
            )
            response.data["error"]["fields"] = {"file": messages}
            return response
        return Response(X12UploadResultSerializer({"files": rows}).data, status=status.HTTP_201_CREATED)


# --- Work queues -------------------------------------------------------------------------------


class QueueSerializer(serializers.Serializer):
    slug = serializers.CharField()
    title = serializers.CharField()
    description = serializers.CharField()
    count = serializers.IntegerField(help_text="Claims in the queue now.")


class DeadlineField(serializers.DateField):
    """``queue_claims`` computes the deadline as date + interval, which PostgreSQL returns as a timestamp
    (midnight, no time zone): the date is what it means."""

    def to_representation(self, value):
        if isinstance(value, datetime.datetime):
            value = value.date()
        return super().to_representation(value)


class QueueClaimSerializer(serializers.ModelSerializer):
    """A claim as a work queue shows it (no patient name: the id opens the claim)."""

    status = EnumField(ClaimStatus)
    payer = PayerBriefSerializer(allow_null=True)
    balance_total = serializers.DecimalField(
        max_digits=14, decimal_places=2, help_text="Insurance + patient balance."
    )
    deadline = DeadlineField(
        allow_null=True,
        help_text="Timely filing (unsubmitted) or appeal (denied) deadline from the payer's contract.",
    )
    assigned_to = serializers.CharField(source="assigned_to.username", allow_null=True)
    scrub_status = EnumField(ScrubStatus)

    class Meta:
        model = Claim
        fields = [
            "id",
            "patient_control_number",
            "patient",
            "payer",
            "status",
            "service_date",
            "balance_total",
            "deadline",
            "assigned_to",
            "scrub_status",
        ]


class QueueClaimFilterSerializer(serializers.Serializer):
    sort = serializers.ChoiceField(
        choices=list(SORTS), default="priority", help_text="priority: nearest deadline, then largest balance."
    )
    assigned_to = serializers.CharField(required=False, help_text='A user id, or "me".')
    unassigned = serializers.BooleanField(
        required=False, default=False, help_text="Only claims nobody works."
    )

    def validate_assigned_to(self, value):
        if value == "me":
            return self.context["request"].user.pk
        if not value.isdigit():
            raise serializers.ValidationError('Give a user id or "me".')
        return int(value)

    def validate(self, attrs):
        if attrs.get("assigned_to") is not None and attrs["unassigned"]:
            raise serializers.ValidationError("Give assigned_to or unassigned, not both.")
        return attrs


class ClaimAssignSerializer(FlatErrorsMixin, serializers.Serializer):
    claim_ids = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=MAX_ID), allow_empty=False, max_length=1000
    )
    assignee = PracticeMemberField(allow_null=True, help_text="A member of the practice; null: nobody.")

    def validate_claim_ids(self, value):
        found = set(
            scoped(Claim, self.context["request"].practice).filter(pk__in=value).values_list("pk", flat=True)
        )
        missing = [claim_id for claim_id in value if claim_id not in found]
        if missing:
            raise serializers.ValidationError(f"No claim with id {missing[0]} in this practice.")
        return value


class ClaimAssignWithCheckSerializer(ClaimAssignSerializer):
    expected_assignee = PracticeMemberField(
        allow_null=True,
        required=False,
        help_text="Who you saw assigned (null: nobody). Given, a claim meanwhile taken by someone else is "
        "not overwritten: the answer is 409 naming who has it, and nothing changes.",
    )


class ClaimAssignResultSerializer(serializers.Serializer):
    assigned = serializers.IntegerField(help_text="How many claims now have this assignee.")
    assignee = serializers.CharField(allow_null=True, help_text="The assignee's username; null: nobody.")


QUEUE_SLUG = OpenApiParameter(
    "slug", str, OpenApiParameter.PATH, enum=[queue.slug for queue in QUEUES], description="The queue."
)


@extend_schema(parameters=[PRACTICE_HEADER])
class QueueViewSet(PracticeAPIMixin, viewsets.GenericViewSet):
    """The biller's work queues: which claims need work, in what order, and who works them."""

    required_permission = "claims.queues"
    lookup_field = "slug"
    pagination_class = None
    parser_classes = [JSONParser]

    def get_queryset(self):
        return scoped(Claim, self.request.practice)  # what the queues filter (the browsable API asks for it)

    def get_serializer_class(self):
        return {"claims": QueueClaimSerializer, "assign": ClaimAssignWithCheckSerializer}.get(
            self.action, QueueSerializer
        )

    @extend_schema(
        summary="Work queues with the number of claims in each",
        responses={200: QueueSerializer(many=True), **error_responses(403)},
    )
    def list(self, request):
        counts = queue_counts(request.practice)
        rows = [
            {"slug": q.slug, "title": q.title, "description": q.description, "count": counts[q.slug]}
            for q in QUEUES
        ]
        return Response(QueueSerializer(rows, many=True).data)

    @extend_schema(
        summary="The claims of a queue, sorted",
        parameters=[QUEUE_SLUG, QueueClaimFilterSerializer],
        responses={200: QueueClaimSerializer(many=True), **error_responses(400, 403, 404)},
    )
    @action(detail=True, methods=["get"], pagination_class=StandardPagination)
    def claims(self, request, slug=None):
        if slug not in QUEUE_BY_SLUG:
            raise exceptions.NotFound(f"No queue {slug}; the queues are {', '.join(QUEUE_BY_SLUG)}.")
        filters = QueueClaimFilterSerializer(data=request.query_params, context={"request": request})
        filters.is_valid(raise_exception=True)
        wanted = filters.validated_data
        claims = queue_claims(
            request.practice,
            slug,
            assigned_to=wanted.get("assigned_to"),
            unassigned=wanted["unassigned"],
            sort=wanted["sort"],
        )
        page = self.paginate_queryset(claims)
        return self.get_paginated_response(QueueClaimSerializer(page, many=True).data)

    @extend_schema(
        summary="Give claims to a member of the practice, or to nobody",
        request=ClaimAssignWithCheckSerializer,
        responses={200: ClaimAssignResultSerializer, **error_responses(400, 403, 409)},
    )
    @action(detail=False, methods=["post"])
    def assign(self, request):
        payload = self.get_serializer(data=request.data)
        payload.is_valid(raise_exception=True)
        assignee = payload.validated_data["assignee"]
        expected = UNCHECKED
        if "expected_assignee" in payload.validated_data:
            seen = payload.validated_data["expected_assignee"]
            expected = seen.pk if seen is not None else None
        try:
            assigned = claims_assign(
                practice=request.practice,
                claim_ids=payload.validated_data["claim_ids"],
                assignee=assignee,
                user=request.user,
                expected_assignee_id=expected,
            )
        except DjangoValidationError as error:
            message = " ".join(error.message_dict.get("assignee", error.messages))
            return error_response(message, code="taken", http_status=status.HTTP_409_CONFLICT)
        return Response(
            ClaimAssignResultSerializer(
                {"assigned": assigned, "assignee": assignee.get_username() if assignee else None}
            ).data
        )

    @extend_schema(
        summary="Take the next claim: the queue's highest-priority unassigned claim becomes yours",
        description="Two billers taking at once get different claims. An empty queue is a 404 saying so.",
        parameters=[QUEUE_SLUG],
        request=None,
        responses={200: QueueClaimSerializer, **error_responses(403, 404)},
    )
    @action(detail=True, methods=["post"], url_path="next")
    def take_next(self, request, slug=None):
        if slug not in QUEUE_BY_SLUG:
            raise exceptions.NotFound(f"No queue {slug}; the queues are {', '.join(QUEUE_BY_SLUG)}.")
        claim = claim_take_next(practice=request.practice, slug=slug, user=request.user)
        if claim is None:
            return error_response(
                f"No unassigned claim left in the {slug} queue.",
                code="queue_empty",
                http_status=status.HTTP_404_NOT_FOUND,
            )
        return Response(QueueClaimSerializer(claim).data)
