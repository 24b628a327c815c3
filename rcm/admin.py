from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from rcm.models import AuditEvent, Membership, Practice, User


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

    list_display = ["at", "username", "practice", "action", "object_type", "object_id", "ip_address", "source"]
    list_filter = ["action", "source", "practice"]
    search_fields = ["username", "object_type", "object_id"]
    date_hierarchy = "at"

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
