"""Settings for the test suite (pytest's DJANGO_SETTINGS_MODULE): production settings with what only
tests want.

The environment defaults that production settings read at import time (a secret key, no HTTPS redirect, a
var/ folder of the run's own) come from ``rcm.pytest_plugin``, loaded before Django. Under pytest-xdist each
worker has its own var/ folder there (SQLite file, file-system broker folders, results, mail, uploads) and
pytest-django gives it its own test database (``test_rcm_gw0``...); a Celery worker that a test starts
inherits the folder through the environment and reads these settings too.
"""

import os

from rcm.settings import *  # noqa: F403

# A fast hasher: each test user's password is hashed once; PBKDF2 would cost a tenth of a second a time.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# The cache lives in the test process and is emptied before each test (tests/conftest.py), so one test's
# cached aggregates never reach the next. In-process memory is also each xdist worker's own: one worker's
# clear cannot wipe another's entries, as it would in a shared file cache or Redis database.
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": f"rcm-tests-{os.environ.get('PYTEST_XDIST_WORKER', 'main')}",
    }
}
