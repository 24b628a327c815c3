import os
import subprocess
import sys
from pathlib import Path

import pytest

from rcm.celery import app as celery_app

ROOT = Path(__file__).resolve().parents[2]


def _env_without(*names, **extra):
    env = {k: v for k, v in os.environ.items() if k not in names}
    env.update(extra)
    return env


def test_missing_secret_key_with_debug_off_stops_start_up_with_a_clear_message():
    env = _env_without("SECRET_KEY", "DEBUG")
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_debug_on_runs_without_a_secret_key():
    env = _env_without("SECRET_KEY", DEBUG="true")
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr


def test_malformed_boolean_names_the_variable():
    env = _env_without("DEBUG", DEBUG="maybe")
    result = subprocess.run(
        [sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )
    assert result.returncode != 0
    assert "DEBUG must be a boolean" in result.stderr


@pytest.mark.django_db
def test_healthz_reports_database_and_broker_ok(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "broker": "ok", "status": "ok"}


@pytest.mark.django_db
def test_healthz_names_a_stopped_broker(client, monkeypatch):
    # Celery lets the CELERY_BROKER_URL variable win over its configuration: point both at a closed port.
    monkeypatch.setenv("CELERY_BROKER_URL", "redis://127.0.0.1:1/0")
    monkeypatch.setitem(celery_app.conf, "broker_url", "redis://127.0.0.1:1/0")
    monkeypatch.setitem(celery_app.conf, "broker_transport_options", {})
    response = client.get("/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["database"] == "ok"
    assert body["broker"].startswith("down (")
    assert body["status"] == "failing: broker"


@pytest.mark.django_db
def test_healthz_names_a_failing_database(client, monkeypatch):
    monkeypatch.setattr("rcm.health.check_database", lambda: "OperationalError")
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["database"] == "down (OperationalError)"
    assert response.json()["status"] == "failing: database"
