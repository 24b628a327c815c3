from django.apps import AppConfig


class DenialsConfig(AppConfig):
    name = "denials"
    verbose_name = "Denials"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imports here, not at the top: these modules import the models, which need the app registry ready.
        from claims.panels import CLAIM_PANELS
        from claims.queues.columns import queue_column_register
        from claims.remittances import reason_codes
        from claims.remittances.posting import DENIAL_HANDLERS, PAYMENT_HANDLERS
        from denials import reference
        from denials.claim_hooks import RISK_COLUMN, risk_panel
        from denials.services import denials_overturn_paid, denials_record
        from denials.views import claim_panel

        if denials_record not in DENIAL_HANDLERS:
            DENIAL_HANDLERS.append(denials_record)
        if denials_overturn_paid not in PAYMENT_HANDLERS:
            PAYMENT_HANDLERS.append(denials_overturn_paid)
        for panel in (risk_panel, claim_panel):
            if panel not in CLAIM_PANELS:
                CLAIM_PANELS.append(panel)
        reason_codes.register(reference)
        queue_column_register(RISK_COLUMN)
