"""The navigation, by role: an item shows only to roles that hold its permission."""

from django.urls import reverse

from rcm.roles import role_can

# (label, url name, permission or None for everyone signed in into a practice)
NAV_ITEMS: list[tuple[str, str, str | None]] = [
    ("Home", "home", None),
    ("Work queues", "claims:queues", "claims.queues"),
    ("Charge entry", "claims:new", "claims.edit"),
    ("Claims", "claims:list", "claims.view"),
    ("Patients", "patients", "patients.view"),
    ("Batches", "claims:batches", "claims.view"),
    ("X12 files", "claims:files", "claims.view"),
    ("Remittances", "remittances:list", "claims.view"),
    ("Denials", "denials:queue", "denials.view"),
    ("Underpayments", "underpayments:list", "underpayments.view"),
    ("Collections", "collections:worklist", "collections.view"),
    ("Payment plans", "payment_plans:list", "collections.view"),
    ("KPIs", "kpis:dashboard", "kpis.view"),
    ("Denial analytics", "denials:analytics", "denials.view"),
    ("Payer scorecard", "kpis:scorecard", "kpis.scorecard"),
    ("Payers", "payers:list", "payers.view"),
    ("Audit log", "audit_log", "audit.view"),
    ("Team", "team", "settings.edit"),
]


def nav_for(role: str | None, current_path: str) -> list[dict]:
    """The items the role may see; the one whose URL is the longest prefix of the current path is
    active (``/claims/queues/`` is Work queues, not Claims)."""
    items = []
    for label, url_name, permission in NAV_ITEMS:
        if permission is not None and not role_can(role, permission):
            continue
        items.append({"label": label, "url": reverse(url_name), "active": False})
    matching = [
        item
        for item in items
        if (current_path == item["url"] if item["url"] == "/" else current_path.startswith(item["url"]))
    ]
    if matching:
        max(matching, key=lambda item: len(item["url"]))["active"] = True
    return items
