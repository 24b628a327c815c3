"""The API of the reference data: patients (with their coverage and contact consents), payers,
coverages and providers. Reads are scoped to the request's practice; creates go through
``rcm.services``; opening a patient's or a coverage's detail is written to the audit log."""

from django.db.models import Prefetch
from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import mixins, serializers, status
from rest_framework.decorators import action
from rest_framework.response import Response

from rcm.api.base import PracticeScopedViewSet
from rcm.api.parsers import JSONParser
from rcm.api.serializers import EnumField, PracticeRelatedField
from rcm.api.views import PRACTICE_HEADER, error_responses
from rcm.audit import audit_list_view, audit_view
from rcm.models import Coverage, Patient, Payer, PayerKind, Provider, ProviderRole, Sex
from rcm.services import consents_current, coverage_create, patient_create

# --- Serializers -------------------------------------------------------------------------------


class PayerSerializer(serializers.ModelSerializer):
    kind = EnumField(PayerKind)

    class Meta:
        model = Payer
        fields = [
            "id",
            "name",
            "payer_id",
            "kind",
            "address_line1",
            "city",
            "state",
            "postal_code",
            "phone",
            "no_response_days",
            "is_active",
        ]


class PayerBriefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Payer
        fields = ["id", "name", "payer_id"]


class ProviderSerializer(serializers.ModelSerializer):
    role = EnumField(ProviderRole)

    class Meta:
        model = Provider
        fields = [
            "id",
            "first_name",
            "last_name",
            "credentials",
            "is_organization",
            "npi",
            "taxonomy_code",
            "role",
            "is_active",
        ]


class CoverageSerializer(serializers.ModelSerializer):
    payer = PayerBriefSerializer()
    subscriber_sex = EnumField(Sex, allow_blank=True)

    class Meta:
        model = Coverage
        fields = [
            "id",
            "patient",
            "payer",
            "priority",
            "member_id",
            "group_number",
            "relationship",
            "subscriber_first_name",
            "subscriber_last_name",
            "subscriber_date_of_birth",
            "subscriber_sex",
            "effective_date",
            "end_date",
        ]


class CoverageCreateSerializer(serializers.ModelSerializer):
    patient = PracticeRelatedField(queryset=Patient.objects.all())
    payer = PracticeRelatedField(queryset=Payer.objects.all())
    subscriber_sex = EnumField(Sex, allow_blank=True, required=False)

    class Meta:
        model = Coverage
        fields = [
            "patient",
            "payer",
            "priority",
            "member_id",
            "group_number",
            "relationship",
            "subscriber_first_name",
            "subscriber_last_name",
            "subscriber_date_of_birth",
            "subscriber_sex",
            "effective_date",
            "end_date",
        ]


class CoverageFilterSerializer(serializers.Serializer):
    patient = serializers.IntegerField(required=False, help_text="Only this patient's coverages (an id).")
    payer = serializers.IntegerField(required=False, help_text="Only coverages with this payer (an id).")


class PatientSerializer(serializers.ModelSerializer):
    sex = EnumField(Sex)

    class Meta:
        model = Patient
        fields = ["id", "account_number", "first_name", "middle_name", "last_name", "date_of_birth", "sex"]


class ConsentsSerializer(serializers.Serializer):
    """Consent in force per channel: the latest event wins, no event means no consent."""

    email = serializers.BooleanField()
    sms = serializers.BooleanField()
    mail = serializers.BooleanField()
    phone = serializers.BooleanField()


class PatientDetailSerializer(PatientSerializer):
    coverages = CoverageSerializer(many=True)
    consents = serializers.SerializerMethodField()

    class Meta(PatientSerializer.Meta):
        fields = [
            *PatientSerializer.Meta.fields,
            "address_line1",
            "address_line2",
            "city",
            "state",
            "postal_code",
            "phone",
            "email",
            "preferred_language",
            "time_zone",
            "guarantor",
            "guarantor_relationship",
            "created_at",
            "coverages",
            "consents",
        ]

    @extend_schema_field(ConsentsSerializer)
    def get_consents(self, patient) -> dict[str, bool]:
        return consents_current(patient)


class PatientCreateSerializer(serializers.ModelSerializer):
    account_number = serializers.CharField(
        max_length=20, required=False, allow_blank=True, help_text="Leave out to get the next account number."
    )
    sex = EnumField(Sex)
    guarantor = PracticeRelatedField(queryset=Patient.objects.all(), required=False, allow_null=True)

    class Meta:
        model = Patient
        fields = [
            "account_number",
            "first_name",
            "middle_name",
            "last_name",
            "date_of_birth",
            "sex",
            "address_line1",
            "address_line2",
            "city",
            "state",
            "postal_code",
            "phone",
            "email",
            "preferred_language",
            "time_zone",
            "guarantor",
            "guarantor_relationship",
        ]


class PatientSearchSerializer(serializers.Serializer):
    """Search criteria travel in the body, never in the URL (names and birth dates are PHI)."""

    last_name = serializers.CharField(required=False, help_text="Starts with (any case).")
    first_name = serializers.CharField(required=False, help_text="Starts with (any case).")
    date_of_birth = serializers.DateField(required=False)
    account_number = serializers.CharField(required=False, help_text="Exactly.")

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError(
                "Give at least one of last_name, first_name, date_of_birth, account_number."
            )
        return attrs


