"""Roles and what each may do: the one place permissions are defined.

Views, API views and navigation ask ``role_can(role, permission)``; nothing else decides access.
"""

from django.db import models


class Role(models.TextChoices):
    BILLER = "biller", "Biller"
    COLLECTIONS = "collections", "Collections specialist"
    MANAGER = "manager", "Practice manager"
    ADMIN = "admin", "Administrator"


B, C, M, A = Role.BILLER, Role.COLLECTIONS, Role.MANAGER, Role.ADMIN

PERMISSIONS: dict[str, frozenset[str]] = {
    # patients and their accounts
    "patients.view": frozenset({B, C, M, A}),
    "patients.edit": frozenset({B, C, A}),
    # claims, charges and the claim ledger
    "claims.view": frozenset({B, C, M, A}),
    "claims.edit": frozenset({B, A}),
    "claims.queues": frozenset({B, A}),
    # payers, contracts, fee schedules
    "payers.view": frozenset({B, M, A}),
    "payers.edit": frozenset({A}),
    # patient balances, payment plans, collections
    "collections.view": frozenset({C, M, A}),
    "collections.edit": frozenset({C, A}),
    "collections.policy": frozenset({M, A}),
    # denials and appeals
    "denials.view": frozenset({B, M, A}),
    "denials.edit": frozenset({B, A}),
    # dashboards and reports
    "kpis.view": frozenset({M, A}),
    "kpis.targets": frozenset({M, A}),
    # audit trail and settings
    "audit.view": frozenset({M, A}),
    "settings.edit": frozenset({A}),
}


def role_can(role: str | None, permission: str) -> bool:
    if permission not in PERMISSIONS:
        raise KeyError(f"Unknown permission {permission!r}; add it to rcm.roles.PERMISSIONS")
    return role is not None and role in PERMISSIONS[permission]
