"""Sign-in hardening (issue 16 item 3): lockout after wrong passwords, idle sign-out, hashed expiring
revocable API tokens answering 401, tokens of a session revoked at its sign-out, optional TOTP two-factor."""

import datetime
import importlib
import time

import pytest
from django.apps import apps
from django.test import Client
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from rcm.models import ApiToken, AuditEvent
from rcm.services import api_token_hash, api_token_issue
from rcm.signin import SESSION_LAST_ACTIVITY

PASSWORD = "correct-horse-battery"


def sign_in(username, password=PASSWORD, client=None):
    client = client or Client()
    response = client.post("/login/", {"username": username, "password": password})
    return client, response


def _signed_in(client) -> bool:
    return "_auth_user_id" in client.session


# --- lockout ----------------------------------------------------------------------------------------


def test_after_five_wrong_passwords_the_right_one_is_refused(manager, biller):
    client = Client()
    for _ in range(5):
        _, response = sign_in("mona", "wrong-password-here", client)
        assert response.status_code in (200, 429)
    _, response = sign_in("mona", PASSWORD, client)
    assert response.status_code == 429
    assert "Too many wrong passwords" in response.content.decode()
    assert not _signed_in(client)
    # Another user from the same address is not locked out.
    other, response = sign_in("bill")
    assert response.status_code == 302 and _signed_in(other)


def test_four_wrong_passwords_then_the_right_one_signs_in(manager):
    client = Client()
    for _ in range(4):
        sign_in("mona", "wrong-password-here", client)
    _, response = sign_in("mona", PASSWORD, client)
    assert response.status_code == 302 and _signed_in(client)


# --- idle timeout -----------------------------------------------------------------------------------


def _idle_for(client, minutes):
    session = client.session
    session[SESSION_LAST_ACTIVITY] = int(time.time()) - minutes * 60
    session.save()


def test_sixteen_idle_minutes_sign_the_session_out(manager):
    client, _ = sign_in("mona")
    _idle_for(client, 16)
    response = client.get("/audit/")
    assert response.status_code == 302
    assert response.url == "/login/?next=/audit/"
    assert not _signed_in(client)
    assert AuditEvent.objects.filter(action="logout", user=manager).count() == 1


def test_a_request_within_the_timeout_moves_the_deadline_on(manager):
    client, _ = sign_in("mona")
    _idle_for(client, 14)
    assert client.get("/audit/").status_code == 200
    assert int(time.time()) - client.session[SESSION_LAST_ACTIVITY] < 5
    assert client.session.get_expiry_age() == 15 * 60


def test_the_practice_sets_its_own_idle_timeout(manager, practice):
    practice.idle_timeout_minutes = 60
    practice.save()
    client, _ = sign_in("mona")
    _idle_for(client, 45)
    assert client.get("/audit/").status_code == 200


def test_an_idle_api_session_answers_401_in_the_error_format(manager):
    client, _ = sign_in("mona")
    _idle_for(client, 20)
    response = client.get("/api/me/")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "session_expired"


# --- API tokens -------------------------------------------------------------------------------------


def _api(key):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def test_only_the_hash_of_a_token_is_stored(manager):
    issued = api_token_issue(user=manager)
    row = ApiToken.objects.get(user=manager)
    assert row.key_hash == api_token_hash(issued.key) and row.prefix == issued.key[:8]
    assert issued.key not in str(ApiToken.objects.values().get())
    assert _api(issued.key).get("/api/me/").json()["username"] == "mona"


@pytest.mark.parametrize("spoil", ["bad", "expired", "revoked", "inactive"])
def test_a_bad_expired_or_revoked_token_answers_401_in_json(manager, spoil):
    issued = api_token_issue(user=manager)
    key = issued.key
    if spoil == "bad":
        key = "x" * 43
    elif spoil == "expired":
        ApiToken.objects.filter(pk=issued.token.pk).update(
            expires_at=timezone.now() - datetime.timedelta(seconds=1)
        )
    elif spoil == "revoked":
        ApiToken.objects.filter(pk=issued.token.pk).update(revoked_at=timezone.now())
    else:
        manager.is_active = False
        manager.save()
    response = _api(key).get("/api/me/", HTTP_ACCEPT="text/html")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/json"
    assert response["WWW-Authenticate"] == "Token"
    assert response.json()["error"] == {
        "status": 401,
        "code": "authentication_failed",
        "message": "Invalid, expired or revoked token.",
        "fields": {},
    }


def test_tokens_expire_after_the_configured_days(manager, settings):
    settings.RCM_API_TOKEN_DAYS = 30
    before = timezone.now()
    token = api_token_issue(user=manager).token
    assert datetime.timedelta(days=30) <= token.expires_at - before < datetime.timedelta(days=30, seconds=5)