def _patients_matching(queryset, criteria: dict):
    if last_name := criteria.get("last_name"):
        queryset = queryset.filter(last_name__istartswith=last_name)
    if first_name := criteria.get("first_name"):
        queryset = queryset.filter(first_name__istartswith=first_name)
    if date_of_birth := criteria.get("date_of_birth"):
        queryset = queryset.filter(date_of_birth=date_of_birth)
    if account_number := criteria.get("account_number"):
        queryset = queryset.filter(account_number=account_number)
    return queryset


# --- Views -------------------------------------------------------------------------------------


@extend_schema(parameters=[PRACTICE_HEADER])
@extend_schema_view(
    list=extend_schema(
        summary="Patients", responses={200: PatientSerializer(many=True), **error_responses(403)}
    ),
    retrieve=extend_schema(
        summary="One patient, with coverages and consents (the view is audited)",
        responses={200: PatientDetailSerializer, **error_responses(403, 404)},
    ),
    create=extend_schema(
        summary="Create a patient",
        request=PatientCreateSerializer,
        responses={201: PatientDetailSerializer, **error_responses(400, 403)},
    ),
)
class PatientViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PracticeScopedViewSet):
    queryset = Patient.objects.all()
    serializer_class = PatientSerializer
    parser_classes = [JSONParser]
    required_permission = {"*": "patients.view", "POST": "patients.edit"}

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action in ("retrieve", "create"):
            queryset = queryset.select_related("practice").prefetch_related(  # practice: for the audit row
                Prefetch("coverages", queryset=Coverage.objects.select_related("payer"))
            )
        return queryset

    def get_serializer_class(self):
        return PatientDetailSerializer if self.action == "retrieve" else PatientSerializer

    def list(self, request, *args, **kwargs):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        audit_list_view(request, object_type="rcm.patient", ids=[patient.pk for patient in page])
        return self.get_paginated_response(PatientSerializer(page, many=True).data)

    def retrieve(self, request, *args, **kwargs):
        patient = self.get_object()
        audit_view(request, patient)
        return Response(PatientDetailSerializer(patient, context=self.get_serializer_context()).data)

    def create(self, request, *args, **kwargs):
        payload = PatientCreateSerializer(data=request.data, context=self.get_serializer_context())
        payload.is_valid(raise_exception=True)
        patient = patient_create(practice=request.practice, **payload.validated_data)
        patient = self.get_queryset().get(pk=patient.pk)
        return Response(
            PatientDetailSerializer(patient, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )

    @extend_schema(
        summary="Find patients by name, date of birth or account number (criteria in the body)",
        request=PatientSearchSerializer,
        responses={200: PatientSerializer(many=True), **error_responses(400, 403)},
    )
    @action(detail=False, methods=["post"], required_permission="patients.view")
    def search(self, request):
        criteria = PatientSearchSerializer(data=request.data)
        criteria.is_valid(raise_exception=True)
        page = self.paginate_queryset(_patients_matching(self.get_queryset(), criteria.validated_data))
        audit_list_view(
            request, object_type="rcm.patient", ids=[patient.pk for patient in page], searched=True
        )
        return self.get_paginated_response(PatientSerializer(page, many=True).data)


@extend_schema(parameters=[PRACTICE_HEADER])
@extend_schema_view(
    list=extend_schema(
        summary="Coverages",
        parameters=[CoverageFilterSerializer],
        responses={200: CoverageSerializer(many=True), **error_responses(400, 403)},
    ),
    retrieve=extend_schema(
        summary="One coverage (the view is audited)",
        responses={200: CoverageSerializer, **error_responses(403, 404)},
    ),
    create=extend_schema(
        summary="Create a coverage",
        request=CoverageCreateSerializer,
        responses={201: CoverageSerializer, **error_responses(400, 403)},
    ),
)
class CoverageViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PracticeScopedViewSet):
    queryset = Coverage.objects.select_related("payer")
    serializer_class = CoverageSerializer
    parser_classes = [JSONParser]
    required_permission = {"*": "patients.view", "POST": "patients.edit"}

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.action == "list":
            filters = CoverageFilterSerializer(data=self.request.query_params)
            filters.is_valid(raise_exception=True)
            if patient_id := filters.validated_data.get("patient"):
                queryset = queryset.filter(patient_id=patient_id)
            if payer_id := filters.validated_data.get("payer"):
                queryset = queryset.filter(payer_id=payer_id)
        return queryset

    def retrieve(self, request, *args, **kwargs):
        coverage = self.get_object()
        audit_view(request, coverage)
        return Response(CoverageSerializer(coverage).data)

    def create(self, request, *args, **kwargs):
        payload = CoverageCreateSerializer(data=request.data, context=self.get_serializer_context())
        payload.is_valid(raise_exception=True)
        coverage = coverage_create(practice=request.practice, **payload.validated_data)
        return Response(CoverageSerializer(coverage).data, status=status.HTTP_201_CREATED)


@extend_schema(parameters=[PRACTICE_HEADER])
@extend_schema_view(
    list=extend_schema(
        summary="Providers (the billing and rendering providers of claims)",
        responses={200: ProviderSerializer(many=True), **error_responses(403)},
    ),
    retrieve=extend_schema(
        summary="One provider", responses={200: ProviderSerializer, **error_responses(403, 404)}
    ),
)
class ProviderViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, PracticeScopedViewSet):
    queryset = Provider.objects.all()
    serializer_class = ProviderSerializer
    required_permission = "claims.view"
