import pytest
import yaml
from django.core.management import call_command
from rest_framework.test import APIClient

from rcm.models import ApiToken
from rcm.services import api_token_hash, api_token_issue
from tests.conftest import login


def test_openapi_schema_is_generated_and_lists_the_core_endpoints(manager):
    response = login(manager).get("/api/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    assert schema["info"]["title"] == "RCM API"
    assert "/api/me/" in schema["paths"]
    assert "/api/audit-events/{id}/" in schema["paths"]


def test_api_docs_page_uses_self_hosted_assets(manager):
    response = login(manager).get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in html
    assert "cdn" not in html.lower()


def test_token_authentication_and_me(manager):
    key = api_token_issue(user=manager).key
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    body = client.get("/api/me/").json()
    assert body["username"] == "mona"
    assert body["current_practice"] == "riverside"
    assert body["role"] == "manager"
    assert [m["practice"]["slug"] for m in body["memberships"]] == ["riverside"]


def test_unauthenticated_api_request_gets_the_error_format(db):
    response = APIClient().get("/api/me/")
    assert response.status_code in (401, 403)
    assert response.json()["error"]["code"] == "not_authenticated"


def test_create_api_token_command_prints_a_working_token(manager, capsys):
    call_command("create_api_token", "mona")
    key = capsys.readouterr().out.strip().splitlines()[-1]
    assert ApiToken.objects.get(user=manager).key_hash == api_token_hash(key)


def test_create_api_token_command_names_an_unknown_user(db):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="No user named 'nobody'"):
        call_command("create_api_token", "nobody")


def test_account_page_issues_a_new_token_and_revokes_the_old(manager):
    old = api_token_issue(user=manager)
    client = login(manager)
    response = client.post("/account/")
    new = ApiToken.objects.get(user=manager, revoked_at__isnull=True)
    assert new.pk != old.token.pk
    key = response.context["new_token"]
    assert new.key_hash == api_token_hash(key) and key in response.content.decode()
    old.token.refresh_from_db()
    assert old.token.revoked_at is not None
