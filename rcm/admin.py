from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from rcm.models import (
    AuditEvent,
    ChargeMasterEntry,
    ConsentEvent,
    Coverage,
    FeeScheduleRow,
    Membership,
    Patient,
    Payer,
    PayerContract,
    Practice,
    Provider,
    User,
)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["practice"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    inlines = [MembershipInline]


@admin.register(Practice)
class PracticeAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "npi", "tax_id", "is_active"]
    search_fields = ["name", "slug", "npi"]
    prepopulated_fields = {"slug": ["name"]}


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: the audit trail can be browsed here but never changed or deleted."""

    list_display = [
        "at",
        "username",
        "practice",
        "action",
        "object_type",
        "object_id",
        "ip_address",
        "source",
    ]
    list_filter = ["action", "source", "practice"]
    search_fields = ["username", "object_type", "object_id"]
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- Reference data (editable here until the user-facing settings pages arrive) ----------------


@admin.register(Provider)
class ProviderAdmin(admin.ModelAdmin):
    list_display = ["__str__", "npi", "taxonomy_code", "role", "practice", "is_active"]
    list_filter = ["practice", "role", "is_active"]
    search_fields = ["last_name", "first_name", "npi"]


class CoverageInline(admin.TabularInline):
    model = Coverage
    extra = 0
    fields = ["payer", "priority", "member_id", "group_number", "relationship", "effective_date", "end_date"]


class ConsentInline(admin.TabularInline):
    """Consent history is append-only: shown here, recorded through the patient's pages."""

    model = ConsentEvent
    extra = 0
    can_delete = False
    readonly_fields = ["channel", "granted", "at", "method", "recorded_by"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Patient)
class PatientAdmin(admin.ModelAdmin):
    list_display = ["account_number", "last_name", "first_name", "date_of_birth", "practice"]
    list_filter = ["practice"]
    search_fields = ["account_number", "last_name", "first_name"]
    raw_id_fields = ["guarantor"]
    inlines = [CoverageInline, ConsentInline]


@admin.register(Payer)
class PayerAdmin(admin.ModelAdmin):
    list_display = ["name", "payer_id", "kind", "practice", "no_response_days", "is_active"]
    list_filter = ["practice", "kind"]
    search_fields = ["name", "payer_id"]


class FeeScheduleRowInline(admin.TabularInline):
    model = FeeScheduleRow
    extra = 0
    fields = ["procedure_code", "modifier", "facility", "allowed_amount"]


@admin.register(PayerContract)
class PayerContractAdmin(admin.ModelAdmin):
    list_display = ["name", "payer", "effective_date", "end_date", "in_network", "pricing_method", "practice"]
    list_filter = ["practice", "pricing_method", "in_network"]
    inlines = [FeeScheduleRowInline]

    def save_formset(self, request, form, formset, change):
        for instance in formset.save(commit=False):
            instance.practice_id = form.instance.practice_id
            instance.save()
        for obj in formset.deleted_objects:
            obj.delete()


@admin.register(ChargeMasterEntry)
class ChargeMasterEntryAdmin(admin.ModelAdmin):
    list_display = ["procedure_code", "modifier", "description", "charge", "practice", "is_active"]
    list_filter = ["practice", "is_active"]
    search_fields = ["procedure_code", "description"]
