"""The audit trail: who created, changed or viewed what.

Creates and updates of every model that inherits ``Audited`` are written by a ``post_save``
receiver, so nothing that saves through the ORM escapes the log; the actor, client IP and source
come from the context set by the request middleware, the API, or ``audit_context`` in commands
and tasks. Views of patient and claim detail pages are written with ``audit_view``.
Bulk paths (``bulk_create``, used by data generators) bypass it and are logged as one event.
"""

import contextlib
import dataclasses
import datetime
import decimal
from contextvars import ContextVar

from django.apps import apps
from django.db import models
from django.utils import timezone

from rcm.auditable import Audited
from rcm.bulk import bulk_insert_rows
from rcm.models import AuditAction, AuditEvent, Practice


@dataclasses.dataclass(frozen=True)
class AuditContext:
    user: object | None = None
    ip_address: str | None = None
    source: str = "web"
    enabled: bool = True


_context: ContextVar[AuditContext] = ContextVar("audit_context", default=AuditContext(source="system"))  # noqa: B039 - frozen


def current_context() -> AuditContext:
    return _context.get()


@contextlib.contextmanager
def audit_context(*, user=None, ip_address=None, source="command", enabled=True):
    token = _context.set(AuditContext(user=user, ip_address=ip_address, source=source, enabled=enabled))
    try:
        yield
    finally:
        _context.reset(token)


def set_context(**kwargs):
    """Replace the context for the rest of this request (used by middleware and the API).
    Returns the token that ``reset_context`` takes to restore the previous one."""
    return _context.set(AuditContext(**kwargs))


def reset_context(token) -> None:
    _context.reset(token)


def _jsonable(value):
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, datetime.datetime | datetime.date | datetime.time):
        return value.isoformat()
    if isinstance(value, models.Model):
        return value.pk
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _user_fields(user):
    if user is not None and getattr(user, "is_authenticated", False):
        return user, user.get_username()
    return None, ""


def audit_record(
    *,
    action: str,
    practice=None,
    object_type: str = "",
    object_id="",
    changes=None,
    user=None,
    ip_address=None,
):
    """Write one audit event with the current context's actor, IP and source (or those given)."""
    ctx = current_context()
    actor, username = _user_fields(user if user is not None else ctx.user)
    return AuditEvent.objects.create(
        user=actor,
        username=username,
        practice=practice,
        action=action,
        object_type=object_type,
        object_id=str(object_id or ""),
        changes=_jsonable(changes or {}),
        ip_address=ip_address or ctx.ip_address,
        source=ctx.source,
    )


def audit_records_bulk(events: list[dict], *, user=None) -> int:
    """Write many audit events in one insert (bulk financial work: ERA posting, batch submission).
    Each dict has action, practice_id, object_type, object_id and changes (already JSON-ready: strings,
    numbers, lists); nothing is written when the context turns auditing off (data generators)."""
    ctx = current_context()
    if not ctx.enabled or not events:
        return 0

    actor, username = _user_fields(user if user is not None else ctx.user)
    now = timezone.now()
    return bulk_insert_rows(
        AuditEvent,
        [
            {
                "at": now,
                "user_id": actor.pk if actor else None,
                "username": username,
                "practice_id": event["practice_id"],
                "action": event["action"],
                "object_type": event["object_type"],
                "object_id": str(event["object_id"]),
                "changes": event.get("changes") or {},
                "ip_address": ctx.ip_address,
                "source": ctx.source,
            }
            for event in events
        ],
    )


def audit_creations(objs: list, *, user=None) -> int:
    """Write the create events that ``post_save`` would have written for ``objs`` (``Audited`` rows
    inserted in bulk, with their primary keys), in one insert."""
    return audit_records_bulk(
        [
            {
                "action": AuditAction.CREATE,
                "practice_id": getattr(obj, "practice_id", None),
                "object_type": obj._meta.label_lower,
                "object_id": obj.pk,
                "changes": _jsonable(obj.audit_changes(True)),
            }
            for obj in objs
            if isinstance(obj, Audited)
        ],
        user=user,
    )


