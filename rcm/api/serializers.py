"""Serializers shared by the whole API: the signed-in user, audit events, the error format, and the
field types every app's API uses (ids within the practice, enums, decimals, error keys)."""

from decimal import Decimal

from django.contrib.auth import get_user_model
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from drf_spectacular.plumbing import ResolvedComponent, build_choice_field
from rest_framework import serializers
from rest_framework.settings import api_settings

from rcm.models import AuditEvent, Membership, Practice
from rcm.tenancy import scoped


class PracticeSerializer(serializers.ModelSerializer):
    class Meta:
        model = Practice
        fields = ["id", "name", "slug", "npi", "tax_id", "city", "state", "phone", "time_zone"]


class MembershipSerializer(serializers.ModelSerializer):
    practice = PracticeSerializer()

    class Meta:
        model = Membership
        fields = ["practice", "role"]


class MeSerializer(serializers.Serializer):
    username = serializers.CharField()
    full_name = serializers.CharField()
    current_practice = serializers.SlugField(allow_null=True)
    role = serializers.CharField(allow_null=True)
    memberships = MembershipSerializer(many=True)


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "at",
            "username",
            "action",
            "object_type",
            "object_id",
            "changes",
            "ip_address",
            "source",
        ]


# --- The error format (rcm.api.errors), for the schema -------------------------------------------


class ErrorBodySerializer(serializers.Serializer):
    status = serializers.IntegerField()
    code = serializers.CharField()
    message = serializers.CharField(help_text="One sentence for people; names the first field in error.")
    fields = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text="Messages by field, e.g. "
        '{"lines[2].charge": ["The charge must be greater than zero (got 0)."]}.',
    )


# Ids are 64-bit: a larger number in an id list is refused as invalid input, never sent to the database
# (where it overflowed: a 500).
MAX_ID = 2**63 - 1


class ErrorSerializer(serializers.Serializer):
    error = ErrorBodySerializer()


# --- Field types ------------------------------------------------------------------------------------


class PracticeRelatedField(serializers.PrimaryKeyRelatedField):
    """The id of a row of the request's practice. Another practice's id is refused exactly like a
    missing one ("No patient with id 7 in this practice."), so ids of other tenants reveal nothing."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        name = self.queryset.model._meta.verbose_name
        self.error_messages["does_not_exist"] = f"No {name} with id {{pk_value}} in this practice."

    def get_queryset(self):
        return scoped(super().get_queryset(), self.context["request"].practice)


class EnumField(serializers.ChoiceField):
    """One of a model ``Choices`` class. In the schema every field of the same class refers to one
    component named after it (``ClaimStatusEnum``, ``SexEnum``) whatever the field is called, so
    ``status`` and ``to_status`` are the same enum to clients."""

    def __init__(self, choices_class, **kwargs):
        self.choices_class = choices_class
        super().__init__(choices=choices_class.choices, **kwargs)


class EnumFieldExtension(OpenApiSerializerFieldExtension):
    target_class = EnumField

    def map_serializer_field(self, auto_schema, direction):
        choices_class = self.target.choices_class
        component = ResolvedComponent(
            name=f"{choices_class.__name__}Enum",
            type=ResolvedComponent.SCHEMA,
            schema=build_choice_field(serializers.ChoiceField(choices=choices_class.choices)),
            object=choices_class,
        )
        auto_schema.registry.register_on_missing(component)
        if self.target.allow_blank:
            return {"oneOf": [component.ref, {"type": "string", "enum": [""]}]}
        return component.ref


class DecimalAsSentField(serializers.DecimalField):
    """A decimal checked for digits and places but kept as the client wrote it (not padded to the
    field's places), so the service's messages quote the value sent: "(got 0)", not "(got 0.000)".
    JSON numbers arrive as floats and are read through their text: no float arithmetic follows."""

    def quantize(self, value: Decimal) -> Decimal:
        return value


def flatten_error_keys(detail, key: str = "") -> dict[str, list[str]]:
    """DRF's nested errors in the services' key style, positions counted from 1:
    ``{"lines": [{}, {"charge": ["..."]}]}`` -> ``{"lines[2].charge": ["..."]}``."""
    flat: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for name, value in detail.items():
            if isinstance(name, int):
                sub = f"{key}[{name + 1}]"
            elif name == api_settings.NON_FIELD_ERRORS_KEY and key:
                sub = key
            else:
                sub = f"{key}.{name}" if key else str(name)
            flat.update(flatten_error_keys(value, sub))
    elif isinstance(detail, list) and any(isinstance(item, dict | list) for item in detail):
        for position, item in enumerate(detail, 1):
            flat.update(flatten_error_keys(item, f"{key}[{position}]"))
    else:
        flat[key] = [str(message) for message in (detail if isinstance(detail, list) else [detail])]
    return flat


class FlatErrorsMixin:
    """For input serializers with nested lists: validation errors keyed like the services' errors."""

    def run_validation(self, data=serializers.empty):
        try:
            return super().run_validation(data)
        except serializers.ValidationError as exc:
            raise serializers.ValidationError(flatten_error_keys(exc.detail)) from None


class PracticeMemberField(serializers.PrimaryKeyRelatedField):
    """The id of a user with an active membership in the request's practice. Anyone else is refused
    like a missing id ("No member with id 7 in this practice."): ids reveal no other practice's staff."""

    default_error_messages = {"does_not_exist": "No member with id {pk_value} in this practice."}

    def __init__(self, **kwargs):
        kwargs.setdefault("queryset", get_user_model().objects.all())
        super().__init__(**kwargs)

    def get_queryset(self):
        return self.queryset.filter(
            memberships__practice=self.context["request"].practice, memberships__is_active=True
        )
