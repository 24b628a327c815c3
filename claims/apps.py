from django.apps import AppConfig


class ClaimsConfig(AppConfig):
    name = "claims"
    verbose_name = "Claims"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from claims.acknowledgments import register_applier
        from claims.models import X12FileKind
        from claims.posting import _apply_835

        register_applier(X12FileKind.ERA_835, _apply_835)
