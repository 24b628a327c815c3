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
    "payers.edit": frozenset({M, A}),  # the manager keeps contracts and fee schedules
    # patient balances, payment plans, collections
    "collections.view": frozenset({C, M, A}),
    "collections.edit": frozenset({C, A}),
    "collections.policy": frozenset({M, A}),
    # denials and appeals
    "denials.view": frozenset({B, M, A}),
    "denials.edit": frozenset({B, A}),
    "denials.rules": frozenset({M, A}),  # the root-cause rules (CARC → category, owner, what to do)
    # underpayments against contracts: the underpaid queue, appeal, accept, recovered, drift findings
    "underpayments.view": frozenset({B, M, A}),
    "underpayments.edit": frozenset({B, M, A}),
    # dashboards and reports
    "kpis.view": frozenset({M, A}),
    "kpis.targets": frozenset({M, A}),
    "kpis.scorecard": frozenset({M, A}),
    # audit trail and settings
    "audit.view": frozenset({M, A}),
    "settings.edit": frozenset({A}),
}


def role_can(role: str | None, permission: str) -> bool:
    if permission not in PERMISSIONS:
        raise KeyError(f"Unknown permission {permission!r}; add it to rcm.roles.PERMISSIONS")
    return role is not None and role in PERMISSIONS[permission]


# 837 batch files carry full PHI and diagnoses for every claim on them: billers and administrators download
# them; collections specialists and practice managers only where their practice allows it
# (``Practice.viewers_download_batches``, on the team page).
BATCH_DOWNLOAD_ROLES = frozenset({B, A})
BATCH_DOWNLOAD_IF_ALLOWED_ROLES = frozenset({C, M})


BATCH_DOWNLOAD_REFUSED = (
    "837 files carry every patient's details and diagnoses: in this practice only billers and "
    "administrators download them (an administrator can allow managers and collections on the Team page)."
)


def role_can_download_batches(role: str | None, practice) -> bool:
    if role in BATCH_DOWNLOAD_ROLES:
        return True
    return role in BATCH_DOWNLOAD_IF_ALLOWED_ROLES and bool(
        getattr(practice, "viewers_download_batches", False)
    )