def audit_view(request, obj) -> AuditEvent:
    """Record that the signed-in user opened the detail page (or API detail) of ``obj``."""
    return audit_record(
        action=AuditAction.VIEW,
        practice=getattr(obj, "practice", None),
        object_type=obj._meta.label_lower,
        object_id=obj.pk,
        user=request.user,
    )


def _practice_of(instance):
    if isinstance(instance, Practice):
        return instance
    practice_id = getattr(instance, "practice_id", None)
    return Practice(pk=practice_id) if practice_id else None


def on_audited_save(sender, instance, created, raw=False, **kwargs):
    if raw or not isinstance(instance, Audited) or not current_context().enabled:
        return
    changes = instance.audit_changes(created)
    if not created and not changes:
        return
    audit_record(
        action=AuditAction.CREATE if created else AuditAction.UPDATE,
        practice=_practice_of(instance),
        object_type=instance._meta.label_lower,
        object_id=instance.pk,
        changes=changes,
    )
    # After a save the row is what we hold: the next save diffs against it.
    instance._audit_loaded = instance.audit_snapshot()


def on_audited_delete(sender, instance, **kwargs):
    if not isinstance(instance, Audited) or not current_context().enabled:
        return
    audit_record(
        action=AuditAction.DELETE,
        practice=_practice_of(instance),
        object_type=instance._meta.label_lower,
        object_id=instance.pk,
    )


# --- Reading the log: what a reviewer sees ----------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class ChangeRow:
    """One line of an event's changes: ``label: old → new`` for a change, ``label: value`` for a fact."""

    label: str
    old: str
    new: str
    is_change: bool


def _readable_label(key: str) -> str:
    words = key.removesuffix("_id").replace("_", " ").strip()
    return (words[:1].upper() + words[1:]) if words else key


def _readable_value(value) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, str) and len(value) >= 19 and value[4:5] == "-" and value[10:11] == "T":
        try:
            moment = datetime.datetime.fromisoformat(value)
        except ValueError:
            return value
        if timezone.is_aware(moment):
            moment = timezone.localtime(moment)
        return moment.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, list | tuple):
        return ", ".join(_readable_value(item) for item in value)
    if isinstance(value, dict):
        return ", ".join(f"{key}: {_readable_value(item)}" for key, item in value.items())
    return str(value)


def audit_change_rows(event) -> list[ChangeRow]:
    """The event's ``changes`` as readable rows. Creates and updates store ``{field: [old, new]}``; other
    events (exports, views, sign-ins) store plain values (``{"file_name": "b.837"}``), shown as they are,
    never split into characters."""
    changes = event.changes
    if not isinstance(changes, dict):
        return [ChangeRow("Details", "", _readable_value(changes), False)] if changes else []
    pairs = event.action in (AuditAction.CREATE, AuditAction.UPDATE)
    rows = []
    for key, value in changes.items():
        if pairs and isinstance(value, list) and len(value) == 2:
            old, new = value
            rows.append(
                ChangeRow(_readable_label(key), _readable_value(old), _readable_value(new), old is not None)
            )
        else:
            rows.append(ChangeRow(_readable_label(key), "", _readable_value(value), False))
    return rows


def audit_object_label(object_type: str) -> str:
    """``claims.submissionbatch`` -> ``Submission batch`` (the model's own name), else as stored."""
    try:
        model = apps.get_model(object_type)
    except (LookupError, ValueError):
        return object_type
    name = str(model._meta.verbose_name)
    return name[:1].upper() + name[1:]


def audit_list_view(request, *, object_type: str, ids, object_id="", **facts) -> AuditEvent:
    """Record that the signed-in user saw a list of rows holding PHI (a page of patients, a batch's
    claims): which rows (their ids, never their names or the search term) and plain facts (page number,
    whether it was a search)."""
    return audit_record(
        action=AuditAction.VIEW,
        practice=getattr(request, "practice", None),
        object_type=object_type,
        object_id=object_id,
        changes={**facts, "ids": [int(pk) for pk in ids]},
        user=request.user,
    )
