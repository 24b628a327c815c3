"""URLs of the Claims app; pages are added here as the app's issues land."""

app_name = "claims"
urlpatterns: list = []
