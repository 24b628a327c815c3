"""The suite runs on rcm.settings_test; production settings keep none of its shortcuts."""

import json
import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]

_PRINT_SETTINGS = (
    "import json; from django.conf import settings; "
    "print(json.dumps({'hashers': settings.PASSWORD_HASHERS, "
    "'cache': settings.CACHES['default']['BACKEND']}))"
)


def test_the_suite_runs_on_the_test_settings_with_a_fast_hasher_and_an_in_process_cache():
    assert os.environ["DJANGO_SETTINGS_MODULE"] == "rcm.settings_test"
    assert settings.PASSWORD_HASHERS == ["django.contrib.auth.hashers.MD5PasswordHasher"]
    assert settings.CACHES["default"]["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"


def test_each_xdist_worker_has_its_own_var_folder_cache_and_broker_folders():
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    assert settings.CACHES["default"]["LOCATION"] == f"rcm-tests-{worker}"
    var_dir = Path(os.environ["RCM_VAR_DIR"])
    assert settings.VAR_DIR == var_dir
    if worker != "main":
        assert var_dir.name == worker
    if settings.CELERY_BROKER_URL.startswith("filesystem://"):
        assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["data_folder_in"] == str(var_dir / "broker" / "queue")


def test_production_settings_keep_the_default_hashers_and_a_shared_cache():
    env = {key: value for key, value in os.environ.items() if key not in ("REDIS_URL", "CELERY_BROKER_URL")}
    env["DJANGO_SETTINGS_MODULE"] = "rcm.settings"
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", _PRINT_SETTINGS],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    printed = json.loads(result.stdout.strip().splitlines()[-1])
    assert printed["hashers"][0] == "django.contrib.auth.hashers.PBKDF2PasswordHasher"
    assert "django.contrib.auth.hashers.MD5PasswordHasher" not in printed["hashers"]
    assert printed["cache"] == "django.core.cache.backends.filebased.FileBasedCache"
