"""The demo logins: one user per role, created by ``seed_demo`` and printed by ``make run``.
They exist only in development databases (``seed_demo`` refuses to run with DEBUG off)."""

from rcm.roles import Role

DEMO_PASSWORD = "rcm-demo-2026"  # noqa: S105 - documented demo login, never created in production

DEMO_USERS: list[tuple[str, str, str, str]] = [
    # username, first name, last name, role
    ("biller", "Brianna", "Lopez", Role.BILLER),
    ("collections", "Carlos", "Nguyen", Role.COLLECTIONS),
    ("manager", "Maya", "Patel", Role.MANAGER),
    ("admin", "Alex", "Kim", Role.ADMIN),
]
