"""The Django admin inside tenancy.

Every ``ModelAdmin`` registered anywhere (our apps' and third parties') goes through ``TenantAdminSite.
register``, which mixes ``TenantScopedAdmin`` in, so no admin can forget it:

- a **platform operator** (``RCM_PLATFORM_OPERATORS``: usernames of active superusers) sees everything;
- anyone else on staff sees only the practices where they are an active administrator: querysets, foreign-key
  and many-to-many choices (raw-id inputs are checked against them too), and the practice list filter (the
  ``?practice__id__exact=`` of another practice lists nothing); models that belong to no practice (reference
  tables, schedules, lockouts) are for operators only; they cannot make anyone staff or superuser;
- every change view and every list of practice rows opened is an audit event (``view``, with the ids shown),
  and every change made here is one too (``Audited`` models write their own field changes; for the others
  the admin's change message is written), with source ``admin``.

Day-to-day administration (team members and roles) lives in the app's own pages (``/settings/team/``).
"""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist

from rcm.audit import audit_record, current_context, reset_context, set_context
from rcm.auditable import Audited
from rcm.models import AuditAction, Practice
from rcm.roles import Role


def is_platform_operator(user) -> bool:
    return bool(
        user.is_authenticated
        and user.is_active
        and user.is_superuser
        and user.get_username() in getattr(settings, "RCM_PLATFORM_OPERATORS", ())
    )


def administered_practice_ids(request) -> list[int]:
    """The practices the user administers (cached on the request)."""
    if not hasattr(request, "_admin_practice_ids"):
        request._admin_practice_ids = list(
            request.user.memberships.filter(is_active=True, practice__is_active=True, role=Role.ADMIN)
            .values_list("practice_id", flat=True)
            .order_by("practice_id")
        )
    return request._admin_practice_ids


def _has_practice(model) -> bool:
    try:
        field = model._meta.get_field("practice")
    except FieldDoesNotExist:
        return False
    return field.is_relation and field.related_model is Practice


def is_tenant_model(model) -> bool:
    return model is Practice or model is get_user_model() or _has_practice(model)


def scope_queryset(queryset, request):
    """``queryset`` narrowed to what the request's user may reach in the admin."""
    if is_platform_operator(request.user):
        return queryset
    ids = administered_practice_ids(request)
    model = queryset.model
    if model is Practice:
        return queryset.filter(pk__in=ids)
    if model is get_user_model():
        return queryset.filter(memberships__practice_id__in=ids).distinct()
    if _has_practice(model):
        return queryset.filter(practice_id__in=ids)
    return queryset.none()


class ScopedPracticeFilter(admin.SimpleListFilter):
    """The practice filter, offering only the practices the user administers; it reads the same parameter
    as Django's own (``practice__id__exact``) so old links keep working, and is applied on top of the
    scoped queryset, so another practice's id lists nothing."""

    title = "practice"
    parameter_name = "practice__id__exact"

    def lookups(self, request, model_admin):
        return [(p.pk, p.name) for p in scope_queryset(Practice.objects.all(), request)]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        return queryset.filter(practice_id=value) if str(value).isdigit() else queryset.none()


OPERATOR_ONLY_USER_FIELDS = ("is_staff", "is_superuser", "groups", "user_permissions")


