from django.apps import AppConfig


class PaymentPlansConfig(AppConfig):
    name = "payment_plans"
    verbose_name = "Payment plans"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        # Reminders sent show on the patient account's "sent to the patient" list.
        from payment_plans.reminders.selectors import reminder_sent_items
        from payment_plans.selectors import ACCOUNT_MESSAGE_SOURCES

        if reminder_sent_items not in ACCOUNT_MESSAGE_SOURCES:
            ACCOUNT_MESSAGE_SOURCES.append(reminder_sent_items)
