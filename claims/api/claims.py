"""The claims API: claims with their lines, diagnoses, balances, ledger and status history, charge
entry (a draft claim with its lines, through ``claims.services.claim_create``), editing a claim not
yet adjudicated (``claim_update``) and scrubbing one claim (``claims_scrub``).

Every read is scoped to the request's practice; opening a claim's detail is written to the audit log.
Money is a string with two decimals both ways ("150.00"); a JSON number is read through its text, so
no float reaches the service."""

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from claims.expected import NO_CONTRACT, NO_RATE, PRICED, SELF_PAY, claim_lines_expected
from claims.models import Claim, ClaimLine, ClaimStatus, ClaimStatusChange, ScrubStatus, Transaction
from claims.scrubber.engine import claims_scrub, scrub_filter_open
from claims.scrubber.rules import Severity
from claims.selectors import claim_list, claim_status_counts
from claims.services import LineInput, claim_create, claim_update, claims_bill_secondary
from rcm.api.base import PracticeScopedViewSet
from rcm.api.errors import error_response
from rcm.api.parsers import JSONParser
from rcm.api.reference import PayerBriefSerializer
from rcm.api.serializers import DecimalAsSentField, EnumField, FlatErrorsMixin, PracticeRelatedField
from rcm.api.views import PRACTICE_HEADER, error_responses
from rcm.audit import audit_view
from rcm.models import Coverage, Patient, Provider
from rcm.validators import icd10_description

# --- Out ---------------------------------------------------------------------------------------


def _money(**kwargs):
    return serializers.DecimalField(max_digits=12, decimal_places=2, read_only=True, **kwargs)


class BalancesSerializer(serializers.Serializer):
    """The money buckets, derived from the ledger. Always: charge_total = insurance_paid + patient_paid
    + adjustments + write_offs + insurance_balance + patient_balance; balance = the two balances."""

    charge_total = _money()
    insurance_paid = _money()
    patient_paid = _money()
    adjustments = _money()
    write_offs = _money()
    insurance_balance = _money()
    patient_balance = _money()
    balance = _money(help_text="insurance_balance + patient_balance")


class ClaimPatientSerializer(serializers.ModelSerializer):
    class Meta:
        model = Patient
        fields = ["id", "account_number", "first_name", "last_name"]


class ClaimSerializer(serializers.ModelSerializer):
    """A claim as lists show it."""

    status = EnumField(ClaimStatus)
    patient = ClaimPatientSerializer()
    payer = PayerBriefSerializer(allow_null=True, help_text="The coverage's payer; null for self-pay.")
    balances = BalancesSerializer(source="*")

    class Meta:
        model = Claim
        fields = [
            "id",
            "patient_control_number",
            "status",
            "status_changed_at",
            "service_date",
            "patient",
            "coverage",
            "payer",
            "billing_provider",
            "rendering_provider",
            "frequency_code",
            "created_at",
            "balances",
        ]


class DiagnosisSerializer(serializers.Serializer):
    pointer = serializers.IntegerField(help_text="The position lines point at (from 1).")
    code = serializers.CharField()
    description = serializers.CharField()


class ExpectedContractSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class ExpectedFeeRowSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField(source="procedure_code")
    modifier = serializers.CharField()
    setting = serializers.SerializerMethodField()
    allowed_amount = serializers.DecimalField(max_digits=12, decimal_places=2)

    def get_setting(self, row) -> str:
        return "facility" if row.facility else "non-facility"


class LineExpectedSerializer(serializers.Serializer):
    """What the contract in force on the line's date of service expects the payer to allow."""

    amount = serializers.DecimalField(
        max_digits=12, decimal_places=2, allow_null=True, help_text="Null when unknown: never a guess."
    )
    status = serializers.ChoiceField(
        choices=[PRICED, NO_CONTRACT, NO_RATE, SELF_PAY],
        help_text="priced; or why unknown: no contract in force, no rate for the code, self-pay.",
    )
    message = serializers.CharField(help_text="Why the amount is unknown, in words (empty when priced).")
    contract = ExpectedContractSerializer(allow_null=True)
    fee_row = ExpectedFeeRowSerializer(
        allow_null=True, help_text="The fee schedule row read (the base contract's for % of a base schedule)."
    )
    method = serializers.CharField(help_text="The contract's pricing method (empty when unknown).")
    reduction_percent = serializers.DecimalField(
        max_digits=5, decimal_places=2, allow_null=True, help_text="The multiple-procedure reduction applied."
    )


