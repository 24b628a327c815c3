"""URLs of the Payment plans app; pages are added here as the app's issues land."""

app_name = "payment_plans"
urlpatterns: list = []
