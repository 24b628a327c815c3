from django.apps import AppConfig


class DenialsConfig(AppConfig):
    name = "denials"
    verbose_name = "Denials"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imports here, not at the top: these modules import the models, which need the app registry ready.
        from claims.panels import CLAIM_PANELS
        from claims.remittances import reason_codes
        from claims.remittances.posting import DENIAL_HANDLERS, PAYMENT_HANDLERS
        from denials import reference
        from denials.services import denials_overturn_paid, denials_record
        from denials.views import claim_panel

        if denials_record not in DENIAL_HANDLERS:
            DENIAL_HANDLERS.append(denials_record)
        if denials_overturn_paid not in PAYMENT_HANDLERS:
            PAYMENT_HANDLERS.append(denials_overturn_paid)
        if claim_panel not in CLAIM_PANELS:
            CLAIM_PANELS.append(claim_panel)
        reason_codes.register(reference)
