"""URLs of the KPIs app."""

from django.urls import path, register_converter

from kpis import views


class FourDigits:
    """A year in a report's address (yyyy); a month (mm) below."""

    regex = "[0-9]{4}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return f"{value:04d}"


class TwoDigits(FourDigits):
    regex = "[0-9]{2}"

    def to_url(self, value) -> str:
        return f"{value:02d}"


register_converter(FourDigits, "yyyy")
register_converter(TwoDigits, "mm")

app_name = "kpis"
urlpatterns = [
    path("", views.dashboard, name="dashboard"),
    path("recompute/", views.recompute, name="recompute"),
    path("claims/", views.claims, name="claims"),
    path("export.xlsx", views.kpi_table_export, name="kpi_table_export"),
    path("targets/", views.targets, name="targets"),
    path("costs/", views.costs, name="costs"),
    path("views/", views.saved_view_create, name="saved_view_create"),
    path("views/<int:view_id>/delete/", views.saved_view_delete, name="saved_view_delete"),
    path("report/<yyyy:year>-<mm:month>.pdf", views.report, name="report"),
    path("payers/", views.scorecard, name="scorecard"),
    path("payers/<int:payer_id>/", views.scorecard_payer, name="scorecard_payer"),
    path("payers/<int:payer_id>/scorecard.pdf", views.scorecard_payer_pdf, name="scorecard_payer_pdf"),
]
