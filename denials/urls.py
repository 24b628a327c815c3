"""URLs of the Denials app; pages are added here as the app's issues land."""

app_name = "denials"
urlpatterns: list = []