class ClaimLineSerializer(serializers.ModelSerializer):
    modifiers = serializers.ListField(child=serializers.CharField())
    diagnosis_pointers = serializers.ListField(child=serializers.IntegerField())
    balances = BalancesSerializer(source="*")
    expected_allowed = serializers.SerializerMethodField()

    class Meta:
        model = ClaimLine
        fields = [
            "id",
            "line_number",
            "line_control_number",
            "procedure_code",
            "modifiers",
            "units",
            "charge",
            "service_date_from",
            "service_date_to",
            "diagnosis_pointers",
            "balances",
            "expected_allowed",
        ]

    @extend_schema_field(LineExpectedSerializer(allow_null=True))
    def get_expected_allowed(self, line) -> dict | None:
        if not hasattr(line, "expected"):  # a line serialized alone: priced alone
            line.expected = claim_lines_expected(line.claim, [line]).get(line.pk)
        return None if line.expected is None else LineExpectedSerializer(line.expected).data


class ClaimTransactionSerializer(serializers.ModelSerializer):
    line_number = serializers.IntegerField(source="line.line_number")
    posted_by = serializers.CharField(source="posted_by.username", allow_null=True)
    remark_codes = serializers.ListField(child=serializers.CharField())

    class Meta:
        model = Transaction
        fields = [
            "id",
            "line",
            "line_number",
            "kind",
            "party",
            "amount",
            "effective_date",
            "posted_at",
            "posted_by",
            "source",
            "source_reference",
            "payer",
            "group_code",
            "reason_code",
            "remark_codes",
            "responsibility",
            "note",
            "reverses",
        ]


class ClaimStatusChangeSerializer(serializers.ModelSerializer):
    from_status = EnumField(ClaimStatus)
    to_status = EnumField(ClaimStatus)
    by = serializers.CharField(source="by.username", allow_null=True)

    class Meta:
        model = ClaimStatusChange
        fields = ["from_status", "to_status", "at", "by", "reason"]


class ClaimDetailSerializer(ClaimSerializer):
    """A claim with everything on it: lines, diagnoses, balances, the ledger and the status history."""

    created_by = serializers.CharField(source="created_by.username", allow_null=True)
    diagnoses = serializers.SerializerMethodField()
    lines = ClaimLineSerializer(many=True)
    transactions = ClaimTransactionSerializer(many=True, help_text="The ledger, oldest first.")
    status_history = ClaimStatusChangeSerializer(many=True, help_text="Oldest first.")

    class Meta(ClaimSerializer.Meta):
        fields = [
            *ClaimSerializer.Meta.fields,
            "original_claim",
            "payer_claim_number",
            "place_of_service",
            "prior_authorization",
            "created_by",
            "first_submitted_at",
            "last_submitted_at",
            "adjudicated_at",
            "diagnoses",
            "lines",
            "transactions",
            "status_history",
        ]

    def to_representation(self, claim):
        # The lines' expected amounts in two queries for the whole claim (the reduction ranks its lines).
        lines = list(claim.lines.all())
        expected = claim_lines_expected(claim, lines)
        for line in lines:
            line.expected = expected.get(line.pk)
        return super().to_representation(claim)

    @extend_schema_field(DiagnosisSerializer(many=True))
    def get_diagnoses(self, claim) -> list[dict]:
        return [
            {"pointer": pointer, "code": code, "description": icd10_description(code)}
            for pointer, code in enumerate(claim.diagnosis_codes, 1)
        ]


class ScrubFindingSerializer(serializers.Serializer):
    rule = serializers.CharField(help_text="The rule's code, e.g. MUE_UNITS.")
    severity = serializers.ChoiceField(
        choices=[s.value for s in Severity], help_text="An error blocks submission."
    )
    message = serializers.CharField()
    hint = serializers.CharField(help_text="How to fix it.")
    line = serializers.IntegerField(
        allow_null=True, help_text="The line number, or null for the whole claim."
    )


class ScrubResultSerializer(serializers.ModelSerializer):
    """What the scrubber found on the claim, and where that left it: a clean draft is now ready, a ready
    claim with errors is back to draft."""

    status = EnumField(ClaimStatus)
    scrub_status = EnumField(ScrubStatus)
    findings = ScrubFindingSerializer(source="scrub_findings", many=True)

    class Meta:
        model = Claim
        fields = ["id", "status", "scrub_status", "scrubbed_at", "findings"]


# --- In ----------------------------------------------------------------------------------------


