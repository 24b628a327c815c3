"""Claims in the admin are read-only: claims change through charge entry and the state machine,
money only through the ledger service."""

from django.contrib import admin

from claims.models import Claim, ClaimLine, ClaimStatusChange, Transaction


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ClaimLineInline(admin.TabularInline):
    model = ClaimLine
    extra = 0
    fields = ["line_number", "procedure_code", "modifiers", "units", "charge", "service_date_from",
              "insurance_balance", "patient_balance"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Claim)
class ClaimAdmin(ReadOnlyAdmin):
    list_display = ["patient_control_number", "service_date", "status", "payer", "charge_total",
                    "insurance_balance", "patient_balance", "practice"]
    list_filter = ["practice", "status"]
    search_fields = ["patient_control_number", "payer_claim_number"]
    inlines = [ClaimLineInline]


@admin.register(Transaction)
class TransactionAdmin(ReadOnlyAdmin):
    list_display = ["posted_at", "claim", "line", "kind", "party", "amount", "source", "reason_code"]
    list_filter = ["practice", "kind", "source"]


@admin.register(ClaimStatusChange)
class ClaimStatusChangeAdmin(ReadOnlyAdmin):
    list_display = ["at", "claim", "from_status", "to_status", "by", "reason"]
    list_filter = ["practice", "to_status"]
