"""No Docker engine runs here: check that docker-compose.yml and the Dockerfile name what exists."""

import tomllib
from pathlib import Path

import yaml
from django.core.management import get_commands

ROOT = Path(__file__).resolve().parents[2]


def test_compose_file_defines_the_stack_with_health_checks_and_a_database_volume():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "redis", "migrate", "web", "worker", "beat"}
    for name, service in services.items():
        assert name == "migrate" or "healthcheck" in service, name  # migrate runs once and exits
    assert "pgdata:/var/lib/postgresql/data" in services["postgres"]["volumes"]
    assert "pgdata" in compose["volumes"]
    for name in ("web", "worker", "beat"):
        assert services[name]["build"] == "."
        assert services[name]["environment"]["DATABASE_URL"].startswith("postgres://")
        assert services[name]["environment"]["CELERY_BROKER_URL"].startswith("redis://")
        # The app runs as the non-owner role; depends on migrations and the role's grants being done.
        assert services[name]["environment"]["DATABASE_URL"].startswith("postgres://rcm_app:")
        assert services[name]["depends_on"]["migrate"] == {"condition": "service_completed_successfully"}
    migrate = services["migrate"]
    assert migrate["environment"]["DATABASE_URL"].startswith("postgres://rcm:")
    assert "manage.py migrate" in migrate["command"][-1] and "manage.py db_roles" in migrate["command"][-1]
    assert "db_roles" in get_commands()
    assert "redisdata:/data" in services["redis"]["volumes"]


def test_compose_commands_point_at_things_that_exist():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    web = " ".join(services["web"]["command"])
    assert "migrate" in get_commands()
    assert "gunicorn rcm.wsgi:application" in web
    assert (ROOT / "rcm" / "wsgi.py").exists()
    assert services["worker"]["command"][:3] == ["celery", "-A", "rcm"]
    assert services["beat"]["command"][:4] == ["celery", "-A", "rcm", "beat"]
    assert (ROOT / "rcm" / "celery.py").exists()


def test_dockerfile_copies_every_app_and_installs_what_pyproject_declares():
    dockerfile = (ROOT / "Dockerfile").read_text()
    for app in ("rcm", "claims", "denials", "payment_plans", "kpis"):
        assert f"COPY {app} ./{app}" in dockerfile
    assert "pip install --no-cache-dir ." in dockerfile
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert any(dep.startswith("gunicorn") for dep in deps)
    assert any(dep.startswith("celery[redis]") for dep in deps)


def test_every_admin_list_and_add_page_opens(db, django_user_model, client, settings):
    from django.contrib.admin.sites import site
    from django.test import RequestFactory

    settings.RCM_PLATFORM_OPERATORS = ["root"]  # the Django admin is whole only for platform operators
    root = django_user_model.objects.create_superuser("root", "root@example.org", "x-long-password-1")
    admin_client = client
    admin_client.force_login(root)
    request = RequestFactory().get("/admin/")
    request.user = root

    for model, model_admin in site._registry.items():
        base = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        assert admin_client.get(base).status_code == 200, base
        expected = 200 if model_admin.has_add_permission(request) else 403
        assert admin_client.get(base + "add/").status_code == expected, base