class ClaimFilterSerializer(serializers.Serializer):
    ORDERINGS = {
        "service_date": ("service_date", "id"),
        "-service_date": ("-service_date", "-id"),
        "id": ("id",),
        "-id": ("-id",),
    }

    status = EnumField(ClaimStatus, required=False)
    payer = serializers.IntegerField(required=False, help_text="A payer id.")
    patient = serializers.IntegerField(required=False, help_text="A patient id.")
    ordering = serializers.ChoiceField(
        choices=list(ORDERINGS), default="-service_date", help_text="Latest date of service first by default."
    )


class ClaimLineCreateSerializer(serializers.Serializer):
    procedure_code = serializers.CharField(help_text="CPT (5 digits, or 4 + F/T/U) or HCPCS Level II code.")
    modifiers = serializers.ListField(
        child=serializers.CharField(allow_blank=True),
        required=False,
        help_text="Up to 4 two-character modifiers.",
    )
    units = DecimalAsSentField(
        max_digits=9, decimal_places=3, required=False, help_text="At least 1; default 1."
    )
    charge = DecimalAsSentField(
        max_digits=12, decimal_places=2, help_text='For the line (all units), greater than zero: "150.00".'
    )
    service_date_from = serializers.DateField()
    service_date_to = serializers.DateField(
        required=False, allow_null=True, help_text="Default: service_date_from."
    )
    diagnosis_pointers = serializers.ListField(
        child=serializers.IntegerField(),
        required=False,
        help_text="1 to 4 positions (from 1) in diagnosis_codes; default [1].",
    )


class ClaimUpdateSerializer(FlatErrorsMixin, serializers.Serializer):
    """The whole claim as it should be (the patient stays). Lines are matched by position: a line left
    out is removed, its charge reversed. Errors are keyed like charge entry's: ``lines[2].charge``."""

    coverage = PracticeRelatedField(
        queryset=Coverage.objects.all(),
        allow_null=True,
        help_text="One of the patient's coverages; null for self-pay.",
    )
    billing_provider = PracticeRelatedField(queryset=Provider.objects.all())
    rendering_provider = PracticeRelatedField(
        queryset=Provider.objects.all(), required=False, allow_null=True
    )
    place_of_service = serializers.CharField(
        required=False, help_text="Two-digit CMS code; default 11 (office)."
    )
    prior_authorization = serializers.CharField(required=False, allow_blank=True, max_length=50)
    diagnosis_codes = serializers.ListField(
        child=serializers.CharField(), help_text="1 to 12 billable ICD-10-CM codes, in order."
    )
    lines = ClaimLineCreateSerializer(many=True, help_text="1 to 50 service lines.")


class ClaimCreateSerializer(ClaimUpdateSerializer):
    """A draft claim. Errors are keyed by field, lines by position from 1: ``lines[2].charge``."""

    patient = PracticeRelatedField(queryset=Patient.objects.all())

    def get_fields(self):
        fields = super().get_fields()
        return {"patient": fields.pop("patient"), **fields}  # first, as before: errors name it first


# --- Views -------------------------------------------------------------------------------------


def _with_details(queryset):
    return queryset.select_related(
        "patient", "payer", "created_by", "practice"
    ).prefetch_related(  # practice: audit
        Prefetch("lines", queryset=ClaimLine.objects.filter(removed=False).order_by("line_number")),
        Prefetch(
            "transactions",
            queryset=Transaction.objects.select_related("line", "posted_by").order_by("posted_at", "id"),
        ),
        Prefetch(
            "status_history", queryset=ClaimStatusChange.objects.select_related("by").order_by("at", "id")
        ),
    )


