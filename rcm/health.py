"""Liveness and readiness: the database answers a query and the Celery broker accepts a connection."""

from django.conf import settings
from django.db import connection
from kombu import Connection

from rcm.celery import app


def check_database() -> str | None:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:  # noqa: BLE001 - any failure means "down"; the kind is reported
        return f"{type(exc).__name__}"
    return None


def check_broker() -> str | None:

    try:
        url = app.conf.broker_url
        options = app.conf.broker_transport_options or {}
        with Connection(
            url, transport_options=options, connect_timeout=settings.RCM_HEALTHCHECK_TIMEOUT
        ) as conn:
            conn.ensure_connection(max_retries=1, timeout=settings.RCM_HEALTHCHECK_TIMEOUT)
            # For the file-system transport "connected" means the folders exist and are writable.
            conn.default_channel  # noqa: B018 - opening the channel is the check
    except Exception as exc:  # noqa: BLE001
        return f"{type(exc).__name__}"
    return None


def health_report() -> tuple[bool, dict]:
    problems = {"database": check_database(), "broker": check_broker()}
    report = {name: ("ok" if problem is None else f"down ({problem})") for name, problem in problems.items()}
    healthy = all(problem is None for problem in problems.values())
    report["status"] = "ok" if healthy else "failing: " + ", ".join(k for k, v in problems.items() if v)
    return healthy, report
