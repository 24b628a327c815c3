from django.apps import AppConfig


class DenialsConfig(AppConfig):
    name = "denials"
    verbose_name = "Denials"
    default_auto_field = "django.db.models.BigAutoField"
