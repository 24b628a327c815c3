"""Loaded by pytest before Django (``-p rcm.pytest_plugin``): safe test defaults for settings that
production reads from the environment. Values already set (e.g. DATABASE_URL in CI) win."""

import os
import tempfile

_DEFAULTS = {
    "SECRET_KEY": "test-secret-key-not-for-production",
    "RCM_TESTING": "1",
    "SECURE_SSL_REDIRECT": "false",
    "SESSION_COOKIE_SECURE": "false",
    "CSRF_COOKIE_SECURE": "false",
    "SECURE_HSTS_SECONDS": "0",
    "STATIC_MANIFEST": "false",
    "ALLOWED_HOSTS": "testserver,localhost,127.0.0.1",
    "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    "CACHE_BACKEND": "locmem",  # emptied before each test (tests/conftest.py)
}
for key, value in _DEFAULTS.items():
    os.environ.setdefault(key, value)
# Each test run gets its own var/ (SQLite file, file-system broker folders) unless one is given.
os.environ.setdefault("RCM_VAR_DIR", tempfile.mkdtemp(prefix="rcm-test-var-"))
