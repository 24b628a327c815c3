from rest_framework import serializers

from rcm.models import AuditEvent, Membership, Practice


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
        fields = ["id", "at", "username", "action", "object_type", "object_id", "changes", "ip_address", "source"]