class _ScopedFormFields:
    """Choices of practice rows (and of practices and users) offered by the admin's forms: only those the
    user may reach; a raw-id input naming another practice's row is refused by the same queryset."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if is_tenant_model(db_field.related_model):
            queryset = kwargs.get("queryset")
            kwargs["queryset"] = scope_queryset(
                queryset if queryset is not None else db_field.related_model._default_manager.all(), request
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if is_tenant_model(db_field.related_model):
            queryset = kwargs.get("queryset")
            kwargs["queryset"] = scope_queryset(
                queryset if queryset is not None else db_field.related_model._default_manager.all(), request
            )
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class TenantScopedInline(_ScopedFormFields):
    def get_queryset(self, request):
        return scope_queryset(super().get_queryset(request), request)


class TenantScopedAdmin(_ScopedFormFields):
    def _allowed(self, request) -> bool:
        return is_platform_operator(request.user) or (
            is_tenant_model(self.model) and bool(administered_practice_ids(request))
        )

    def has_module_permission(self, request):
        return self._allowed(request) and super().has_module_permission(request)

    def has_view_permission(self, request, obj=None):
        return self._allowed(request) and super().has_view_permission(request, obj)

    def has_add_permission(self, request, *args):
        # Practices and users are added by operators (people join a practice on its Team page).
        platform_rows = self.model is Practice or self.model is get_user_model()
        if not self._allowed(request) or (platform_rows and not is_platform_operator(request.user)):
            return False
        return super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None):
        if (
            obj is not None
            and isinstance(obj, get_user_model())
            and not is_platform_operator(request.user)
            and not _only_in(obj, administered_practice_ids(request))
        ):
            # Someone who also works for another practice: changing their account (password, name) here
            # would reach into that practice too.
            return False
        return self._allowed(request) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if self.model is Practice and not is_platform_operator(request.user):
            return False
        return self._allowed(request) and super().has_delete_permission(request, obj)

    def get_queryset(self, request):
        return scope_queryset(super().get_queryset(request), request)

    def get_list_filter(self, request):
        filters = list(super().get_list_filter(request))
        if is_platform_operator(request.user):
            return filters
        return [ScopedPracticeFilter if f in ("practice", "practice__id") else f for f in filters]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if self.model is get_user_model() and not is_platform_operator(request.user):
            fields += [f for f in OPERATOR_ONLY_USER_FIELDS if f not in fields]
        return fields

    # --- audit: reads and changes made through the admin ----------------------------------------------

    def _as_admin(self, request):
        ctx = current_context()
        return set_context(user=request.user, ip_address=ctx.ip_address, source="admin", enabled=ctx.enabled)

    def changelist_view(self, request, extra_context=None):
        token = self._as_admin(request)
        try:
            response = super().changelist_view(request, extra_context)
            changelist = (getattr(response, "context_data", None) or {}).get("cl")
            if changelist is not None and is_tenant_model(self.model):
                rows = list(changelist.result_list)
                audit_record(
                    action=AuditAction.VIEW,
                    object_type=self.model._meta.label_lower,
                    changes={"admin": "list", "ids": [row.pk for row in rows]},
                    practice=_single_practice(rows),
                )
            return response
        finally:
            reset_context(token)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        token = self._as_admin(request)
        try:
            response = super().changeform_view(request, object_id, form_url, extra_context)
            if object_id and request.method == "GET" and getattr(response, "status_code", 200) == 200:
                obj = (getattr(response, "context_data", None) or {}).get("original")
                audit_record(
                    action=AuditAction.VIEW,
                    object_type=self.model._meta.label_lower,
                    object_id=object_id,
                    changes={"admin": "change form"},
                    practice=_practice_of(obj),
                )
            return response
        finally:
            reset_context(token)

    def delete_view(self, request, object_id, extra_context=None):
        token = self._as_admin(request)
        try:
            return super().delete_view(request, object_id, extra_context)
        finally:
            reset_context(token)

    def _log_admin_change(self, request, obj, action, message):
        if isinstance(obj, Audited):
            return  # its own post_save / post_delete wrote the event, with the fields changed
        audit_record(
            action=action,
            object_type=obj._meta.label_lower,
            object_id=obj.pk,
            changes={"admin": str(message) if message else ""},
            practice=_practice_of(obj),
        )

    def log_addition(self, request, obj, message):
        self._log_admin_change(request, obj, AuditAction.CREATE, message)
        return super().log_addition(request, obj, message)

    def log_change(self, request, obj, message):
        self._log_admin_change(request, obj, AuditAction.UPDATE, message)
        return super().log_change(request, obj, message)

    def log_deletions(self, request, queryset):
        for obj in queryset:
            self._log_admin_change(request, obj, AuditAction.DELETE, "deleted")
        return super().log_deletions(request, queryset)


def _only_in(user, practice_ids) -> bool:
    """Every practice ``user`` belongs to (active or not) is one of ``practice_ids``."""
    return not user.memberships.exclude(practice_id__in=practice_ids).exists()


def _practice_of(obj):
    if obj is None:
        return None
    if isinstance(obj, Practice):
        return obj
    practice_id = getattr(obj, "practice_id", None)
    return Practice(pk=practice_id) if practice_id else None


def _single_practice(rows):
    practice_ids = {getattr(row, "practice_id", None) for row in rows}
    practice_ids.discard(None)
    return Practice(pk=practice_ids.pop()) if len(practice_ids) == 1 else None


def _scoped(cls, mixin):
    if issubclass(cls, mixin):
        return cls
    return type(cls.__name__, (mixin, cls), {"__module__": cls.__module__})


class TenantAdminSite(admin.AdminSite):
    site_header = "RCM administration (platform)"

    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = _scoped(admin_class or admin.ModelAdmin, TenantScopedAdmin)
        admin_class.inlines = [_scoped(inline, TenantScopedInline) for inline in admin_class.inlines]
        return super().register(model_or_iterable, admin_class, **options)