def test_many_wrong_tokens_from_one_address_are_throttled(db):
    client = _api("y" * 43)
    statuses = [client.get("/api/me/").status_code for _ in range(21)]
    assert statuses == [401] * 20 + [429]


def test_a_session_token_is_revoked_at_sign_out_and_a_script_token_is_not(manager):
    client, _ = sign_in("mona")
    script = api_token_issue(user=manager)
    page = client.post("/account/", {"lifetime": "session"})
    session_key = page.context["new_token"]
    assert _api(session_key).get("/api/me/").status_code == 200
    client.post("/logout/")
    assert _api(session_key).get("/api/me/").status_code == 401
    assert _api(script.key).get("/api/me/").status_code == 200


def test_the_account_page_revokes_a_token(manager):
    client, _ = sign_in("mona")
    issued = api_token_issue(user=manager)
    client.post("/account/", {"revoke": str(issued.token.pk)})
    assert _api(issued.key).get("/api/me/").status_code == 401


def test_plain_text_tokens_from_before_are_hashed_by_the_migration_and_keep_working(manager):
    old = Token.objects.create(user=manager)
    migration = importlib.import_module("rcm.migrations.0007_signin_policy_and_hashed_api_tokens")
    migration.hash_existing_tokens(apps, None)
    assert not Token.objects.exists()
    assert ApiToken.objects.get(user=manager).key_hash == api_token_hash(old.key)
    assert _api(old.key).get("/api/me/").json()["username"] == "mona"


# --- two-factor -------------------------------------------------------------------------------------


def _code(device) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def test_a_user_with_two_factor_gives_a_code_before_any_page(manager, settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0  # django-otp makes each retry after a wrong code wait longer
    device = TOTPDevice.objects.create(user=manager, name="phone", confirmed=True)
    client, response = sign_in("mona")
    assert client.get("/audit/").url == "/login/verify/?next=/audit/"
    assert client.get("/api/me/").json()["error"]["code"] == "two_factor_required"
    wrong = client.post("/login/verify/", {"code": "000000" if _code(device) != "000000" else "111111"})
    assert wrong.status_code == 200 and "does not match" in wrong.content.decode()
    assert AuditEvent.objects.filter(action="login_failed", user=manager).count() == 1
    done = client.post("/login/verify/", {"code": _code(device), "next": "/audit/"})
    assert done.url == "/audit/"
    assert client.get("/audit/").status_code == 200


def test_a_practice_that_requires_two_factor_sends_its_manager_to_enrol(manager, biller, practice):
    practice.require_two_factor = True
    practice.save()
    _, biller_response = sign_in("bill")  # billers are not asked
    assert biller_response.url == "/"
    client, _ = sign_in("mona")
    assert client.get("/").url == "/account/two-factor/?next=/"
    page = client.get("/account/two-factor/")
    assert "<svg" in page.content.decode()
    device = TOTPDevice.objects.get(user=manager, confirmed=False)
    response = client.post("/account/two-factor/", {"code": _code(device)})
    assert response.url == "/"
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/").status_code == 200
    event = AuditEvent.objects.get(object_type="rcm.user", object_id=str(manager.pk), action="update")
    assert event.changes == {"two_factor": [False, True]}


def test_a_session_from_before_the_policy_gets_it_on_its_next_request(manager):
    TOTPDevice.objects.create(user=manager, name="phone", confirmed=True)
    client, _ = sign_in("mona")
    session = client.session
    del session[SESSION_LAST_ACTIVITY]
    del session["two_factor"]
    session.save()
    assert client.get("/audit/").url == "/login/verify/?next=/audit/"
    assert int(time.time()) - client.session[SESSION_LAST_ACTIVITY] < 5


def test_a_password_alone_cannot_enrol_a_second_device_to_skip_the_code(manager):
    TOTPDevice.objects.create(user=manager, name="phone", confirmed=True)
    client, _ = sign_in("mona")
    assert client.get("/account/two-factor/").url == "/login/verify/?next=/account/two-factor/"
    assert (
        client.post("/account/two-factor/", {"code": "123456"}).url
        == "/login/verify/?next=/account/two-factor/"
    )
    assert TOTPDevice.objects.filter(user=manager).count() == 1


def test_a_second_wrong_code_at_once_is_told_to_wait(manager):
    device = TOTPDevice.objects.create(user=manager, name="phone", confirmed=True)
    client, _ = sign_in("mona")
    wrong = "000000" if _code(device) != "000000" else "111111"
    first = client.post("/login/verify/", {"code": wrong})
    assert [str(m) for m in first.context["messages"]] == [
        "That code does not match. Check the app's current code and try again."
    ]
    second = client.post("/login/verify/", {"code": _code(device)})  # even the right one waits its turn
    assert [str(m) for m in second.context["messages"]] == [
        "Too many wrong codes: wait 1 s, then type the app's current code."
    ]
    assert client.get("/audit/").status_code == 302
