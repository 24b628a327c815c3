"""The navigation, by role: an item shows only to roles that hold its permission."""

from django.urls import reverse

from rcm.roles import role_can

# (label, url name, permission or None for everyone signed in into a practice)
NAV_ITEMS: list[tuple[str, str, str | None]] = [
    ("Home", "home", None),
    ("Patients", "patients", "patients.view"),
    ("Claims", "claims:list", "claims.view"),
    ("Audit log", "audit_log", "audit.view"),
]


def nav_for(role: str | None, current_path: str) -> list[dict]:
    items = []
    for label, url_name, permission in NAV_ITEMS:
        if permission is not None and not role_can(role, permission):
            continue
        url = reverse(url_name)
        active = current_path == url if url == "/" else current_path.startswith(url)
        items.append({"label": label, "url": url, "active": active})
    return items
