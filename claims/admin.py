"""Claims in the admin are read-only: claims change through charge entry and the state machine,
money only through the ledger service."""

from django import forms
from django.contrib import admin

from claims.models import (
    Claim,
    ClaimLine,
    ClaimStatusChange,
    Clearinghouse,
    MueLimit,
    NcciPtpEdit,
    ScrubRuleSetting,
    Transaction,
)
from claims.scrubber.rules import RULES


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
    fields = [
        "line_number",
        "procedure_code",
        "modifiers",
        "units",
        "charge",
        "service_date_from",
        "insurance_balance",
        "patient_balance",
    ]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Claim)
class ClaimAdmin(ReadOnlyAdmin):
    list_display = [
        "patient_control_number",
        "service_date",
        "status",
        "payer",
        "charge_total",
        "insurance_balance",
        "patient_balance",
        "practice",
    ]
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


@admin.register(Clearinghouse)
class ClearinghouseAdmin(admin.ModelAdmin):
    """EDI identities and SFTP drop per practice. The password is never stored: ``sftp_secret_ref``
    names an environment variable or a file."""

    list_display = ["name", "practice", "submitter_id", "receiver_id", "production", "sftp_host", "is_active"]
    list_filter = ["practice", "production", "is_active"]


@admin.register(ScrubRuleSetting)
class ScrubRuleSettingAdmin(admin.ModelAdmin):
    list_display = ["rule_code", "payer", "enabled", "practice"]
    list_filter = ["practice", "enabled", "rule_code"]

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        if db_field.name == "rule_code":
            return forms.ChoiceField(
                choices=[(code, f"{code}: {rule.title}") for code, rule in RULES.items()]
            )
        return super().formfield_for_dbfield(db_field, request, **kwargs)


@admin.register(NcciPtpEdit)
class NcciPtpEditAdmin(ReadOnlyAdmin):
    """Loaded from the CMS files with ``load_ncci``."""

    list_display = ["column1", "column2", "effective_date", "deletion_date", "modifier_indicator"]
    search_fields = ["column1", "column2"]


@admin.register(MueLimit)
class MueLimitAdmin(ReadOnlyAdmin):
    list_display = ["procedure_code", "max_units", "adjudication_indicator"]
    search_fields = ["procedure_code"]
