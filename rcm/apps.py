from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.contrib.auth.signals import user_logged_in, user_logged_out, user_login_failed
from django.db.models.signals import post_delete, post_save


class RcmConfig(AppConfig):
    name = "rcm"
    verbose_name = "RCM core"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Imported here, not at the top: they import the models, which need the app registry ready.
        from rcm import audit, signals, signin

        post_save.connect(audit.on_audited_save, dispatch_uid="rcm_audit_save")
        post_delete.connect(audit.on_audited_delete, dispatch_uid="rcm_audit_delete")
        user_logged_in.connect(signals.on_login, dispatch_uid="rcm_audit_login")
        user_logged_out.connect(signals.on_logout, dispatch_uid="rcm_audit_logout")
        user_logged_in.connect(signin.on_login, dispatch_uid="rcm_signin_policy")
        user_logged_out.connect(signin.on_logout, dispatch_uid="rcm_signin_revoke_session_tokens")
        user_login_failed.connect(signals.on_login_failed, dispatch_uid="rcm_audit_login_failed")


class RcmAdminConfig(admin_apps.AdminConfig):
    """The Django admin with its default site replaced by the tenant-scoped one (``rcm.admin_site``)."""

    default = False  # RcmConfig stays this module's default app config

    default_site = "rcm.admin_site.TenantAdminSite"