@extend_schema(parameters=[PRACTICE_HEADER])
@extend_schema_view(
    list=extend_schema(
        summary="Claims",
        parameters=[ClaimFilterSerializer],
        responses={200: ClaimSerializer(many=True), **error_responses(400, 403)},
    ),
    retrieve=extend_schema(
        summary="One claim with its lines, diagnoses, balances, ledger and status history "
        "(the view is audited)",
        responses={200: ClaimDetailSerializer, **error_responses(403, 404)},
    ),
    create=extend_schema(
        summary="Enter charges: create a draft claim with its lines and post a charge per line",
        request=ClaimCreateSerializer,
        responses={201: ClaimDetailSerializer, **error_responses(400, 403)},
    ),
    update=extend_schema(
        summary="Edit a claim not yet adjudicated (draft, ready, rejected or being corrected)",
        description="The body is the whole claim as it should be, without the patient. Changed charges are "
        "reversed and posted again; a ready claim goes back to draft and a rejected one to corrected, to be "
        "scrubbed again. An adjudicated claim is refused (400): create a corrected claim instead.",
        request=ClaimUpdateSerializer,
        responses={200: ClaimDetailSerializer, **error_responses(400, 403, 404)},
    ),
)
class ClaimViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PracticeScopedViewSet):
    queryset = Claim.objects.all()
    serializer_class = ClaimSerializer
    parser_classes = [JSONParser]
    required_permission = {"*": "claims.view", "POST": "claims.edit", "PUT": "claims.edit"}

    def get_queryset(self):
        if self.action == "list":
            filters = ClaimFilterSerializer(data=self.request.query_params)
            filters.is_valid(raise_exception=True)
            wanted = self.list_filters = filters.validated_data
            return claim_list(
                self.request.practice,
                status=wanted.get("status"),
                payer_id=wanted.get("payer"),
                patient_id=wanted.get("patient"),
            ).order_by(*ClaimFilterSerializer.ORDERINGS[wanted["ordering"]])
        if self.action in ("update", "scrub", "bill_secondary"):
            return super().get_queryset().select_related("practice")
        return _with_details(super().get_queryset())

    def get_serializer_class(self):
        return ClaimSerializer if self.action == "list" else ClaimDetailSerializer

    def known_count(self) -> int | None:
        """The list's length when the practice's (cached) status counts hold it: no filter but the status."""
        wanted = getattr(self, "list_filters", None)
        if wanted is None or wanted.get("payer") or wanted.get("patient"):
            return None
        status = wanted.get("status")
        return sum(
            row["count"]
            for row in claim_status_counts(self.request.practice)
            if not status or row["status"] == status
        )

    def _detail(self, claim) -> dict:
        return ClaimDetailSerializer(_with_details(Claim.objects.filter(pk=claim.pk)).get()).data

    def retrieve(self, request, *args, **kwargs):
        claim = self.get_object()
        audit_view(request, claim)
        return Response(ClaimDetailSerializer(claim).data)

    def create(self, request, *args, **kwargs):
        payload = ClaimCreateSerializer(data=request.data, context=self.get_serializer_context())
        payload.is_valid(raise_exception=True)
        fields = dict(payload.validated_data)
        lines = [LineInput(**line) for line in fields.pop("lines")]
        claim = claim_create(practice=request.practice, lines=lines, user=request.user, **fields)
        return Response(self._detail(claim), status=status.HTTP_201_CREATED)

    def update(self, request, *args, **kwargs):
        claim = self.get_object()
        payload = ClaimUpdateSerializer(data=request.data, context=self.get_serializer_context())
        payload.is_valid(raise_exception=True)
        fields = dict(payload.validated_data)
        lines = [LineInput(**line) for line in fields.pop("lines")]
        fields.setdefault("rendering_provider", None)
        claim = claim_update(claim=claim, lines=lines, user=request.user, **fields)
        return Response(self._detail(claim))

    @extend_schema(
        summary="Scrub the claim: run every rule, keep the findings, move a clean draft to ready",
        request=None,
        responses={200: ScrubResultSerializer, **error_responses(400, 403, 404)},
    )
    @action(detail=True, methods=["post"], required_permission="claims.edit")
    def scrub(self, request, pk=None):
        claim = self.get_object()
        counts = claims_scrub(
            queryset=Claim.objects.filter(scrub_filter_open(), pk=claim.pk), user=request.user
        )
        claim.refresh_from_db()
        if not sum(counts.values()):
            return error_response(
                f"Claim {claim.patient_control_number} is {claim.get_status_display().lower()}: only drafts, "
                "corrected and ready claims are scrubbed."
            )
        return Response(ScrubResultSerializer(claim).data)

    @extend_schema(
        summary="Bill the secondary: the balance the primary left goes to the patient's next coverage",
        description="The primary's transfers to patient responsibility are reversed, the secondary coverage "
        "active on the date of service becomes the claim's, and the claim goes to ready for the next 837P "
        "batch. Refused (400, naming why) unless the claim was forwarded with a secondary pending.",
        request=None,
        responses={200: ClaimDetailSerializer, **error_responses(400, 403, 404)},
    )
    @action(detail=True, methods=["post"], url_path="bill-secondary", required_permission="claims.edit")
    def bill_secondary(self, request, pk=None):
        claim = self.get_object()
        _billed, refused = claims_bill_secondary(
            practice=request.practice, claim_ids=[claim.pk], user=request.user
        )
        if refused:
            return error_response(refused[claim.pk])
        return Response(self._detail(claim))
