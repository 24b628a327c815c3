from django.apps import AppConfig
from django.db.models.signals import post_delete, post_save

from rcm.practice_cache import claims_changed


class ClaimsConfig(AppConfig):
    name = "claims"
    verbose_name = "Claims"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imports here, not at the top: these modules import the models, which need the app registry ready.
        from claims.edi.acknowledgments import _apply_277ca, _apply_999
        from claims.edi.intake import register_applier
        from claims.models import Claim, X12FileKind
        from claims.remittances.posting import _apply_835
        from rcm.models import Payer, PayerContract

        register_applier(X12FileKind.ACK_999, _apply_999)
        register_applier(X12FileKind.ACK_277CA, _apply_277ca)
        register_applier(X12FileKind.ERA_835, _apply_835)

        # Cached practice aggregates (rcm.practice_cache): the services renew them; a claim saved one by one
        # (an administrator's edit) does too, and queue counts depend on the payers' no-response days and
        # the contracts' deadlines.
        def reference_changed(sender, instance, **kwargs):
            claims_changed([instance.practice_id])

        for model in (Claim, Payer, PayerContract):
            post_save.connect(
                reference_changed,
                sender=model,
                weak=False,
                dispatch_uid=f"practice_cache_{model.__name__}_save",
            )
            post_delete.connect(
                reference_changed,
                sender=model,
                weak=False,
                dispatch_uid=f"practice_cache_{model.__name__}_delete",
            )
