"""URLs of the KPIs app; pages are added here as the app's issues land."""

app_name = "kpis"
urlpatterns: list = []
