"""Admin registrations of the KPIs app: a practice's own target bands are edited here."""

from django.contrib import admin

from kpis.models import KpiTarget


@admin.register(KpiTarget)
class KpiTargetAdmin(admin.ModelAdmin):
    list_display = ["practice", "kpi", "good", "warn"]
    list_filter = ["practice"]
