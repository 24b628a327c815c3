from django.apps import AppConfig


class PaymentPlansConfig(AppConfig):
    name = "payment_plans"
    verbose_name = "Payment plans"
    default_auto_field = "django.db.models.BigAutoField"
