"""Admin registrations of the Payment plans app: read-only views; plans change through their services."""

from django.contrib import admin

from payment_plans.models import Installment, PaymentPlan, PlanPolicy, Reminder


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(PlanPolicy)
class PlanPolicyAdmin(ReadOnlyAdmin):
    list_display = ("practice", "minimum_balance", "maximum_term_months", "grace_days")


@admin.register(PaymentPlan)
class PaymentPlanAdmin(ReadOnlyAdmin):
    list_display = ("pk", "practice", "status", "total_amount", "frequency", "term", "start_date")
    list_filter = ("status", "frequency")


@admin.register(Installment)
class InstallmentAdmin(ReadOnlyAdmin):
    list_display = ("plan", "sequence", "due_date", "amount", "paid_amount", "status")


@admin.register(Reminder)
class ReminderAdmin(ReadOnlyAdmin):
    list_display = ("key", "channel", "status", "created_at", "sent_at")
    list_filter = ("status", "kind", "channel")
