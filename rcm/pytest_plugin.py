"""Loaded by pytest before Django (``-p rcm.pytest_plugin``): safe test defaults for settings that
production reads from the environment. Values already set (e.g. DATABASE_URL in CI) win. Settings that
only tests want and that no variable controls are in ``rcm.settings_test``."""

import os
import tempfile
from pathlib import Path

from django.conf import settings  # lazy: read once pytest-django has configured Django

_DEFAULTS = {
    "SECRET_KEY": "test-secret-key-not-for-production",
    "SECURE_SSL_REDIRECT": "false",
    "SESSION_COOKIE_SECURE": "false",
    "CSRF_COOKIE_SECURE": "false",
    "SECURE_HSTS_SECONDS": "0",
    "STATIC_MANIFEST": "false",
    "ALLOWED_HOSTS": "testserver,localhost,127.0.0.1",
    "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
}
for key, value in _DEFAULTS.items():
    os.environ.setdefault(key, value)

# Importing this module imported ``rcm`` and so ``rcm.celery``, which points DJANGO_SETTINGS_MODULE at the
# production settings for web and worker processes. The variable would then win over pyproject's
# DJANGO_SETTINGS_MODULE (rcm.settings_test): drop it, the suite never runs on production settings.
if os.environ.get("DJANGO_SETTINGS_MODULE") == "rcm.settings":
    del os.environ["DJANGO_SETTINGS_MODULE"]

# Each test run gets its own var/ (SQLite file, file-system broker folders) unless one is given. An xdist
# worker inherits the run's folder and takes a subfolder of its own, so no two workers share a broker
# queue or a results folder; the Celery workers that its tests start inherit that subfolder.
_var_dir = os.environ.setdefault("RCM_VAR_DIR", tempfile.mkdtemp(prefix="rcm-test-var-"))
_xdist_worker = os.environ.get("PYTEST_XDIST_WORKER")
if _xdist_worker and Path(_var_dir).name != _xdist_worker:
    os.environ["RCM_VAR_DIR"] = str(Path(_var_dir) / _xdist_worker)


def pytest_configure(config):
    """``--reuse-db`` keeps the test database between runs (no migrations at start-up). SQLite's test
    database lives in memory and dies with the process, so with the flag it is a file under the checkout's
    var/ instead (``test_rcm.sqlite3``; ``..._gw0``, ``..._gw1`` for xdist workers). Without the flag it
    stays in memory: a fresh database every run, and two runs at once never share one."""
    if not config.getoption("reuse_db", default=False):
        return
    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3" and not database.get("TEST", {}).get("NAME"):
        (settings.BASE_DIR / "var").mkdir(exist_ok=True)
        database.setdefault("TEST", {})["NAME"] = str(settings.BASE_DIR / "var" / "test_rcm.sqlite3")
